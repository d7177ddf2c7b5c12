// Sensor register maps, on the shared base map (map.js). Markers come from the public register API as GeoJSON,
// with the same filters as the list below the map; zoomed out they gather in clusters (leaflet.markercluster).
// The words come from the page (data-* attributes), never from this script.
(function () {
  "use strict";

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

  // Every page of the filtered register, as GeoJSON features.
  function load(url, features) {
    return fetch(url, { headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (body) {
        body.features.forEach(function (feature) { features.push(feature); });
        var next = (body.links || []).filter(function (link) { return link.rel === "next"; })[0];
        return next ? load(next.href, features) : features;
      });
  }

  function boundsOf(text) {
    var box = text ? JSON.parse(text) : null;  // [[south, west], [north, east]]
    return box ? L.latLngBounds(box) : null;
  }

  function fit(map, bounds) {
    if (bounds.getNorthEast().equals(bounds.getSouthWest())) {
      CrowdMap.closeUp(map, bounds.getCenter());  // one sensor (or several at one spot): street level on tiles
    } else {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
    }
  }

  var registerMap = document.getElementById("register-map");
  if (registerMap) {
    var map = CrowdMap.base(registerMap);
    L.control.scale({ imperial: false }).addTo(map);  // a sense of scale, also on Natural Earth land alone
    var clusterLabel = registerMap.dataset.clusterLabel || "{count}";
    var clusters = L.markerClusterGroup({
      showCoverageOnHover: false,
      maxClusterRadius: 60,
      iconCreateFunction: function (cluster) {
        var count = cluster.getChildCount();
        var size = count < 10 ? "small" : count < 50 ? "medium" : "large";
        return CrowdMap.icon({ html: "<div><span>" + count + "</span></div>", iconSize: L.point(40, 40),
                               className: "marker-cluster marker-cluster-" + size,
                               label: clusterLabel.replace("{count}", count), data: { count: String(count) } });
      }
    });
    // A cluster is a keyboard-reachable marker (Tab); Enter opens it as a click does (markercluster's own
    // handler: zoom in, or spread out the markers that stand at one spot; it then focuses the map's box). Focus
    // then goes on to the first sensor or cluster that shows there, once markercluster has drawn them: after its
    // "animationend" (zoomed) or "spiderfied" (spread out), not on the map's moveend, which comes first.
    clusters.on("clusterkeypress", function (event) {
      var key = event.originalEvent;
      if (key.key !== "Enter" && key.keyCode !== 13) { return; }
      var bounds = event.layer.getBounds();
      function opened() {
        forget();
        // Deferred: without animation markercluster fires these before its own handler moves the focus.
        window.setTimeout(function () { focusFirst(bounds); }, 0);
      }
      function forget() {
        clusters.off("animationend spiderfied", opened);
        if (awaiting === opened) { awaiting = null; }
      }
      if (awaiting) { clusters.off("animationend spiderfied", awaiting); }
      awaiting = opened;
      clusters.on("animationend spiderfied", opened);
      // Enter on a cluster already spread out changes nothing: a later zoom must not pull the focus away.
      window.setTimeout(forget, 3000);
    });
    var awaiting = null;
    function focusFirst(bounds) {
      var found = null;
      clusters.eachLayer(function (marker) {
        if (found || !bounds.contains(marker.getLatLng())) { return; }
        var shown = clusters.getVisibleParent(marker);
        if (shown && shown.getElement()) { found = shown.getElement(); }
      });
      if (found) { found.focus({ preventScroll: true }); }
    }
    map.addLayer(clusters);
    var byId = {};
    var view = boundsOf(registerMap.dataset.bounds);
    if (view) { fit(map, view); } else { map.setView([52.1, 5.3], 7); }

    // No source: no sensor the filters select has a location (the page says so); nothing to fetch.
    var source = registerMap.dataset.source ? load(registerMap.dataset.source, []) : Promise.resolve([]);
    source.then(function (features) {
      var markers = [];
      features.forEach(function (feature) {
        if (!feature.geometry) { return; }
        var c = feature.geometry.coordinates;
        var marker = CrowdMap.marker([c[1], c[0]], { name: feature.properties.name, className: "sensor-marker",
                                                     data: { sensor: String(feature.id) } });
        marker.bindPopup(popup(feature, registerMap.dataset.detailUrl));
        byId[feature.id] = marker;
        markers.push(marker);
      });
      clusters.addLayers(markers);
      if (markers.length) { fit(map, clusters.getBounds()); }
      registerMap.dataset.markers = String(markers.length);
    }).catch(function () {
      registerMap.dataset.markers = "error";
      var failed = document.getElementById("register-map-failed");
      if (failed) { failed.hidden = false; }
    });

    // A row's "Show on the map": bring the map into view, open the marker out of its cluster, open its popup.
    document.querySelectorAll("#sensor-list button[data-sensor]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var marker = byId[button.dataset.sensor];
        if (!marker) { return; }
        registerMap.scrollIntoView({ block: "center" });
        clusters.zoomToShowLayer(marker, function () {
          marker.openPopup();
          var element = marker.getElement();
          if (element) { element.focus({ preventScroll: true }); }
        });
      });
    });

    // The filters apply when the form is sent (its Show button), not on each change: choosing with the arrow
    // keys would otherwise reload the page at every step (WCAG 3.2.2, on input).
  }

  var sensorMap = document.getElementById("sensor-map");
  if (sensorMap) {
    var latlng = [parseFloat(sensorMap.dataset.lat), parseFloat(sensorMap.dataset.lon)];
    var small = CrowdMap.closeUp(CrowdMap.base(sensorMap), latlng);
    L.control.scale({ imperial: false }).addTo(small);
    // Nothing to open: the page around it says what the sensor is, so the marker takes no focus.
    CrowdMap.marker(latlng, { name: sensorMap.dataset.name, className: "sensor-marker", keyboard: false }).addTo(small);
  }
})();
