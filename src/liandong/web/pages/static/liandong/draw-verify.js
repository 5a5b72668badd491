/* The public draw page's "Verify in this browser": recompute every draw of the campaign from the page's own data
 * (<script id="draw-data" type="application/json">) with WebCrypto, and say whether it matches. No framework, no
 * CDN, nothing fetched: what is checked is exactly what the page shows.
 *
 * The rule (shared/spec/campaigns.md "The fair draw", src/liandong/engine/draw.py):
 *   commitment = sha256(secret bytes), hex
 *   stream(j)  = HMAC-SHA256(key = secret bytes, msg = UTF-8 "campaign|e1,e2,...|j") read as a big-endian integer
 *   pick k of n: Fisher-Yates on the entries in join order, r = stream(j) % (n - j), swap j and j + r
 *   random split of M fen: cap = floor(2 * left / people left), share = 1 + stream(j) % (cap - 1) (1 when cap <= 1),
 *                          the last person gets what is left; equal split: floor(M / n), the leftover to the first
 *   blind box: from + stream(0) % (to - from + 1), no entries ("b1||0")
 * A group's secret is HMAC-SHA256(key = campaign secret, msg = "group|<draw>") (hex): once the campaign's secret is
 * published, every group's is checked against it, and the campaign's against the commitment shown at its creation.
 *
 * window.LiandongDraw exposes the recomputation (commitment, pick, splitRandom, splitEqual, position, recompute,
 * verifyRecord, verifyPage) so anyone can run it from the browser's console, and the tests against the rulebook's
 * test vectors and the engine.
 *
 * crypto.subtle exists only in a secure context: a page served over https://, or from localhost / 127.0.0.1. On
 * plain http from another host the browser hides it; the page then says so and points to `liandong verify-draw`
 * instead of failing silently. */
