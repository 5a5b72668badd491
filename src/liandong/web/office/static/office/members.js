/* The member page's referral tree and team: a <details data-lazy="URL"> loads its level (an HTML fragment, one page)
 * the first time it is opened; a "More" link (data-more) inside a level loads the next page in its place. Without
 * this file each level is a link to its fragment. */
(function () {
  "use strict";
  function load(url, into, replace) {
    into.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) {
        var box = document.createElement("div");
        box.innerHTML = html;
        if (replace) { replace.replaceWith.apply(replace, Array.prototype.slice.call(box.childNodes)); }
        else { into.innerHTML = ""; into.appendChild(box); }
        into.removeAttribute("aria-busy");
      })
      .catch(function () { into.removeAttribute("aria-busy"); into.dataset.failed = "1"; });
  }
  document.addEventListener("toggle", function (event) {
    var node = event.target;
    if (!node || node.tagName !== "DETAILS" || !node.open || !node.dataset.lazy || node.dataset.loaded) { return; }
    node.dataset.loaded = "1";
    var body = node.querySelector(":scope > .lazy-body");
    if (body) { load(node.dataset.lazy, body, null); }
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest ? event.target.closest("a[data-more]") : null;
    if (!link) { return; }
    event.preventDefault();
    var holder = link.closest(".lazy-more");
    load(link.getAttribute("href"), holder.parentNode, holder);
  });
})();
