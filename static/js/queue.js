// The verification queue at a desk: j / k move between items, a approves the item in focus,
// r opens its rejection form, Esc closes it. After a verdict the next item takes the focus.
// Progressive enhancement only: every verdict is a plain form without this file.
(function () {
  "use strict";
  if (window.fieldQueue) return;
  window.fieldQueue = true;

  var lastItem = null;

  function open() {
    return Array.prototype.slice.call(document.querySelectorAll(".queue-item:not(.reviewed)"));
  }

  function inFocus() {
    var el = document.activeElement && document.activeElement.closest && document.activeElement.closest(".queue-item");
    return el && !el.classList.contains("reviewed") ? el : null;
  }

  function show(item) {
    if (!item) return;
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  function move(step) {
    var items = open();
    if (!items.length) return;
    var at = items.indexOf(inFocus());
    var next = at < 0 ? (step > 0 ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, at + step));
    show(items[next]);
  }

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function approve(item) {
    var form = item && item.querySelector(".queue-approve");
    if (!form) return false;
    lastItem = item.id;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return true;
  }

  function reject(item) {
    var details = item && item.querySelector(".queue-reject");
    if (!details) return false;
    lastItem = item.id;
    details.open = true;
    var select = details.querySelector("select");
    if (select) select.focus();
    return true;
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.ctrlKey || evt.metaKey || evt.altKey || !document.querySelector(".queue-item")) return;
    if (evt.key === "Escape") {
      var details = evt.target.closest && evt.target.closest(".queue-reject");
      if (details) { details.open = false; show(details.closest(".queue-item")); }
      return;
    }
    if (typing(evt.target)) return;
    var item = inFocus();
    var done = false;
    if (evt.key === "j") { move(1); done = true; }
    else if (evt.key === "k") { move(-1); done = true; }
    else if (evt.key === "a") done = approve(item || open()[0]);
    else if (evt.key === "r") done = reject(item || open()[0]);
    if (done) evt.preventDefault();
  });

  document.addEventListener("submit", function (evt) {
    var item = evt.target.closest && evt.target.closest(".queue-item");
    if (item) lastItem = item.id;
  }, true);

  // A verdict swaps its card; carry on with the next open item (or stay, when it was refused).
  document.addEventListener("htmx:after:swap", function () {
    if (!lastItem) return;
    var card = document.getElementById(lastItem);
    lastItem = null;
    if (!card) return;
    if (!card.classList.contains("reviewed")) { card.focus({ preventScroll: true }); return; }
    var all = Array.prototype.slice.call(document.querySelectorAll(".queue-item"));
    var after = all.slice(all.indexOf(card) + 1).filter(function (el) { return !el.classList.contains("reviewed"); });
    if (after.length) show(after[0]);
    updateBulkCount();
  });

  // The bulk button counts the items still ticked, and goes away when none is left to approve.
  function updateBulkCount() {
    var out = document.querySelector("[data-bulk-count]");
    if (!out) return;
    var ticked = document.querySelectorAll(".queue-item:not(.reviewed) [data-bulk]:checked").length;
    var left = document.querySelectorAll(".queue-item:not(.reviewed) [data-bulk]").length;
    out.textContent = ticked;
    var button = out.closest("button");
    if (button) button.disabled = ticked === 0;
    var form = out.closest("form");
    if (form) form.hidden = left === 0;
  }
  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("[data-bulk]")) updateBulkCount();
  });
})();
