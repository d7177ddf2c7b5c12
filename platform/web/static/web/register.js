// Sensor register maps. Markers come from the public register API as GeoJSON; the background tiles
// come from a configurable URL, and the map works without them.
(function () {
  "use strict";

  function baseMap(element) {
    var map = L.map(element);
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { attribution: element.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    }
    return map;
  }

  function marker(latlng) {
    return L.circleMarker(latlng, { radius: 7, weight: 2, color: "#12355b", fillColor: "#f2a900", fillOpacity: 0.9,
                                    className: "sensor-marker" });
  }

  function popup(feature, detailUrl) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = detailUrl.replace(/0\/$/, feature.id + "/");
    link.textContent = feature.properties.name;   // text, never HTML: names come from vendors
    var type = document.createElement("div");
    var lang = document.documentElement.lang === "nl" ? "name_nl" : "name_en";
    type.textContent = feature.properties.sensor_type[lang];
    box.appendChild(link);
    box.appendChild(type);
    return box;
  }

  function loadInto(layer, url, detailUrl) {
    return fetch(url, { headers: { Accept: "application/geo+json" } })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        body.features.forEach(function (feature) {
          if (!feature.geometry) { return; }
          var c = feature.geometry.coordinates;
          marker([c[1], c[0]]).bindPopup(popup(feature, detailUrl)).addTo(layer);
        });
        var next = (body.links || []).filter(function (link) { return link.rel === "next"; })[0];
        return next ? loadInto(layer, next.href, detailUrl) : null;
      });
  }

  var registerMap = document.getElementById("register-map");
  if (registerMap) {
    var map = baseMap(registerMap).setView([52.1, 5.3], 7);
    var layer = L.featureGroup().addTo(map);
    loadInto(layer, registerMap.dataset.source, registerMap.dataset.detailUrl).then(function () {
      var count = layer.getLayers().length;
      if (count) { map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 16 }); }
      registerMap.dataset.markers = String(count);
    });
    // The filters apply when the form is sent (its Show button), not on each change: choosing with the arrow
    // keys would otherwise reload the page at every step (WCAG 3.2.2, on input).
  }

  var sensorMap = document.getElementById("sensor-map");
  if (sensorMap) {
    var latlng = [parseFloat(sensorMap.dataset.lat), parseFloat(sensorMap.dataset.lon)];
    var small = baseMap(sensorMap).setView(latlng, 16);
    marker(latlng).addTo(small);
  }
})();
