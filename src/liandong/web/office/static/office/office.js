/* The back office's forms are plain HTML forms (they work without this file). This adds:
 * <form data-confirm="…">: asks before submitting (a reject, a batch approve);
 * <input type=checkbox data-select-all="name">: ticks every checkbox named name in its form;
 * <span data-selected-count="name">: how many are ticked;
 * a form submits once: its submit buttons are disabled while the next page loads. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.dataset) { return; }
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
    if (form.dataset.sent) { event.preventDefault(); return; }
    if (form.method.toLowerCase() === "post") {
      form.dataset.sent = "1";
      window.setTimeout(function () {
        form.querySelectorAll("[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    }
  });
  function count(name) {
    document.querySelectorAll('[data-selected-count="' + name + '"]').forEach(function (el) {
      el.textContent = String(document.querySelectorAll('input[name="' + name + '"]:checked').length);
    });
  }
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box || box.type !== "checkbox") { return; }
    var all = box.dataset.selectAll;
    if (all) {
      document.querySelectorAll('input[name="' + all + '"]').forEach(function (b) { b.checked = box.checked; });
      count(all);
    } else if (box.name) { count(box.name); }
  });
})();
