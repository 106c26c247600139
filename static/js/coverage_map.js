// Coverage-gap map (admin): towns beyond the threshold in red, accepting facilities in blue.
// Markers are vector circles, so they show even when the tiles fail to load; without Leaflet
// the page's tables hold everything. Data comes from the JSON block #coverage-data.
(function () {
  "use strict";
  var el = document.getElementById("coverage-map");
  var source = document.getElementById("coverage-data");
  if (!el || !source || typeof L === "undefined") { return; }
  var data = JSON.parse(source.textContent || "{}");
  var labels = data.labels || {};
  var map = L.map(el, { scrollWheelZoom: false, preferCanvas: false });
  if (data.tiles) {
    L.tileLayer(data.tiles, { attribution: data.attribution || "", maxZoom: 18 }).addTo(map);
  }
  function km(value) {
    return value === null ? labels.none : value.toFixed(1) + " km";
  }
  function popup(lines) {
    var box = document.createElement("div");
    lines.forEach(function (text, i) {
      var line = document.createElement(i === 0 ? "strong" : "div");
      line.textContent = text;
      box.appendChild(line);
    });
    return box;
  }
  var points = [];
  (data.sites || []).forEach(function (s) {
    var groups = [];
    if (s.pregnant) { groups.push(labels.pregnant); }
    if (s.postpartum) { groups.push(labels.postpartum); }
    L.circleMarker([s.lat, s.lng], {
      radius: 6, color: "#ffffff", weight: 2, fillColor: "#1f5f7a", fillOpacity: 1
    }).bindPopup(popup([s.name, labels.accepting + ": " + groups.join(" / ")])).addTo(map);
    points.push([s.lat, s.lng]);
  });
  (data.gaps || []).forEach(function (g) {
    L.circleMarker([g.lat, g.lng], {
      radius: 5, color: "#a3121b", weight: 1, fillColor: "#d9363e", fillOpacity: 0.8
    }).bindPopup(popup([
      g.name,
      labels.pregnant + ": " + km(g.pregnant_km),
      labels.postpartum + ": " + km(g.postpartum_km)
    ])).addTo(map);
    points.push([g.lat, g.lng]);
  });
  if (points.length) {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 13 });
  } else {
    map.setView([35.68, 139.56], 9);
  }
})();
