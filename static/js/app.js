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

  // The search results by keyboard: ↓ in the box moves to the first result, ↓ and ↑ move
  // between results (↑ from the first goes back to the box), Esc returns to the box, and
  // Enter on a result follows its link as any link does.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp" && ev.key !== "Escape") return;
    if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    var box = document.querySelector("[data-search-box]");
    if (!box) return;
    var links = Array.prototype.slice.call(document.querySelectorAll("#search-results [data-result-link]"));
    if (ev.target === box) {
      if (ev.key === "ArrowDown" && links.length) {
        ev.preventDefault();
        links[0].focus();
      }
      return;
    }
    var i = links.indexOf(ev.target);
    if (i < 0) return;
    ev.preventDefault();
    if (ev.key === "ArrowDown") {
      if (i + 1 < links.length) links[i + 1].focus();
    } else if (ev.key === "ArrowUp" && i > 0) {
      links[i - 1].focus();
    } else {
      box.focus();
    }
  });

  // Every search is an audit event, so Enter searches only for text not already searched: the
  // results that came in as the agent typed, or a request for them still on its way, are not
  // asked for a second time. A failed request may be repeated.
  var lastSearched = null;
  function searchForm(ev) {
    var elt = ev.detail && ev.detail.elt;
    return elt && elt.hasAttribute && elt.hasAttribute("data-search-form") ? elt : null;
  }
  document.addEventListener("htmx:confirm", function (ev) {
    var form = searchForm(ev);
    var trigger = ev.detail && ev.detail.triggeringEvent;
    if (!form || !trigger || trigger.type !== "submit") return;
    var box = form.querySelector("[data-search-box]");
    var results = document.getElementById("search-results");
    var shown = results ? results.getAttribute("data-query") : null;
    if (box && (box.value === lastSearched || (lastSearched === null && box.value === shown))) ev.preventDefault();
  });
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var form = searchForm(ev);
    var box = form && form.querySelector("[data-search-box]");
    if (box) lastSearched = box.value;
  });
  document.addEventListener("htmx:afterRequest", function (ev) {
    if (searchForm(ev) && ev.detail && !ev.detail.successful) lastSearched = null;
  });

  // Idle-timeout warning. The server ends a session after data-idle-timeout seconds without a
  // request; this only tells the user in time. Every htmx request counts as activity, as it
  // does on the server. "Stay signed in" pings /auth/session; past the limit the page goes to
  // the sign-in page so no customer data stays on screen.
  function idleTimer() {
    var idle = parseInt(document.body.getAttribute("data-idle-timeout"), 10);
    var box = document.getElementById("idle-warning");
    if (!idle || idle <= 0 || !box) return;
    var warnBefore = Math.min(120, Math.floor(idle / 2));
    var remainingEl = box.querySelector("[data-idle-remaining]");
    var last = Date.now();

    function activity() {
      last = Date.now();
      box.hidden = true;
    }
    function describe(seconds) {
      if (seconds >= 90) return Math.round(seconds / 60) + " minutes";
      if (seconds > 60) return "about a minute";
      return seconds + " seconds";
    }
    function tick() {
      var left = idle - Math.floor((Date.now() - last) / 1000);
      if (left <= 0) {
        window.location.assign("/login?expired=1");
        return;
      }
      if (left <= warnBefore) {
        if (remainingEl) remainingEl.textContent = describe(left);
        if (box.hidden) {
          box.hidden = false;
          var stay = box.querySelector("[data-idle-stay]");
          if (stay) stay.focus();
        }
      }
    }
    document.body.addEventListener("htmx:afterRequest", activity);
    var stay = box.querySelector("[data-idle-stay]");
    if (stay) {
      stay.addEventListener("click", function () {
        fetch("/auth/session", { credentials: "same-origin", headers: { "HX-Request": "true" } })
          .then(function (resp) {
            if (resp.status === 204) {
              activity();
            } else {
              window.location.assign(resp.headers.get("HX-Redirect") || "/login?expired=1");
            }
          })
          .catch(function () { /* the next tick retries the decision */ });
      });
    }
    window.setInterval(tick, 1000);
  }

  // A region marked data-busy (the customer page's comparison) is aria-busy while an htmx
  // request that fills it is in flight, and only then: screen readers wait for the new content,
  // the stylesheet dims the old. afterRequest fires after the swap, and on errors and timeouts.
  function busyTarget(ev) {
    var t = ev.detail && ev.detail.target;
    return t && t.hasAttribute && t.hasAttribute("data-busy") ? t : null;
  }
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var t = busyTarget(ev);
    if (t) t.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (ev) {
    var t = busyTarget(ev);
    if (t) t.setAttribute("aria-busy", "false");
  });

  // A risk's case summary: its copy button is hidden in the markup, since it needs this script,
  // and shown here; a click puts the summary's text on the clipboard, or selects it for the
  // keyboard when the clipboard is out of reach.
  function showCopyButtons(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("[data-copy-target]").forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener("htmx:load", function (ev) { showCopyButtons(ev.detail && ev.detail.elt); });
  document.addEventListener("click", function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest("[data-copy-target]") : null;
    if (!b) return;
    var text = document.getElementById(b.getAttribute("data-copy-target"));
    if (!text) return;
    function select() {
      var range = document.createRange();
      range.selectNodeContents(text);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      text.focus();
    }
    if (!navigator.clipboard) {
      select();
      return;
    }
    navigator.clipboard.writeText(text.textContent).then(function () {
      b.textContent = b.getAttribute("data-copied-label") || b.textContent;
    }, select);
  });

  // After sign-out the page links to the provider's own sign-out; follow it at once, replacing
  // this page in the history so Back never returns to it.
  function autoNavigate() {
    var link = document.querySelector("a[data-auto-navigate]");
    if (link && link.href) window.location.replace(link.href);
  }

  function start() {
    idleTimer();
    autoNavigate();
    showCopyButtons(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
