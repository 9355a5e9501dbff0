// The service worker (static/sw.js, served at the root). On a signed-in page (the script tag
// carries data-worker, the worker's URL) it is registered; on a signed-out page it is told to
// forget the pages kept for offline use, which were someone's (never the outbox).
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  var me = document.currentScript;
  var url = me && me.getAttribute("data-worker");
  if (url) {
    addEventListener("load", function () {
      navigator.serviceWorker.register(url, {scope: "/"}).catch(function () {});
    });
  } else if (navigator.serviceWorker.controller) {
    navigator.serviceWorker.controller.postMessage({type: "signed-out"});
  }
})();
