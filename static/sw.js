// The service worker: served at /sw.js (scope /) by field/app_shell/views.py, which puts
// self.FIELD_SHELL before this file: {version, static: {name: versioned URL}, pages, offline, dayList}.
//
// - Static files (versioned URLs, never changing): from the cache, kept per version.
// - Pages (navigations): the network first; when it does not answer in NETWORK_TIMEOUT_MS or fails,
//   the copy kept on the phone; else the offline page. A page of the day is kept fresh each time it
//   is opened online. Today, once kept, opens from the phone at once (marked "field-kept" in its
//   Server-Timing) and today.js asks the day again in place. POSTs and htmx fragments (HX-Request)
//   are never cached.
// - The day: Today asks for it ({type: "cache-day"}); the worker reads /today/offline.json and keeps
//   those pages.
// - The outbox lives in IndexedDB and belongs to static/js/outbox.js: this worker never opens it.
//   On a Background Sync event tagged "field-outbox" it tells its pages ({type: "outbox-sync"}),
//   and outbox.js sends what waits.
"use strict";

var SHELL = self.FIELD_SHELL;
var STATIC_CACHE = "field-static-" + SHELL.version;
var PAGES_CACHE = "field-pages-v1";  // pages outlive a new version; their format changes rarely
var NETWORK_TIMEOUT_MS = 2500;
var REFRESH_AFTER_MS = 10 * 60 * 1000;  // a kept page older than this is fetched again with the day
var VERSIONED = /\.[0-9a-f]{12}(\.[A-Za-z0-9]+)$/;
var FETCHES_AT_ONCE = 3;

var staticUrls = Object.keys(SHELL.static).map(function (name) { return SHELL.static[name]; });
var currentByName = {};  // "/static/css/app.css" → its current versioned URL
Object.keys(SHELL.static).forEach(function (name) {
  var url = SHELL.static[name];
  currentByName[url.replace(VERSIONED, "$1")] = url;
});

function sameOrigin(url) {
  return new URL(url, self.location.href).origin === self.location.origin;
}

function pathOf(url) {
  var u = new URL(url, self.location.href);
  return u.pathname + u.search;
}

// A page fetched to be kept, not opened: the server leaves flashed messages for the page the rep opens.
function fetchToKeep(url) {
  return fetch(url, {credentials: "same-origin", headers: {"X-Field-Prefetch": "1"}, cache: "no-store"});
}

// Keep a page only if it is the page itself: a redirect (to sign in, say) is not the page.
function keepable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

// Fetch what the cache lacks (and, with `refresh`, what it has kept too long), a few at a time.
function keepPages(cache, urls, refresh) {
  var queue = urls.slice();
  function next() {
    var url = queue.shift();
    if (url === undefined) return Promise.resolve();
    return cache.match(url, {ignoreVary: true}).then(function (kept) {
      if (kept && !(refresh && stale(kept))) return;
      return fetchToKeep(url).then(function (response) {
        if (keepable(response)) return cache.put(url, response);
      });
    }).catch(function () { /* offline or refused: keep what there was */ }).then(next);
  }
  var workers = [];
  for (var i = 0; i < FETCHES_AT_ONCE; i++) workers.push(next());
  return Promise.all(workers);
}

function stale(response) {
  // The first HTTP date of the header: some servers send Date twice ("Sun, 06 Dec 2026 …, Sun, 06 …").
  var found = (response.headers.get("Date") || "").match(/\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT/);
  var date = found ? Date.parse(found[0]) : NaN;
  return !date || Date.now() - date > REFRESH_AFTER_MS;
}

self.addEventListener("install", function (event) {
  event.waitUntil(Promise.all([
    caches.open(STATIC_CACHE).then(function (cache) {
      // One file at a time so one failure does not lose the others; those missing are fetched when asked.
      return Promise.all(staticUrls.map(function (url) {
        return cache.match(url).then(function (kept) {
          return kept || fetch(url).then(function (r) { if (r.ok) return cache.put(url, r); }).catch(function () {});
        });
      }));
    }),
    caches.open(PAGES_CACHE).then(function (cache) {
      return Promise.all(SHELL.pages.map(function (url) {
        return fetchToKeep(url).then(function (r) { if (keepable(r)) return cache.put(url, r); })
          .catch(function () {});
      }));
    }),
  ]).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("field-") === 0 && name !== STATIC_CACHE && name !== PAGES_CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function fromStatic(request) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request).then(function (kept) {
      if (kept) return kept;
      // A page kept under an older version names older files: give it the current ones.
      var path = new URL(request.url).pathname;
      var current = currentByName[path.replace(VERSIONED, "$1")];
      return (current && current !== path ? cache.match(current) : Promise.resolve(undefined)).then(function (now) {
        if (now) return now;
        return fetch(request).then(function (response) {
          if (response.ok && VERSIONED.test(path)) cache.put(request, response.clone());
          return response;
        });
      });
    });
  });
}

