/* Liandong's pages: forms that act through the REST API, countdowns. No framework, no CDN.
 *
 * <form data-api="/api/withdrawals" data-key="…" data-next="/withdrawals/{withdrawal}">: on submit, the fields go as
 * JSON to the API with the CSRF token and the Idempotency-Key the page was rendered with (a double tap is one
 * request; the API answers a repeat with the first answer). After an error the next try gets a fresh key. On
 * success the page goes to data-next, its {name} filled from the answer (or reloads without data-next).
 * data-then-login: after the answer, log in with the form's username and password (registration).
 * Inputs: data-type="int" sends a number, data-type="json" the value parsed as JSON (a hidden object such as a
 * box set's terms), type=checkbox a boolean; empty inputs are left out; data-when="f=v" is sent only while the
 * form's field f has the value v.
 *
 * <body data-notices-stream="/api/me/notices/stream?after=N"> (a member's page): an EventSource on the income
 * notices' stream; each notice shows in #notice-toast (its text comes rendered in the page's language) for 6 s and
 * sets #notice-badge to the unread count. The server ends each response within a minute; EventSource reconnects
 * with Last-Event-ID, so nothing is missed in between. */
(function () {
  "use strict";
  var zh = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;

  function cookie(name) {
    var found = document.cookie.split("; ").filter(function (c) { return c.indexOf(name + "=") === 0; })[0];
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function post(url, body, key) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": cookie("csrftoken"), "Idempotency-Key": key,
                "Accept-Language": document.documentElement.lang || "zh-hans"},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : {}; } catch (e) { data = null; }
        return {status: r.status, ok: r.ok, data: data};
      });
    });
  }
  function fields(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.dataset.local !== undefined) { return; }
      if (el.dataset.when) {  /* data-when="visibility=private": sent only while that field has that value */
        var cond = el.dataset.when.split("="), other = form.elements[cond[0]];
        if (!other || other.value !== cond[1]) { return; }
      }
      if (el.type === "checkbox") { out[el.name] = el.checked; return; }
      if ((el.type === "radio") && !el.checked) { return; }
      var v = (el.value || "").trim();
      if (v === "") { return; }
      out[el.name] = el.dataset.type === "int" ? parseInt(v, 10) : el.dataset.type === "json" ? JSON.parse(v) : v;
    });
    return out;
  }
  function lookup(data, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, data);
  }
  function fill(template, data) {
    return template.replace(/\{([a-z0-9_.]+)\}/gi, function (_m, path) {
      var v = lookup(data, path);
      return v == null ? "" : encodeURIComponent(String(v));
    });
  }
  function message(data, status) {
    var e = data && data.error;
    if (e) { return (zh ? e.message_zh : e.message) || e.message || e.code; }
    return (zh ? "请求失败（" : "The request failed (") + status + (zh ? "），请重试" : "); please try again");
  }
  function showError(form, data, status) {
    var box = form.querySelector(".form-error");
    var field = data && data.error && data.error.field;
    form.querySelectorAll(".error").forEach(function (el) { el.textContent = ""; });
    var at = field && form.querySelector('[data-error-for="' + field + '"]');
    if (at) { at.textContent = message(data, status); } else if (box) { box.textContent = message(data, status); }
    if (box && at) { box.textContent = ""; }
  }
  function submit(form, event) {
    event.preventDefault();
    var button = form.querySelector("[type=submit]");
    if (form.dataset.busy) { return; }
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { return; }
    form.dataset.busy = "1";
    if (button) { button.disabled = true; }
    var body = fields(form);
    var done = function () { delete form.dataset.busy; if (button) { button.disabled = false; } };
    post(form.dataset.api, body, form.dataset.key || newKey()).then(function (answer) {
      if (!answer.ok) { form.dataset.key = newKey(); showError(form, answer.data, answer.status); done(); return; }
      var next = function () {
        if (form.dataset.next) { window.location.assign(fill(form.dataset.next, answer.data || {})); }
        else { window.location.reload(); }
      };
      if (form.dataset.thenLogin !== undefined) {
        post("/api/auth/login", {username: body.username, password: body.password}, newKey()).then(function (login) {
          if (!login.ok) { showError(form, login.data, login.status); done(); return; }
          next();
        });
        return;
      }
      next();
    }).catch(function () {  /* the network: the same key again is safe, the API answers a repeat once */
      showError(form, null, 0); done();
    });
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.dataset && form.dataset.api) { submit(form, event); }
  });

  /* <time data-countdown="2026-12-01T12:00:00+08:00">: the time left, every second. */
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.dataset.countdown) - Date.now()) / 1000));
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      var pad = function (n) { return ("0" + n).slice(-2); };
      el.textContent = (d ? d + (zh ? "天 " : "d ") : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    });
  }
  tick();
  window.setInterval(tick, 1000);

  /* Income notices, live. */
  var toastTimer = null;
  function showNotice(notice) {
    var toast = document.getElementById("notice-toast");
    var badge = document.getElementById("notice-badge");
    if (toast) {
      toast.textContent = notice.text;
      toast.hidden = false;
      window.clearTimeout(toastTimer);
      toastTimer = window.setTimeout(function () { toast.hidden = true; }, 6000);
    }
    if (badge && typeof notice.unread === "number") {
      badge.textContent = String(notice.unread);
      badge.hidden = notice.unread === 0;
    }
  }
  var streamUrl = document.body && document.body.dataset.noticesStream;
  if (streamUrl && window.EventSource) {
    var stream = new window.EventSource(streamUrl);
    stream.addEventListener("notice", function (event) {
      try { showNotice(JSON.parse(event.data)); } catch (e) { /* a malformed event: skip it */ }
    });
  }

  window.Liandong = {post: post, newKey: newKey, showNotice: showNotice, tick: tick};
})();
