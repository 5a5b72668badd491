/* The proof of liabilities page's "Verify in this browser": recompute the member's leaf and every node of its path
 * up to the root with WebCrypto, check that every amount and sum is non-negative, and compare the root and the sums
 * with the figures the page publishes (<script id="liabilities-published">). The path is the page's own
 * <script id="liabilities-proof">, the same JSON as the download. No framework, no CDN, nothing fetched.
 *
 * The format (docs/proof-of-liabilities.md, src/liandong/service/liabilities.py), every amount in integer fen:
 *   fields     available pending help_fund withdrawing locked_fund other points debt   (debt: never netted)
 *   u64(x)     8 bytes big-endian, 0 <= x < 2^64;  text(s) = u32 big-endian byte length ‖ UTF-8 bytes
 *   leaf       SHA-256("liandong-liabilities/1 leaf\0" ‖ text(day) ‖ salt (32 bytes) ‖ text(member) ‖ u64 × 8)
 *   node       SHA-256("liandong-liabilities/1 node\0" ‖ left ‖ u64 × 9 left sums ‖ right ‖ u64 × 9 right sums)
 *              (sums: the 8 fields, then the member count; a leaf counts 1)
 *   tree       leaves sorted by hash; pairs left to right; a level's odd last node goes up unchanged
 *   empty      SHA-256("liandong-liabilities/1 empty\0" ‖ text(day))
 *
 * window.LiandongLiabilities exposes leafHash, nodeHash, verify, rootOf (a path's root) and buildTree (a root from
 * leaves), so anyone can run them from the console, and the tests against the Python tree.
 *
 * crypto.subtle exists only in a secure context (https://, or localhost); elsewhere the page says so and points to
 * `liandong verify-liabilities`. */
