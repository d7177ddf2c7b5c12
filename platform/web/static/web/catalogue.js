// Catalogue dataset page: the Copy buttons of the example requests, and the coverage map (the dataset's areas
// and public sensors on the shared base map, web/map.js; the lists beside it say the same in text). No inline
// script: the page's CSP forbids it.
(function () {
  "use strict";

  function copied(button, message) {
    var status = button.parentNode.querySelector(".copied");
    if (status) { status.textContent = message; }
  }

  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) { return; }   // no clipboard: the text stays selectable
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent).then(
        function () { copied(button, button.dataset.done || "✓"); },
        function () { copied(button, button.dataset.failed || "×"); }
      );
    });
  });

  var element = document.getElementById("coverage-map");
  if (!element || !window.CrowdMap) { return; }
  var areas = JSON.parse(document.getElementById("coverage-areas-data").textContent);
  var sensors = JSON.parse(document.getElementById("coverage-sensors-data").textContent);
  var map = window.CrowdMap.base(element);   // web/map.js: tiles, or Natural Earth land when none load
  var layer = L.featureGroup().addTo(map);

  function label(text) {   // names come from organisations: text, never HTML
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  areas.forEach(function (area) {
    L.geoJSON(area.geometry, { style: { color: "#12355b", weight: 2, fillColor: "#f2a900", fillOpacity: 0.25 } })
      .bindTooltip(label(area.name))
      .addTo(layer);
  });
  // Markers are focusable (Tab) and open their popup with Enter (CrowdMap.marker), as the keyboard needs.
  sensors.forEach(function (sensor) {
    window.CrowdMap.marker([sensor.lat, sensor.lon], { name: sensor.name, className: "coverage-sensor" })
      .bindPopup(label(sensor.name)).addTo(layer);
  });
  var count = layer.getLayers().length;
  if (count) { map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 17 }); }
  element.dataset.shapes = String(count);
})();
