// Today, progressive enhancement only: without this file the route starts from the first stop
// (or the store the rep is in or last left). With it, the page reloads once with the phone's
// position (?lat=&lng=&acc=) so the route starts where the rep stands, and offers a button to
// take the position again.
(function () {
  "use strict";
  var form = document.querySelector("[data-today-locate]");
  if (!form || !navigator.geolocation) return;
  form.hidden = false;

  var FAILED = "today-locate-failed";  // this tab could not locate: do not ask on every visit
  var params = new URLSearchParams(window.location.search);

  function locate(quiet) {
    var button = form.querySelector("button");
    var out = form.querySelector(".locate-error");
    if (button) button.classList.add("busy");
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector('[name="lat"]').value = pos.coords.latitude.toFixed(6);
      form.querySelector('[name="lng"]').value = pos.coords.longitude.toFixed(6);
      form.querySelector('[name="acc"]').value = Math.max(1, Math.round(pos.coords.accuracy));
      try { sessionStorage.removeItem(FAILED); } catch (e) { /* private mode */ }
      form.submit();
    }, function () {
      if (button) button.classList.remove("busy");
      try { sessionStorage.setItem(FAILED, "1"); } catch (e) { /* private mode */ }
      if (!quiet && out) out.textContent = form.dataset.locateError;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  form.addEventListener("submit", function (evt) {
    evt.preventDefault();
    locate(false);
  });

  var failedBefore = false;
  try { failedBefore = sessionStorage.getItem(FAILED) === "1"; } catch (e) { /* private mode */ }
  if (!params.has("lat") && !failedBefore) locate(true);
})();
