// The visit page, progressive enhancement only: without this file every form still posts and works.
(function () {
  "use strict";

  // Order lines: the page offers five rows; "Add a line" copies an empty one for a longer order.
  function wireAddRow(root) {
    root.querySelectorAll("[data-add-row]").forEach(function (btn) {
      if (btn.dataset.wired) return;
      btn.dataset.wired = "1";
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var rows = btn.form.querySelector("[data-order-rows]");
        var last = rows && rows.lastElementChild;
        if (!last) return;
        var row = last.cloneNode(true);
        row.classList.remove("has-error");
        row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
        row.querySelectorAll("select").forEach(function (s) { s.selectedIndex = 0; });
        row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
        rows.appendChild(row);
        var select = row.querySelector("select");
        if (select) select.focus();
      });
    });
  }

  // A form that is being sent cannot be sent twice (a double tap on a weak network).
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.closest || !form.closest(".visit")) return;
    if (form.dataset.sending && !form.hasAttribute("hx-post")) { evt.preventDefault(); return; }
    form.dataset.sending = "1";
    setTimeout(function () { delete form.dataset.sending; }, 8000);
  }, true);

  // --- a step, objective or follow-up that did not reach the server ---------------------------
  // The form stays as the rep left it, marked "not saved", with a Retry button. The words come
  // from the page (<template id="save-failed">), so they are in the rep's language.

  // Statuses our views answer with the form's own fragment (messages in place): swap those.
  var FRAGMENT_STATUSES = [403, 409, 422];
  // Worth trying again as they are; anything else (an expired form, a page gone) is not.
  function retryable(status) { return !status || status === 429 || status >= 500; }

  function visitForm(elt) {
    var form = elt && elt.closest ? elt.closest("form") : null;
    return form && form.closest(".visit") && form.hasAttribute("hx-post") ? form : null;
  }

  function clearFailure(form) {
    form.classList.remove("unsaved");
    form.querySelectorAll(".save-failed").forEach(function (e) { e.remove(); });
  }

  function serverMessage(text) {
    if (!text) return "";
    var doc = new DOMParser().parseFromString(text, "text/html");
    var found = doc.querySelector(".error-message, .error");
    return found ? found.textContent.trim() : "";
  }

  function showFailure(form, status, message) {
    var tpl = document.getElementById("save-failed");
    if (!tpl) return;
    clearFailure(form);
    var box = tpl.content.firstElementChild.cloneNode(true);
    var why = box.querySelector("[data-why]");
    if (why) {
      if (message) why.textContent = message;
      else if (status) why.textContent = why.dataset.server;
    }
    var retry = box.querySelector("[data-retry]");
    if (retry) {
      if (retryable(status)) {
        retry.addEventListener("click", function () {
          clearFailure(form);
          form.requestSubmit ? form.requestSubmit() : form.submit();
        });
      } else {
        retry.remove();
      }
    }
    // Beside the button the rep just tapped, where the eyes are.
    var submits = Array.prototype.filter.call(form.children, function (e) { return e.matches("button[type=submit]"); });
    if (submits.length) form.insertBefore(box, submits[submits.length - 1]);
    else form.appendChild(box);
    form.classList.add("unsaved");
    delete form.dataset.sending;
    if (box.scrollIntoView) box.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("htmx:before:request", function (evt) {
    var form = visitForm(evt.target);
    if (form) clearFailure(form);
  });

  // No answer at all: offline, the connection dropped, or the request timed out.
  document.addEventListener("htmx:error", function (evt) {
    var form = visitForm(evt.target);
    var ctx = evt.detail && evt.detail.ctx;
    // With a response in hand the server did answer; htmx:response:error deals with refusals.
    if (!form || !ctx || ctx.response) return;
    showFailure(form, 0, "");
  });

  // An answer that is not the form's fragment (a server error, an expired form): keep what the
  // rep typed on the screen instead of swapping an error page over it.
  document.addEventListener("htmx:response:error", function (evt) {
    var form = visitForm(evt.target);
    var ctx = evt.detail && evt.detail.ctx;
    if (!form || !ctx || FRAGMENT_STATUSES.indexOf(ctx.response.status) !== -1) return;
    ctx.swap = "none";
    showFailure(form, ctx.response.status, serverMessage(ctx.text));
  });

  // --- photos: once one is stored (photos.js swaps its tile in), the step's head, the automatic
  // checks and the check-out bar are asked for again, so "Ready to check out" follows the camera.
  var progressTimer = null;

  function refreshProgress(visit) {
    var url = visit.getAttribute("data-progress-url");
    if (!url || !window.fetch) return;
    fetch(url, { headers: { "HX-Request": "true", "HX-Request-Type": "partial" }, cache: "no-store",
                 credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
        Array.prototype.forEach.call(doc.body.children, function (fresh) {
          var old = fresh.id && document.getElementById(fresh.id);
          if (!old) return;
          fresh.removeAttribute("hx-swap-oob");
          old.replaceWith(document.importNode(fresh, true));
        });
      })
      .catch(function () { /* offline: the page catches up on the next photo or reload */ });
  }

  function watchPhotos(root) {
    var visit = document.querySelector(".visit[data-progress-url]");
    if (!visit || !window.MutationObserver) return;
    root.querySelectorAll("[data-photo-grid]").forEach(function (grid) {
      if (grid.dataset.watched) return;
      grid.dataset.watched = "1";
      new MutationObserver(function (changes) {
        var stored = changes.some(function (c) {
          return Array.prototype.some.call(c.addedNodes, function (n) {
            return n.nodeType === 1 && n.matches(".photo-tile[id^='photo-']");
          });
        });
        if (!stored) return;
        clearTimeout(progressTimer);  // several photos arriving together: ask once
        progressTimer = setTimeout(function () { refreshProgress(visit); }, 300);
      }).observe(grid, { childList: true });
    });
  }

  function wire(root) { wireAddRow(root); watchPhotos(root); }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  // A step swapped in by htmx brings a fresh "Add a line" button or photo grid.
  document.addEventListener("htmx:after:swap", function () { wire(document); });
  if (document.readyState !== "loading") wire(document);
})();
