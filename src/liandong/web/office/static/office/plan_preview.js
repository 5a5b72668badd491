/* The plan preview's progress bar: polls <progress data-poll="URL"> every second and reloads the page once the
 * preview is done (without JavaScript the page refreshes itself every 3 seconds). */
(function () {
  "use strict";
  var bar = document.querySelector("[data-preview-progress]");
  if (!bar || !window.fetch) { return; }
  var label = document.querySelector("[data-preview-percent]");
  function poll() {
    window.fetch(bar.dataset.poll, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var percent = Math.round(s.progress * 100);
        bar.value = percent;
        if (label) { label.textContent = percent + "%"; }
        if (s.done) { window.location.assign(s.url); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