(function () {
  "use strict";

  var FIELDS = ["available", "pending", "help_fund", "withdrawing", "locked_fund", "other", "points", "debt"];
  var OWED = FIELDS.length - 1;
  var LIMIT = 1n << 64n;
  var HEX64 = /^[0-9a-f]{64}$/;
  var AMOUNT = /^(-?)(0|[1-9][0-9]{0,19})\.([0-9]{2})$/;
  var DAY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
  var encoder = new TextEncoder();
  var LEAF_TAG = encoder.encode("liandong-liabilities/1 leaf\0");
  var NODE_TAG = encoder.encode("liandong-liabilities/1 node\0");
  var EMPTY_TAG = encoder.encode("liandong-liabilities/1 empty\0");

  function subtle() {
    return (window.isSecureContext !== false && window.crypto && window.crypto.subtle) || null;
  }
  function available() { return subtle() !== null; }

  function Malformed(key, value) {
    this.key = key;
    this.value = value;
    this.message = "key " + key + ": " + JSON.stringify(value);
  }

  function concat(parts) {
    var size = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(size);
    var at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function u64(value) {
    var v = BigInt(value);
    if (v < 0n || v >= LIMIT) { throw new Malformed("amount", String(value)); }
    var out = new Uint8Array(8);
    for (var i = 7; i >= 0; i--) { out[i] = Number(v & 255n); v >>= 8n; }
    return out;
  }
  function text(s) {
    var data = encoder.encode(s);
    var n = data.length;
    return concat([new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]), data]);
  }
  function hexBytes(hex, key) {
    if (typeof hex !== "string" || !HEX64.test(hex)) { throw new Malformed(key, hex); }
    var out = new Uint8Array(32);
    for (var i = 0; i < 32; i++) { out[i] = parseInt(hex.substr(i * 2, 2), 16); }
    return out;
  }
  function toHex(bytes) {
    return Array.prototype.map.call(new Uint8Array(bytes), function (b) { return ("0" + b.toString(16)).slice(-2); })
      .join("");
  }
  async function sha256(data) { return new Uint8Array(await subtle().digest("SHA-256", data)); }

  /* "12.30" -> 1230n; a negative amount is returned as it is (the check refuses it). */
  function fen(value, key) {
    var m = typeof value === "string" ? AMOUNT.exec(value) : null;
    if (m === null || value === "-0.00") { throw new Malformed(key, value); }
    var v = BigInt(m[2]) * 100n + BigInt(m[3]);
    return m[1] ? -v : v;
  }
  function yuan(value) {
    var v = BigInt(value);
    var sign = v < 0n ? "-" : "";
    if (v < 0n) { v = -v; }
    var cents = (v % 100n).toString();
    return sign + (v / 100n).toString() + "." + (cents.length < 2 ? "0" + cents : cents);
  }
  function fieldsOf(value, key, members) {
    if (value === null || typeof value !== "object") { throw new Malformed(key, value); }
    var out = FIELDS.map(function (name) { return fen(value[name], key + "." + name); });
    if (members) {
      if (!Number.isInteger(value.members)) { throw new Malformed(key + ".members", value.members); }
      out.push(BigInt(value.members));
    }
    return out;
  }

  async function leafHash(day, saltHex, member, amounts) {
    return sha256(concat([LEAF_TAG, text(day), hexBytes(saltHex, "salt"), text(member)].concat(amounts.map(u64))));
  }
  async function nodeHash(left, leftSums, right, rightSums) {
    return sha256(concat([NODE_TAG, left].concat(leftSums.map(u64), [right], rightSums.map(u64))));
  }
  function add(a, b) { return a.map(function (x, i) { return x + b[i]; }); }

  /* Everything a path says, parsed (throws Malformed). */
  function parse(proof) {
    if (proof === null || typeof proof !== "object") { throw new Malformed("file", proof); }
    if (proof.format !== "liandong-liabilities/1") { throw new Malformed("format", proof.format); }
    if (typeof proof.day !== "string" || !DAY.test(proof.day)) { throw new Malformed("day", proof.day); }
    if (typeof proof.member !== "string" || !proof.member) { throw new Malformed("member", proof.member); }
    hexBytes(proof.salt, "salt");
    if (!Array.isArray(proof.path)) { throw new Malformed("path", proof.path); }
    var steps = proof.path.map(function (step, i) {
      var key = "path[" + i + "]";
      if (step === null || typeof step !== "object") { throw new Malformed(key, step); }
      if (step.side !== "left" && step.side !== "right") { throw new Malformed(key + ".side", step.side); }
      return {side: step.side, hash: hexBytes(step.hash, key + ".hash"), sums: fieldsOf(step.sums, key + ".sums", true)};
    });
    return {day: proof.day, member: proof.member, salt: proof.salt, leaf: fieldsOf(proof.leaf, "leaf", false),
            steps: steps};
  }

  /* Check a path against the published figures ({root, total: {fields…, members}}): returns {ok, problems, steps,
   * root, totals}. Each problem is {what, …}: negative (field, shown, where), root (computed, shown),
   * total (field, computed, shown), members (computed, shown), malformed (key, shown). */
  async function verify(proof, published) {
    var out = {ok: false, problems: [], steps: 0, root: null, totals: null};
    var parsed, expected, expectedRoot;
    try {
      parsed = parse(proof);
      expected = fieldsOf(published.total, "published total", true);
      expectedRoot = typeof published.root === "string" ? published.root.toLowerCase() : published.root;
      hexBytes(expectedRoot, "published root");
    } catch (e) {
      if (!(e instanceof Malformed)) { throw e; }
      out.problems.push({what: "malformed", key: e.key, shown: e.value});
      return out;
    }
    out.steps = parsed.steps.length;
    parsed.leaf.forEach(function (v, i) {
      if (v < 0n) { out.problems.push({what: "negative", field: FIELDS[i], shown: yuan(v), where: 0}); }
    });
    parsed.steps.forEach(function (step, n) {
      step.sums.forEach(function (v, i) {
        if (v < 0n || (i === FIELDS.length && v < 1n)) {
          out.problems.push({what: "negative", field: i < FIELDS.length ? FIELDS[i] : "members",
                             shown: i < FIELDS.length ? yuan(v) : String(v), where: n + 1});
        }
      });
    });
    if (out.problems.length) { return out; }
    try {
      var current = await leafHash(parsed.day, parsed.salt, parsed.member, parsed.leaf);
      var sums = parsed.leaf.concat([1n]);
      for (var s = 0; s < parsed.steps.length; s++) {
        var step = parsed.steps[s];
        if (step.side === "left") {
          current = await nodeHash(step.hash, step.sums, current, sums);
          sums = add(step.sums, sums);
        } else {
          current = await nodeHash(current, sums, step.hash, step.sums);
          sums = add(sums, step.sums);
        }
        sums.forEach(function (v) { if (v >= LIMIT) { throw new Malformed("path[" + s + "].sums", "2^64 or more"); } });
      }
    } catch (e) {
      if (!(e instanceof Malformed)) { throw e; }
      out.problems.push({what: "malformed", key: e.key, shown: e.value});
      return out;
    }
    out.root = toHex(current);
    out.totals = {};
    FIELDS.forEach(function (name, i) { out.totals[name] = yuan(sums[i]); });
    out.totals.owed = yuan(sums.slice(0, OWED).reduce(function (a, b) { return a + b; }, 0n));
    out.totals.members = Number(sums[FIELDS.length]);
    if (out.root !== expectedRoot) { out.problems.push({what: "root", computed: out.root, shown: expectedRoot}); }
    FIELDS.forEach(function (name, i) {
      if (sums[i] !== expected[i]) {
        out.problems.push({what: "total", field: name, computed: yuan(sums[i]), shown: yuan(expected[i])});
      }
    });
    if (sums[FIELDS.length] !== expected[FIELDS.length]) {
      out.problems.push({what: "members", computed: String(sums[FIELDS.length]),
                         shown: String(expected[FIELDS.length])});
    }
    out.ok = out.problems.length === 0;
    return out;
  }

  /* The root a path recomputes to (hex), or null when it is malformed or negative. */
  async function rootOf(proof) {
    var result = await verify(proof, {root: "0".repeat(64), total: proof.total});
    return result.root;
  }

  /* A tree built here from leaves ({member, salt, amounts: {field: "12.30"}}): {root, totals}. */
  async function buildTree(day, leaves) {
    var level = [];
    for (var i = 0; i < leaves.length; i++) {
      var leaf = leaves[i];
      var amounts = fieldsOf(leaf.amounts, "leaves[" + i + "]", false);
      var h = await leafHash(day, leaf.salt, leaf.member, amounts);
      level.push({hash: h, hex: toHex(h), member: leaf.member, sums: amounts.concat([1n])});
    }
    level.sort(function (a, b) {
      return a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : a.member < b.member ? -1 : a.member > b.member ? 1 : 0;
    });
    if (!level.length) {
      return {root: toHex(await sha256(concat([EMPTY_TAG, text(day)]))), members: 0};
    }
    while (level.length > 1) {
      var up = [];
      for (var j = 0; j + 1 < level.length; j += 2) {
        var l = level[j], r = level[j + 1];
        up.push({hash: await nodeHash(l.hash, l.sums, r.hash, r.sums), sums: add(l.sums, r.sums)});
      }
      if (level.length % 2) { up.push(level[level.length - 1]); }
      level = up;
    }
    var totals = {};
    FIELDS.forEach(function (name, k) { totals[name] = yuan(level[0].sums[k]); });
    totals.members = Number(level[0].sums[FIELDS.length]);
    return {root: toHex(level[0].hash), totals: totals};
  }

  window.LiandongLiabilities = {
    available: available, fields: FIELDS.slice(), leafHash: async function (day, salt, member, amounts) {
      return toHex(await leafHash(day, salt, member, amounts.map(function (a) { return fen(a, "amount"); })));
    }, verify: verify, rootOf: rootOf, buildTree: buildTree, fen: fen, yuan: yuan
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
  function describe(problem, texts, names) {
    var template = texts["problem_" + problem.what] || texts.problem_malformed;
    var where = problem.where === 0 ? texts.where_leaf : fill(texts.where_step, {number: problem.where});
    return fill(template, {computed: problem.computed, shown: typeof problem.shown === "string" ? problem.shown :
                           JSON.stringify(problem.shown), field: names[problem.field] || problem.field,
                           key: problem.key, where: where});
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
    var texts = readJson("liabilities-texts");
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
      try {
        var names = readJson("liabilities-fields") || {};
        var published = readJson("liabilities-published");
        var result = await verify(readJson("liabilities-proof"), published);
        if (result.ok) {
          say(summary, "good", [fill(texts.ok, {steps: result.steps, owed: result.totals.owed,
                                                members: result.totals.members})]);
          summary.setAttribute("data-verdict", "matches");
        } else {
          say(summary, "bad", [texts.not_ok].concat(result.problems.map(function (p) {
            return describe(p, texts, names);
          })));
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