(function () {
  "use strict";

  var HEX64 = /^[0-9a-fA-F]{64}$/;
  var MONEY = /^(-?)(0|[1-9][0-9]*)\.([0-9]{2})$/;

  function subtle() {
    return (window.isSecureContext !== false && window.crypto && window.crypto.subtle) || null;
  }
  function available() { return subtle() !== null; }

  function hexBytes(hex) {
    if (typeof hex !== "string" || !HEX64.test(hex)) { throw new RecordError("secret", hex); }
    var out = new Uint8Array(32);
    for (var i = 0; i < 32; i++) { out[i] = parseInt(hex.substr(i * 2, 2), 16); }
    return out;
  }
  function toHex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ("0" + b.toString(16)).slice(-2); })
      .join("");
  }
  function toBigInt(buffer) {
    var hex = toHex(buffer);
    return hex ? BigInt("0x" + hex) : 0n;
  }

  function RecordError(key, value) {
    this.key = key;
    this.value = value;
    this.message = "key " + key + ": " + JSON.stringify(value);
  }

  async function sha256Hex(secretHex) {
    return toHex(await subtle().digest("SHA-256", hexBytes(secretHex)));
  }
  async function hmacKey(secretHex) {
    return subtle().importKey("raw", hexBytes(secretHex), {name: "HMAC", hash: "SHA-256"}, false, ["sign"]);
  }
  async function hmacHex(secretHex, message) {
    var key = await hmacKey(secretHex);
    return toHex(await subtle().sign("HMAC", key, new TextEncoder().encode(message)));
  }
  /* A draw's numbers: stream(j) for one secret, campaign and entry list (the key is imported once). */
  async function streamOf(secretHex, campaign, entries) {
    var key = await hmacKey(secretHex);
    var prefix = campaign + "|" + entries.join(",") + "|";
    var encoder = new TextEncoder();
    return async function (j) {
      return toBigInt(await subtle().sign("HMAC", key, encoder.encode(prefix + j)));
    };
  }

  async function pick(secretHex, campaign, entries, k) {
    var n = entries.length;
    if (!Number.isInteger(k) || k < 0 || k > n) { throw new RecordError("k", k); }
    var stream = await streamOf(secretHex, campaign, entries);
    var items = entries.slice();
    for (var j = 0; j < k; j++) {
      var r = Number((await stream(j)) % BigInt(n - j));
      var held = items[j];
      items[j] = items[j + r];
      items[j + r] = held;
    }
    return items.slice(0, k);
  }

  function fen(text, key) {
    var m = typeof text === "string" ? MONEY.exec(text) : null;
    if (m === null || text === "-0.00") { throw new RecordError(key || "amount", text); }
    var value = BigInt(m[2]) * 100n + BigInt(m[3]);
    return m[1] ? -value : value;
  }
  function yuan(value) {
    var v = BigInt(value);
    var sign = v < 0n ? "-" : "";
    if (v < 0n) { v = -v; }
    var cents = (v % 100n).toString();
    return sign + (v / 100n).toString() + "." + (cents.length < 2 ? "0" + cents : cents);
  }
  function checkSplit(amount, n) {
    if (n < 1) { throw new RecordError("entries", []); }
    if (amount < BigInt(n)) { throw new RecordError("amount", yuan(amount)); }
  }

  /* Shares in fen (BigInt), in entry order. */
  async function splitRandom(secretHex, campaign, entries, amountFen) {
    var amount = BigInt(amountFen);
    var n = entries.length;
    checkSplit(amount, n);
    var stream = await streamOf(secretHex, campaign, entries);
    var shares = [];
    var left = amount;
    for (var j = 0; j < n - 1; j++) {
      var cap = (2n * left) / BigInt(n - j);
      var share = cap > 1n ? 1n + (await stream(j)) % (cap - 1n) : 1n;
      shares.push(share);
      left -= share;
    }
    shares.push(left);
    return shares;
  }
  function splitEqual(amountFen, n) {
    var amount = BigInt(amountFen);
    checkSplit(amount, n);
    var base = amount / BigInt(n);
    var extra = Number(amount % BigInt(n));
    var shares = [];
    for (var i = 0; i < n; i++) { shares.push(i < extra ? base + 1n : base); }
    return shares;
  }
  async function position(secretHex, campaign, from, to) {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from > to) { throw new RecordError("window", [from, to]); }
    var stream = await streamOf(secretHex, campaign, []);
    return from + Number((await stream(0)) % BigInt(to - from + 1));
  }

  function strings(value, key) {
    if (!Array.isArray(value) || !value.every(function (v) { return typeof v === "string"; })) {
      throw new RecordError(key, value);
    }
    return value;
  }

  /* The result a record's own data gives, in the record's form (winners, two-decimal shares, a box number). */
  async function recompute(record) {
    if (record === null || typeof record !== "object") { throw new RecordError("record", record); }
    var op = record.operation;
    if (typeof record.campaign !== "string") { throw new RecordError("campaign", record.campaign); }
    var entries = op === "position" ? [] : strings(record.entries, "entries");
    if (op === "pick") { return pick(record.secret, record.campaign, entries, record.k); }
    if (op === "split_random") {
      return (await splitRandom(record.secret, record.campaign, entries, fen(record.amount))).map(yuan);
    }
    if (op === "split_equal") { return splitEqual(fen(record.amount), entries.length).map(yuan); }
    if (op === "position") {
      var w = record.window;
      if (!Array.isArray(w) || w.length !== 2) { throw new RecordError("window", w); }
      return position(record.secret, record.campaign, w[0], w[1]);
    }
    throw new RecordError("operation", op);
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  /* What differs in one record: [] when sha256(secret) is its commitment and its result recomputes. Each problem is
   * {what, computed, shown} (what: commitment, result, malformed). */
  async function verifyRecord(record) {
    var problems = [];
    try {
      if (record.secret !== null && record.secret !== undefined) {
        var actual = await sha256Hex(record.secret);
        if (typeof record.commitment !== "string" || actual !== record.commitment.toLowerCase()) {
          problems.push({what: "commitment", computed: actual, shown: record.commitment});
        }
      } else if (record.operation !== "split_equal") {
        throw new RecordError("secret", record.secret);
      } else if (record.commitment !== null && record.commitment !== undefined) {
        problems.push({what: "no_secret", computed: null, shown: record.commitment});
      }
      var expected = await recompute(record);
      if (!same(expected, record.result)) {
        problems.push({what: "result", computed: expected, shown: record.result, operation: record.operation});
      }
    } catch (e) {
      if (!(e instanceof RecordError)) { throw e; }
      problems.push({what: "malformed", key: e.key, shown: e.value});
    }
    return problems;
  }

  /* Every check of the page's data: each section's records, each record's commitment against the one published for
   * its draw, and (once the campaign's secret is out) the campaign's commitment and every group's secret. Returns
   * {ok, records, campaign: [problems], sections: [{draw, problems}]}. */
  async function verifyPage(data) {
    var out = {ok: true, records: 0, campaign: [], sections: []};
    if (data.secret) {
      try {
        var campaignHash = await sha256Hex(data.secret);
        if (campaignHash !== String(data.commitment).toLowerCase()) {
          out.campaign.push({what: "campaign_secret", computed: campaignHash, shown: data.commitment});
        }
      } catch (e) {
        if (!(e instanceof RecordError)) { throw e; }
        out.campaign.push({what: "malformed", key: "campaign secret", shown: data.secret});
      }
    }
    for (var i = 0; i < data.sections.length; i++) {
      var section = data.sections[i];
      var problems = [];
      var published = data.derived ? section.commitment : data.commitment;
      for (var r = 0; r < section.records.length; r++) {
        var record = section.records[r];
        out.records += 1;
        var found = await verifyRecord(record);
        if (record.commitment !== null && record.commitment !== undefined &&
            String(record.commitment).toLowerCase() !== String(published).toLowerCase()) {
          found.push({what: "published", computed: published, shown: record.commitment});
        }
        if (data.derived && data.secret && record.secret && HEX64.test(data.secret)) {
          var derived = await hmacHex(data.secret, "group|" + section.draw);
          if (derived !== String(record.secret).toLowerCase()) {
            found.push({what: "group_secret", computed: derived, shown: record.secret});
          }
        }
        found.forEach(function (p) { p.record = r + 1; p.draw = record.campaign; });
        problems = problems.concat(found);
      }
      out.sections.push({draw: section.draw, problems: problems});
      if (problems.length) { out.ok = false; }
    }
    if (out.campaign.length) { out.ok = false; }
    return out;
  }

  window.LiandongDraw = {
    available: available, commitment: sha256Hex, hmacHex: hmacHex, pick: pick, splitRandom: splitRandom,
    splitEqual: splitEqual, position: position, recompute: recompute, verifyRecord: verifyRecord,
    verifyPage: verifyPage, fen: fen, yuan: yuan
  };

  // --- the page -------------------------------------------------------------------------------------------------

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, name) {
      return values[name] === undefined || values[name] === null ? "" : String(values[name]);
    });
  }
  function shownValue(value, names) {
    if (Array.isArray(value)) {
      return value.map(function (v) { return shownValue(v, names); }).join(", ");
    }
    if (typeof value === "string" && Object.prototype.hasOwnProperty.call(names, value)) {
      return names[value];  // people by display name, as the page shows them (ids only for unknown entries)
    }
    return value === undefined || value === null ? "—" : typeof value === "string" ? value : JSON.stringify(value);
  }
  function describe(problem, texts, names) {
    var where = problem.record ? fill(texts.record, {number: problem.record, draw: problem.draw}) + " " : "";
    var template = texts["problem_" + problem.what] || texts.problem_result;
    return where + fill(template, {computed: shownValue(problem.computed, names), shown: shownValue(problem.shown, names),
                                   key: problem.key});
  }
  function say(el, cls, lines) {
    el.textContent = "";
    el.className = "verdict " + cls;
    lines.forEach(function (line, i) {
      var p = document.createElement(i === 0 ? "strong" : "span");
      p.textContent = line;
      el.appendChild(p);
    });
  }

  function wire() {
    var button = document.querySelector("[data-verify-button]");
    var summary = document.querySelector("[data-verify-summary]");
    var texts = readJson("draw-texts");
    if (!button || !summary || !texts) { return; }
    if (!available()) {
      say(summary, "bad", [texts.insecure]);
      summary.setAttribute("data-verdict", "unavailable");
      button.disabled = true;
      return;
    }
    button.addEventListener("click", async function () {
      button.disabled = true;
      summary.removeAttribute("data-verdict");
      say(summary, "", [texts.working]);
      document.querySelectorAll("[data-verdict-for]").forEach(function (el) {
        el.textContent = ""; el.className = "verdict"; el.removeAttribute("data-verdict");
      });
      try {
        var data = readJson("draw-data");
        var names = data.names || {};
        var result = await verifyPage(data);
        result.sections.forEach(function (section) {
          var el = document.querySelector('[data-verdict-for="' + CSS.escape(section.draw) + '"]');
          if (!el) { return; }
          if (!section.problems.length) {
            say(el, "good", [texts.section_ok]);
            el.setAttribute("data-verdict", "matches");
          } else {
            say(el, "bad", [texts.section_bad].concat(section.problems.map(function (p) {
              return describe(p, texts, names);
            })));
            el.setAttribute("data-verdict", "mismatch");
          }
        });
        if (result.ok) {
          say(summary, "good", [fill(texts.all_ok, {count: result.records})]);
          summary.setAttribute("data-verdict", "matches");
        } else {
          var lines = [texts.not_ok].concat(result.campaign.map(function (p) { return describe(p, texts, names); }));
          result.sections.forEach(function (s) {
            s.problems.forEach(function (p) { lines.push(describe(p, texts, names)); });
          });
          say(summary, "bad", lines);
          summary.setAttribute("data-verdict", "mismatch");
        }
      } catch (e) {
        say(summary, "bad", [fill(texts.failed, {detail: e && e.message ? e.message : String(e)})]);
        summary.setAttribute("data-verdict", "error");
      } finally {
        button.disabled = false;
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
})();
