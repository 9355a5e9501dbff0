// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // The outbox runs on every signed-in page. base.html includes it; a page that does not yet
  // gets it from here (the same file, next to this one).
  var me = document.currentScript;
  if (me && me.src && document.querySelector(".bottomnav") &&
      !document.querySelector('script[src*="/outbox"]') && !window.fieldOutbox) {
    var s = document.createElement("script");
    s.src = me.src.replace(/app(\.[\w-]+)?\.js/, "outbox.js");
    document.head.appendChild(s);
  }

  // htmx requests carry the CSRF token; plain forms carry it as a hidden field.
  document.addEventListener("htmx:config:request", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) evt.detail.ctx.request.headers["X-CSRFToken"] = meta.content;
  });

  // A button with data-locate fills the lat/lng/accuracy inputs of its form from the phone.
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest("[data-locate]");
    if (!btn || !navigator.geolocation) return;
    evt.preventDefault();
    var form = btn.form || btn.closest("form");
    btn.classList.add("busy");
    navigator.geolocation.getCurrentPosition(function (pos) {
      btn.classList.remove("busy");
      var set = function (name, value) {
        var input = form.querySelector('[name="' + name + '"]');
        if (input) input.value = value;
      };
      set("lat", pos.coords.latitude.toFixed(6));
      set("lng", pos.coords.longitude.toFixed(6));
      set("accuracy", Math.round(pos.coords.accuracy));
      set("position_at", new Date(pos.timestamp).toISOString());
      if (btn.dataset.locate === "submit") form.requestSubmit ? form.requestSubmit() : form.submit();
    }, function (err) {
      btn.classList.remove("busy");
      var out = form.querySelector(".locate-error");
      if (out) out.textContent = btn.dataset.locateError || err.message;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  // A camera button (macros/forms.html camera_input) says once a photo is taken.
  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches("input[data-file-chosen]")) return;
    var text = input.parentElement.querySelector("[data-chosen]");
    if (!text) return;
    if (!text.dataset.empty) text.dataset.empty = text.textContent;
    text.textContent = input.files && input.files.length ? text.dataset.chosen : text.dataset.empty;
    input.parentElement.classList.toggle("chosen", !!(input.files && input.files.length));
  });

  // A table wider than its box gets a line saying it scrolls sideways (and CSS shades the side
  // that has more), on load, after htmx swaps and when the window changes size.
  function markScrolling(root) {
    var hint = document.body.getAttribute("data-scroll-hint");
    (root || document).querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      var line = wrap.previousElementSibling;
      var hasLine = line && line.classList.contains("scroll-hint");
      wrap.toggleAttribute("data-scrolls", scrolls);
      if (scrolls && !hasLine && hint) {
        line = document.createElement("p");
        line.className = "scroll-hint";
        line.textContent = hint;
        wrap.parentNode.insertBefore(line, wrap);
      } else if (!scrolls && hasLine) {
        line.remove();
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { markScrolling(); });
  document.addEventListener("htmx:after:swap", function () { markScrolling(); });
  var resizing;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(markScrolling, 150);
  });
})();
