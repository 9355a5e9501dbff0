// Today, progressive enhancement only: without this file the route starts from the first stop
// (or the store the rep is in or last left). With it:
// - the phone's position is read (at once where the rep already allowed it, else on the button) and
//   the day (#today) is asked again with it (?lat=&lng=&acc=) through htmx and swapped in place —
//   the page itself loads once;
// - online, the service worker is asked to keep the day for offline use (/today/offline.json);
// - the "as of" time stands out when the route shown is an older copy (offline, from the phone).
(function () {
  "use strict";
  var FAILED = "today-locate-failed";  // this tab could not locate: do not ask on every visit
  var OLD_AFTER_MS = 5 * 60 * 1000;
  var params = new URLSearchParams(window.location.search);

  function form() { return document.querySelector("[data-today-locate]"); }

  function showForm() {
    var f = form();
    if (f && navigator.geolocation) f.hidden = false;
  }

  function markAge() {
    var day = document.getElementById("today");
    var line = document.getElementById("today-as-of");
    if (!day || !line) return;
    var old = !navigator.onLine || Date.now() - Date.parse(day.dataset.asOf) > OLD_AFTER_MS;
    line.className = old ? "flash flash-warning as-of" : "muted as-of";
  }

  // The day again with the position, in place; without htmx (or with no network to ask) the page as before.
  function askDay(f) {
    var url = f.getAttribute("action") + "?" + new URLSearchParams(new FormData(f)).toString();
    if (window.htmx && typeof window.htmx.ajax === "function") {
      window.htmx.ajax("GET", url, {target: "#today", swap: "outerHTML"});
    } else {
      window.location.assign(url);
    }
  }

  function locate(quiet) {
    var f = form();
    if (!f) return;
    var button = f.querySelector("button");
    var out = f.querySelector(".locate-error");
    if (button) button.classList.add("busy");
    navigator.geolocation.getCurrentPosition(function (pos) {
      f.querySelector('[name="lat"]').value = pos.coords.latitude.toFixed(6);
      f.querySelector('[name="lng"]').value = pos.coords.longitude.toFixed(6);
      f.querySelector('[name="acc"]').value = Math.max(1, Math.round(pos.coords.accuracy));
      try { sessionStorage.removeItem(FAILED); } catch (e) { /* private mode */ }
      if (!navigator.onLine) {  // the day kept on the phone stays as it is
        if (button) button.classList.remove("busy");
        return;
      }
      askDay(f);
    }, function () {
      if (button) button.classList.remove("busy");
      try { sessionStorage.setItem(FAILED, "1"); } catch (e) { /* private mode */ }
      if (!quiet && out) out.textContent = f.dataset.locateError;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  function keepDayOffline() {
    if (!("serviceWorker" in navigator) || !navigator.onLine) return;
    navigator.serviceWorker.addEventListener("message", function (evt) {
      var data = evt.data || {};
      if (data.type === "day-cached") document.documentElement.dataset.offlineDay = "ready";
      else if (data.type === "day-not-cached") document.documentElement.dataset.offlineDay = "failed";
    });
    navigator.serviceWorker.startMessages();
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) registration.active.postMessage({type: "cache-day"});
    });
  }

  document.addEventListener("submit", function (evt) {
    if (!evt.target.matches("[data-today-locate]") || !navigator.geolocation) return;
    evt.preventDefault();
    locate(false);
  });
  // The swapped day brings a new form and a new time.
  document.addEventListener("htmx:after:swap", function () { showForm(); markAge(); });
  window.addEventListener("online", markAge);
  window.addEventListener("offline", markAge);

  showForm();
  markAge();
  keepDayOffline();

  var failedBefore = false;
  try { failedBefore = sessionStorage.getItem(FAILED) === "1"; } catch (e) { /* private mode */ }
  var canLocate = !!(form() && navigator.geolocation && navigator.permissions && navigator.permissions.query)
    && !params.has("lat") && !failedBefore;

  // Opened from the phone (the service worker's kept copy, marked in its Server-Timing): shown at once,
  // then the day is asked again in place — with the position where the rep allowed it, else without.
  var entry = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
  var fromPhone = !!(entry && entry.serverTiming && entry.serverTiming.some(function (t) { return t.name === "field-kept"; }));
  function refreshDay() {
    if (window.htmx && typeof window.htmx.ajax === "function") {
      window.htmx.ajax("GET", window.location.pathname + window.location.search, {target: "#today", swap: "outerHTML"});
    }
  }

  if (!canLocate) {
    if (fromPhone && navigator.onLine) refreshDay();
    return;
  }
  // Take the position at once only where the rep already allowed it: a permission prompt the moment a
  // page opens is one nobody asked for. Otherwise the button asks, once; after that it is automatic.
  navigator.permissions.query({name: "geolocation"}).then(function (status) {
    if (status.state === "granted") locate(true);
    else if (fromPhone && navigator.onLine) refreshDay();
  }, function () { if (fromPhone && navigator.onLine) refreshDay(); });
})();
