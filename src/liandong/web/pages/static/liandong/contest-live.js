/* A team contest's page, live: reads the standings part again (GET <data-url>: {"status", "html"}, the html rendered
 * on the server from the worker's read, in the page's language) every 2 seconds while the page is open and the contest is not over, and
 * puts it in place. Nothing is computed here. No framework. */
(function () {
  "use strict";
  var box = document.querySelector("[data-live-standings]");
  if (!box) { return; }
  var url = box.getAttribute("data-url");
  function over() {
    var table = box.querySelector("[data-standings]");
    return table && table.getAttribute("data-status") === "over";
  }
  function poll() {
    if (over()) { return; }
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (part) {
      if (part === null) { return; }
      if (part.html !== box.innerHTML) { box.innerHTML = part.html; }
      var badge = document.querySelector("[data-contest-status]");
      if (badge && badge.getAttribute("data-status") !== part.status) {
        badge.setAttribute("data-status", part.status);
        badge.textContent = part.status_label;
      }
    }).catch(function () { /* the next poll tries again */ }).then(function () {
      window.setTimeout(poll, 2000);
    });
  }
  window.setTimeout(poll, 2000);
})();
