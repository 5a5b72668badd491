/* A pre-sale's or a blind box's page, live: listens to the campaign's stream (GET /api/campaigns/<id>/stream,
 * Server-Sent Events, api/campaign_stream.py) and puts each part the server sends in its place on the page
 * (<… data-live-part="status">: the top card, the free winners, the boxes opened, the open form's title and
 * button). The parts are rendered on the server from the engine's read, in the page's language, exactly as a reload
 * renders them: nothing is computed or worded here. Once the campaign is closed the forms (data-actions) go and
 * the stream is closed. The page's data block <script id="campaign-live-data"> holds the stream's URL, the status
 * and the parts as the page was rendered with them. The countdowns inside a part are pages.js's (every second).
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
    }
    document.documentElement.setAttribute("data-live-status", state.status);
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
