// The maps (templates/map/*): the team's stores and the day's check-ins, or a rep's day route.
// The page carries an empty box (#map) with what to draw it with (data-box: the tiles, link patterns,
// words) and where its data is (data-src: JSON from field/visits/map_views.py, positions already in the
// tiles' datum). Leaflet is vendored (static/vendor/leaflet-*); nothing is fetched but the JSON and the
// configured tiles. With no tiles (MAP_TILES=none) the markers draw over a plain background.
// Thousands of store markers draw on one canvas (L.canvas), not as thousands of elements.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var box = JSON.parse(el.getAttribute("data-box") || "{}");
  var words = box.words || {};
  var summary = document.getElementById("map-summary");
  var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;

  var TIER_COLOURS = {A: "#c4320a", B: "#dc8b00", C: "#1570ef", D: "#667085"};
  var VISITED = "#12a150", NOT_VISITED = "#98a2b3", CHECKIN = "#1d2433", FLAGGED = "#b42318";

  function fill(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (all, key) {
      return values[key] !== undefined ? values[key] : all;
    });
  }

  function count(forms, n) {
    return fill((forms || ["{n}", "{n}"])[n === 1 ? 0 : 1], {n: n.toLocaleString()});
  }

  // Baidu draws BD-09 on its own grid: an ellipsoidal Mercator (Clarke 1866) at 2^(18-z) metres a
  // pixel, tiles counted from 0,0 with y growing north.
  function baiduCrs() {
    var projection = L.extend({}, L.Projection.Mercator, {
      R: 6378206, R_MINOR: 6356584.314245179,
      bounds: L.bounds([-20037726.37, -12474104.17], [20037726.37, 12474104.17])
    });
    return L.extend({}, L.CRS.Earth, {
      code: "BD09MC", projection: projection, transformation: new L.Transformation(1, 0, -1, 0),
      scale: function (zoom) { return Math.pow(2, zoom - 18); },
      zoom: function (scale) { return Math.log(scale) / Math.LN2 + 18; },
      wrapLng: undefined, infinite: true
    });
  }

  var BaiduTiles = L.TileLayer.extend({
    getTileUrl: function (coords) {
      return L.Util.template(this._url, L.extend({
        s: this._getSubdomain(coords), x: coords.x, y: -coords.y - 1, z: this._getZoomForUrl()
      }, this.options));
    }
  });

  var tiles = box.tiles;
  var map = L.map(el, {
    crs: tiles && tiles.crs === "baidu" ? baiduCrs() : L.CRS.EPSG3857,
    minZoom: 3, maxZoom: tiles ? tiles.maxZoom : 18, preferCanvas: true
  });
  var renderer = L.canvas({padding: 0.5, tolerance: coarse ? 10 : 3});
  if (tiles) {
    var options = {maxZoom: tiles.maxZoom, attribution: tiles.attribution, crossOrigin: false};
    if (tiles.subdomains) options.subdomains = tiles.subdomains;
    (tiles.crs === "baidu" ? new BaiduTiles(tiles.url, options) : L.tileLayer(tiles.url, options)).addTo(map);
  }
  el.fieldMap = map;  // for tests and the curious: the Leaflet map

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.className = "map-link";
    a.textContent = text;
    return a;
  }

  // A popup's content, built as elements (names are text, never markup); links: [[href, text], …].
  function popup(title, lines, links) {
    var div = document.createElement("div");
    div.className = "map-popup";
    var strong = document.createElement("strong");
    strong.textContent = title;
    div.appendChild(strong);
    lines.forEach(function (line) {
      if (!line) return;
      var p = document.createElement("div");
      p.className = "map-popup-line";
      p.textContent = line;
      div.appendChild(p);
    });
    (links || []).forEach(function (pair) {
      if (pair[0]) div.appendChild(link(pair[0], pair[1]));
    });
    return div;
  }

  // Popups open clear of the zoom buttons and the edges.
  var POPUP = {autoPanPaddingTopLeft: [56, 16], autoPanPaddingBottomRight: [16, 16], maxWidth: 260};

  function url(pattern, id) { return pattern ? pattern.replace("{id}", id) : null; }

  function say(text) { if (summary) summary.textContent = text; }

  function frame(points) {
    if (!points.length) {
      map.setView([35, 105], 4);
      return;
    }
    if (points.length === 1) {
      map.setView(points[0], 15);
      return;
    }
    map.fitBounds(L.latLngBounds(points), {padding: [24, 24], maxZoom: 16});
  }

  // --- the team's stores and check-ins ---------------------------------------------------------

  var storeMarkers = [];

  function storeStyle(row, colour) {
    var fillColour = colour === "visited" ? (row[4] ? VISITED : NOT_VISITED) : (TIER_COLOURS[row[3]] || NOT_VISITED);
    return {radius: coarse ? 7 : 6, weight: 1.5, color: "#ffffff", fillColor: fillColour, fillOpacity: 0.95};
  }

  function recolour(colour) {
    storeMarkers.forEach(function (m) { m.setStyle(storeStyle(m.store, colour)); });
    el.setAttribute("data-colour", colour);
    document.querySelectorAll(".legend-tier").forEach(function (l) { l.hidden = colour !== "tier"; });
    document.querySelectorAll(".legend-visited").forEach(function (l) { l.hidden = colour !== "visited"; });
    if (window.history && window.history.replaceState) {
      var u = new URL(window.location.href);
      u.searchParams.set("colour", colour);
      window.history.replaceState(window.history.state, "", u.toString());
    }
  }

  function drawTeam(data) {
    var colour = el.getAttribute("data-colour") || "tier";
    var points = [];
    data.stores.forEach(function (row) {
      var at = [row[1], row[2]];
      var m = L.circleMarker(at, L.extend({renderer: renderer}, storeStyle(row, colour)));
      m.store = row;
      m.bindPopup(function () {
        return popup(row[5], [fill(words.tier, {tier: row[3]}) + " · " + (row[4] ? words.visited : words.not_visited)],
                     [[url(box.store_url, row[0]), words.store]]);
      }, POPUP);
      m.addTo(map);
      storeMarkers.push(m);
      points.push(at);
    });
    data.checkins.forEach(function (row) {
      var at = [row[1], row[2]];
      var m = L.circleMarker(at, {renderer: renderer, radius: coarse ? 11 : 9, weight: 3, fill: true,
                                  fillOpacity: 0, color: row[7] ? FLAGGED : CHECKIN});
      m.checkin = row;
      var who = data.reps[String(row[4])];
      m.bindPopup(function () {
        return popup(row[6], [fill(words.checkin, {time: row[3]}) + (who ? " " + fill(words.by, {name: who}) : ""),
                              row[7] ? words.flagged : ""],
                     [[url(box.visit_url, row[0]), words.visit], [url(box.store_url, row[5]), words.store]]);
      }, POPUP);
      m.addTo(map);
      points.push(at);
    });
    frame(points);
    el.setAttribute("data-stores", String(data.stores.length));
    el.setAttribute("data-checkins", String(data.checkins.length));
    var parts = [count(words.stores, data.stores.length), count(words.checkins, data.checkins.length)];
    if (data.unplaced) parts.push(fill(words.unplaced, {n: data.unplaced.toLocaleString()}));
    say(points.length ? parts.join(" · ") : words.nothing);
  }

  // --- a rep's day route -------------------------------------------------------------------------

  function drawRoute(data) {
    var points = [];
    data.stops.forEach(function (stop) {
      if (stop.store) {
        L.circleMarker(stop.store, {renderer: renderer, radius: 5, weight: 1, color: "#ffffff",
                                    fillColor: NOT_VISITED, fillOpacity: 1, interactive: false}).addTo(map);
        L.polyline([stop.store, stop.at], {renderer: renderer, color: NOT_VISITED, weight: 2, dashArray: "4 4",
                                           interactive: false}).addTo(map);
      }
      points.push(stop.at);
    });
    if (points.length > 1) {
      L.polyline(points, {renderer: renderer, color: "#0b6e4f", weight: 4, opacity: 0.85, interactive: false})
        .addTo(map);
    }
    data.stops.forEach(function (stop) {
      var icon = L.divIcon({className: "stop-marker" + (stop.flagged ? " stop-flagged" : ""), html: String(stop.n),
                            iconSize: [28, 28], iconAnchor: [14, 14], popupAnchor: [0, -14]});
      var m = L.marker(stop.at, {icon: icon, title: fill(words.stop, {n: stop.n}) + ": " + stop.name,
                                 alt: stop.name, riseOnHover: true});
      m.bindPopup(function () {
        return popup(stop.n + ". " + stop.name, [stop.time, stop.flagged ? words.flagged : ""],
                     [[stop.visit ? url(box.visit_url, stop.visit) : null, words.visit]]);
      }, POPUP);
      m.addTo(map);
    });
    frame(points);
    el.setAttribute("data-stops", String(data.stops.length));
    say(points.length ? count(words.checkins, data.stops.length) : words.nothing);
  }

  // --- loading --------------------------------------------------------------------------------------

  var plainNote = summary ? summary.textContent : "";
  if (summary) summary.textContent = summary.getAttribute("data-loading") || "";
  fetch(el.getAttribute("data-src"), {credentials: "same-origin", headers: {Accept: "application/json"}})
    .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(String(r.status))); })
    .then(function (data) {
      if (el.getAttribute("data-map") === "route") drawRoute(data); else drawTeam(data);
      if (plainNote && summary) summary.textContent += " · " + plainNote.trim();
      el.setAttribute("data-ready", "1");
    })
    .catch(function () {
      frame([]);
      if (summary) summary.textContent = summary.getAttribute("data-failed") || "";
      el.setAttribute("data-ready", "failed");
    });

  // Filters: a rep chosen shows that rep's stores (a new page); the colouring changes in place.
  document.querySelectorAll("[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("[data-map-colour]").forEach(function (select) {
    select.addEventListener("change", function () { recolour(select.value); });
  });
  document.querySelectorAll("[data-map-apply]").forEach(function (button) { button.hidden = true; });
})();