function offlinePage() {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return cache.match(SHELL.offline, {ignoreVary: true});
  }).then(function (page) {
    return page || new Response("<!doctype html><meta charset=utf-8><title>Offline</title><p>Offline",
                                {status: 503, headers: {"Content-Type": "text/html; charset=utf-8"}});
  });
}

function pageKey(request) {
  var u = new URL(request.url);
  // Today with a position (?lat=&lng=, without JavaScript) is still Today.
  return u.pathname === "/today" ? "/today" : u.pathname + u.search;
}

// The kept copy, saying so to the page it becomes: Server-Timing is readable from the page's navigation
// entry (performance.getEntriesByType("navigation")[0].serverTiming), the response's headers are not.
function markedKept(response) {
  var headers = new Headers(response.headers);
  headers.append("Server-Timing", "field-kept");
  return response.blob().then(function (body) {
    return new Response(body, {status: response.status, statusText: response.statusText, headers: headers});
  });
}

function navigate(event) {
  var request = event.request;
  var key = pageKey(request);
  var network = fetch(request);
  var kept = caches.open(PAGES_CACHE).then(function (cache) {
    return cache.match(key, {ignoreVary: true}).then(function (response) { return {cache: cache, response: response}; });
  });
  // Keep a fresh copy of a page already kept for offline use (and of Today, always).
  event.waitUntil(Promise.all([network, kept]).then(function (both) {
    var response = both[0], cache = both[1].cache;
    if (keepable(response) && (both[1].response || key === "/today")) return cache.put(key, response.clone());
  }).catch(function () {}));

  return kept.then(function (found) {
    if (!found.response) {
      return network.catch(function () { return offlinePage(); });
    }
    // Today opens from the phone at once, marked as the kept copy; the network's answer refreshes the
    // copy (above) and today.js asks the day again in place. Other pages: the network first.
    if (key === "/today") return markedKept(found.response);
    return new Promise(function (resolve) {
      var settled = false;
      var timer = setTimeout(function () { settled = true; resolve(found.response); }, NETWORK_TIMEOUT_MS);
      network.then(function (response) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // A server error while a copy is on the phone: the copy is more use to the rep.
        resolve(response.status >= 500 ? found.response : response);
      }, function () {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(found.response);
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET" || !sameOrigin(request.url)) return;
  if (request.headers.get("HX-Request")) return;  // a fragment: never from or into a cache
  if (request.mode === "navigate") {
    event.respondWith(navigate(event));
  } else if (new URL(request.url).pathname.indexOf("/static/") === 0) {
    event.respondWith(fromStatic(request));
  }
});

function cacheDay(client) {
  return fetch(SHELL.dayList, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
    .then(function (response) {
      if (!response.ok) throw new Error("day list " + response.status);
      return response.json();
    })
    .then(function (day) {
      return caches.open(PAGES_CACHE).then(function (cache) {
        return keepPages(cache, day.pages, true).then(function () {
          // Pages of an earlier day that are no longer on it are dropped.
          var wanted = {};
          day.pages.forEach(function (url) { wanted[pathOf(url)] = true; });
          return cache.keys().then(function (requests) {
            return Promise.all(requests.filter(function (r) { return !wanted[pathOf(r.url)]; })
              .map(function (r) { return cache.delete(r); }));
          });
        }).then(function () {
          return caches.open(STATIC_CACHE).then(function (statics) { return keepPages(statics, day.static, false); });
        }).then(function () {
          if (client) client.postMessage({type: "day-cached", asOf: day.as_of, pages: day.pages.length});
        });
      });
    })
    .catch(function () {
      if (client) client.postMessage({type: "day-not-cached"});
    });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "cache-day") {
    event.waitUntil(cacheDay(event.source));
  } else if (data.type === "signed-out") {
    event.waitUntil(caches.delete(PAGES_CACHE));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "field-outbox") return;
  event.waitUntil(self.clients.matchAll({type: "window", includeUncontrolled: true}).then(function (clients) {
    clients.forEach(function (client) { client.postMessage({type: "outbox-sync"}); });
  }));
});
