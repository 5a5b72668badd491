/* A group's page, live: listens to the group's stream (GET /api/campaigns/<id>/groups/<group>/stream, Server-Sent
 * Events, api/group_stream.py) and updates the member list, the seats still missing and the status; when the group
 * is drawn it shows who won and what each got, with the draw record's link already on the page. The page's data
 * block <script id="group-live-data"> holds the stream's URL, the texts in the page's language (``statuses``: each
 * status's words and badge colour), and the first state.
 * Also the Share button: the system's share sheet where there is one, else the link is copied. No framework. */
(function () {
  "use strict";
  var block = document.getElementById("group-live-data");
  if (!block) { return; }
  var data = JSON.parse(block.textContent);
  var texts = data.texts;

  function fill(text, values) {
    return text.replace(/%\(([a-z_]+)\)s/g, function (_m, name) { return values[name] == null ? "" : values[name]; });
  }
  function yuan(amount) { return amount == null ? "" : "¥" + amount; }
  function outcomeText(kind, seat) {
    var key = (seat.outcome === "won" || seat.outcome === "lost") ? seat.outcome + "_" + kind : seat.outcome;
    var text = texts[key];
    if (!text) { return ""; }
    return fill(text, {fund: yuan(seat.fund), bonus: yuan(seat.bonus), returned: yuan(seat.returned),
                       share: yuan(seat.share)});
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text != null) { node.textContent = text; }
    return node;
  }

  function render(state) {
    var list = document.querySelector("[data-members]");
    if (list) {
      list.textContent = "";
      state.members.forEach(function (seat) {  /* only the group's real entries: nothing is added here */
        var li = el("li", "row");
        li.setAttribute("data-member", "");
        var avatar = el("span", "avatar", seat.initial);
        avatar.setAttribute("aria-hidden", "true");
        var body = el("span", "grow");
        body.appendChild(el("span", "name", seat.name));
        body.appendChild(document.createElement("br"));
        var got = el("small", null, outcomeText(state.kind, seat));
        got.setAttribute("data-got", "");
        body.appendChild(got);
        li.appendChild(avatar);
        li.appendChild(body);
        list.appendChild(li);
      });
    }
    var joined = document.querySelector("[data-figure=joined]");
    if (joined) { joined.textContent = String(state.joined); }
    var left = document.querySelector("[data-figure=missing]");
    if (left) { left.textContent = String(state.seats_left); }
    var missing = document.querySelector("[data-missing]");
    if (missing) {
      missing.textContent = fill(texts.missing, {count: state.seats_left});
      missing.hidden = state.status !== "open";
    }
    var root = document.querySelector("[data-live-status]");
    if (root) { root.setAttribute("data-status", state.status); }
    var badge = document.querySelector("[data-status-badge]");
    var status = (data.statuses || {})[state.status];
    if (badge && status) {  /* the status in the page's words, and its colour */
      badge.textContent = status[0];
      badge.className = "badge" + (status[1] ? " " + status[1] : "");
    }
    var note = document.querySelector("[data-outcome-note]");
    if (note && state.status !== "open") {
      note.textContent = state.status === "drawn" ? fill(texts.drawn, {names: state.winners.join(", ")})
        : (texts[state.status] || "");
      note.className = "notice" + (state.status === "drawn" ? "" : " warn");
      note.hidden = false;
    }
    var result = document.querySelector("[data-result]");
    var winners = document.querySelector("[data-winners]");
    if (result && winners && state.status === "drawn") {
      winners.textContent = "";
      state.winners.forEach(function (name) { winners.appendChild(el("li", null, name)); });
      result.hidden = false;
    }
    if (state.status !== "open") {  /* nothing to join, leave or count down any more */
      ["[data-actions]", "[data-countdown-line]"].forEach(function (sel) {
        var node = document.querySelector(sel);
        if (node) { node.hidden = true; }
      });
    }
  }

  var FINAL = {drawn: true, expired: true, dissolved: true};
  if (data.state && FINAL[data.state.status]) { return; }
  if (window.EventSource && data.stream) {
    var source = new window.EventSource(data.stream);
    source.addEventListener("group", function (event) {
      var state;
      try { state = JSON.parse(event.data); } catch (e) { return; }
      render(state);
      if (FINAL[state.status]) { source.close(); }
    });
  }

  var share = document.querySelector("[data-share-button]");
  var link = document.querySelector("[data-share-link]");
  if (share && link) {
    share.addEventListener("click", function () {
      if (navigator.share) {
        navigator.share({title: share.dataset.shareTitle || document.title, url: link.value}).catch(function () {});
        return;
      }
      link.select();
      var copied = navigator.clipboard ? navigator.clipboard.writeText(link.value) : Promise.reject();
      copied.catch(function () { document.execCommand("copy"); }).then(function () {
        var done = document.querySelector("[data-share-done]");
        if (done) { done.hidden = false; }
      });
    });
  }
})();
