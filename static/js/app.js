// ctpdesk's own script. It is loaded as a file because the Content-Security-Policy forbids
// inline scripts; it only adds keyboard and timing conveniences, the pages work without it.
(function () {
  "use strict";

  // "/" focuses the search box, as in most search-first tools, unless the user is typing.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "/" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var box = document.querySelector("[data-search-box]");
    if (box) {
      ev.preventDefault();
      box.focus();
      box.select();
    }
  });
})();
