// Result map: numbered markers matching the list. Works without tiles (markers on a plain
// background) and does nothing when Leaflet is unavailable: the list has everything.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var markers = JSON.parse(el.getAttribute("data-markers") || "[]");
  var origin = el.getAttribute("data-origin");
  var map = L.map(el, { scrollWheelZoom: false });
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { attribution: el.getAttribute("data-attribution"), maxZoom: 18 }).addTo(map);
  }
  var points = [];
  markers.forEach(function (m) {
    var icon = L.divIcon({ className: "map-pin", html: String(m.n), iconSize: [30, 30] });
    var marker = L.marker([m.lat, m.lng], { icon: icon, title: m.name, alt: m.name }).addTo(map);
    var link = document.createElement("a");
    link.href = m.url;
    link.textContent = m.name;
    marker.bindPopup(link);
    points.push([m.lat, m.lng]);
  });
  if (origin) {
    var o = JSON.parse(origin);
    L.marker(o, { icon: L.divIcon({ className: "map-origin", iconSize: [18, 18] }), keyboard: false }).addTo(map);
    points.push(o);
  }
  if (points.length) {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 15 });
  } else {
    map.setView([35.68, 139.76], 11);
  }
})();
