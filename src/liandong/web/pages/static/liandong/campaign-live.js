/* A pre-sale's or a blind box's page, live: listens to the campaign's stream (GET /api/campaigns/<id>/stream,
 * Server-Sent Events, api/campaign_stream.py) and puts each part the server sends in its place on the page
 * (<… data-live-part="status">: the top card, the free winners, the boxes opened, the open form's title and
 * button). The parts are rendered on the server from the engine's read, in the page's language, exactly as a reload
 * renders them: nothing is computed or worded here. Once the campaign is closed the forms (data-actions) go and
 * the stream is closed. The page's data block <script id="campaign-live-data"> holds the stream's URL, the status
 * and the parts as the page was rendered with them. The countdowns inside a part are pages.js's (every second).
 * The viewer's own cards (data-live-own) are read again from the page's address once the campaign closes.
 * No framework. */
(function () {
  "use strict";
  var block = document.getElementById("campaign-live-data");
  if (!block) { return; }
  var data = JSON.parse(block.textContent);
  var shown = data.parts || {};

  function place(state) {
    Object.keys(state.parts || {}).forEach(function (name) {
      var html = state.parts[name];
      if (shown[name] === html) { return; }
      document.querySelectorAll('[data-live-part="' + name + '"]').forEach(function (node) {
        node.innerHTML = html;
      });
      shown[name] = html;
    });
    if (window.Liandong && window.Liandong.tick) { window.Liandong.tick(); }  /* a new countdown: no blank second */
    if (state.status !== "open") {  /* nothing to join, leave or open any more */
      document.querySelectorAll("[data-actions]").forEach(function (node) { node.hidden = true; });
      refreshOwn();
    }
    document.documentElement.setAttribute("data-live-status", state.status);
  }

  /* The viewer's own cards (<… data-live-own="entry">: a pre-sale entry, the coupons held) are not in the public
   * stream: at the close they are read again from this page's own address (the member's session) and swapped in. */
  function refreshOwn() {
    var own = document.querySelectorAll("[data-live-own]");
    if (!own.length || !window.fetch || !window.DOMParser) { return; }
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (!html) { return; }
      var fresh = new window.DOMParser().parseFromString(html, "text/html");
      own.forEach(function (node) {
        var again = fresh.querySelector('[data-live-own="' + node.getAttribute("data-live-own") + '"]');
        if (again) { node.replaceWith(document.importNode(again, true)); }
      });
    }).catch(function () { /* the next load shows it */ });
  }

  if (data.status !== "open" || !window.EventSource || !data.stream) { return; }
  var source = new window.EventSource(data.stream);
  source.addEventListener("campaign", function (event) {
    var state;
    try { state = JSON.parse(event.data); } catch (e) { return; }
    place(state);
    if (state.status !== "open") { source.close(); }
  });
})();
