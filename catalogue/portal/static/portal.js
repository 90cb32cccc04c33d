// Enhancements only: every page works without this script. Maps need Leaflet, served by the
// catalogue itself (npm ci); without a tile URL they show the data's outlines on a plain ground.
(function () {
  "use strict";
  var L = window.L;
  var style = { color: "#0b5394", weight: 2, fillOpacity: 0.15 };

  function link(feature) {
    var p = feature.properties || {};
    var a = document.createElement("a");
    a.href = p.href || "#";
    a.textContent = p.title || p.href || "";
    return a;
  }

  if (L) document.querySelectorAll("[data-map]").forEach(function (el) {
    var script = el.parentNode.querySelector("script.map-data");
    var data;
    try { data = JSON.parse(script.textContent); } catch (e) { return; }
    if (!data || !data.features || !data.features.length) return;
    el.hidden = false;
    var map = L.map(el, { attributionControl: true, maxZoom: 19 });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    }
    var layer = L.geoJSON(data, {
      style: function () { return style; },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#0b5394", weight: 2, fillOpacity: 0.7 });
      },
      onEachFeature: function (feature, layer) { layer.bindPopup(link(feature)); }
    });
    var points = data.features.filter(function (f) { return f.geometry && f.geometry.type === "Point"; }).length;
    var shown = layer;
    if (points > 25 && L.markerClusterGroup) {
      shown = L.markerClusterGroup();
      shown.addLayer(layer);
    }
    shown.addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12], maxZoom: 16 });
  });

  // copy buttons beside the machine-readable URLs
  document.querySelectorAll("ul.machine input[readonly]").forEach(function (input) {
    if (!navigator.clipboard) return;
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = document.documentElement.lang === "de" ? "Kopieren" : "Copy";
    button.setAttribute("aria-label", button.textContent + ": " + input.labels[0].textContent);
    button.addEventListener("click", function () { navigator.clipboard.writeText(input.value); });
    input.after(button);
  });
})();
