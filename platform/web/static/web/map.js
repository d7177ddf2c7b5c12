// CrowdMap: the platform's one base map, shared by the register, the sensor pages, the dashboard and the
// catalogue. Load after Leaflet (vendor/leaflet/leaflet.js) and topojson-client (vendor/topojson-client/...).
//
//   CrowdMap.base(element, options) -> L.Map
//     element: the map's container. Render its attributes with {% load crowdmap %}{% map_attributes %}:
//       data-tiles        tile URL template ({z}/{x}/{y}); empty: no tiles, the land below shows alone
//       data-attribution  the tiles' attribution (HTML from the operator's settings, not from users)
//       data-land         JSON list of [minZoom, url] of Natural Earth land (TopoJSON), coarse to fine
//       data-zoom-in-title, data-zoom-out-title, data-close-label, data-leaflet-title: Leaflet's own words
//                         (zoom buttons, pop-up close button, the Leaflet link's title) in the page's language
//     options: passed on to L.map (e.g. { scrollWheelZoom: false }).
//     Sea colour behind (site.css: .crowd-map), Natural Earth land in its own pane below the tiles and the
//     markers, drawn when no tiles are configured or when tiles fail to load. The page's note
//     ({% map_note "element-id" %}, [data-map-note-for=element-id]) is shown when tiles were configured but
//     none loaded. element.dataset.background says what shows: "tiles", "land" or "none" (not yet known);
//     element.dataset.zoom and .view (west,south,east,north) follow the view.
//
//   CrowdMap.closeUp(map, latlng) -> map
//     A close view of one place: street level (zoom 16) on tiles; zoom 8 on Natural Earth land alone (known
//     now, or later if the tiles fail before the reader moves the map), where a nearby coast still shows.
//     While no tile has loaded the tiles' attribution is taken off (it credits what shows); it returns with one.
//
//   CrowdMap.marker(latlng, { name: "...", className: "...", data: { key: "value" }, keyboard: true }) -> L.Marker
//     A marker reachable by keyboard (Tab; Enter opens its popup), named by `name` for screen readers;
//     keyboard: false for a marker with nothing to open (it then takes no focus).
//   CrowdMap.icon(divIconOptions + { label: "...", data: {...} }) -> L.DivIcon whose element has that
//     aria-label and those data-* attributes (e.g. for a cluster: { label: "12 sensors" }).
//
// The words on the page come from the templates (translated there), never from this script.
(function () {
  "use strict";

  var LAND_STYLE = { stroke: true, color: "#7d8f99", weight: 1, fill: true, fillColor: "#f2efe9", fillOpacity: 1,
                     interactive: false };

  var NATURAL_EARTH = '<a href="https://www.naturalearthdata.com/">Natural Earth</a>';

  function readLand(element) {
    try { return JSON.parse(element.dataset.land || "[]"); } catch (error) { return []; }
  }

  // Natural Earth's rings that cross the antimeridian (Fiji, Chukotka) jump from 180 to -180 degrees: on a flat
  // map that is a line across the world. Unwrap them (continue past 180); a ring around the pole (Antarctica)
  // does not close when unwrapped and stays as it is.
  function unwrapRing(ring) {
    var shift = 0;
    var out = ring.map(function (point, i) {
      if (i > 0) {
        var step = point[0] - ring[i - 1][0];
        if (step > 180) { shift -= 360; } else if (step < -180) { shift += 360; }
      }
      return [point[0] + shift, point[1]];
    });
    if (shift !== 0) { return ring; }
    // Keep the ring's bulk on the world's face (a ring may start on the far side of the antimeridian).
    var mean = out.reduce(function (sum, point) { return sum + point[0]; }, 0) / out.length;
    var back = mean > 180 ? -360 : mean < -180 ? 360 : 0;
    return back ? out.map(function (point) { return [point[0] + back, point[1]]; }) : out;
  }

  function unwrap(geometry) {
    if (geometry.type === "Polygon") {
      geometry.coordinates = geometry.coordinates.map(unwrapRing);
    } else if (geometry.type === "MultiPolygon") {
      geometry.coordinates = geometry.coordinates.map(function (polygon) { return polygon.map(unwrapRing); });
    }
    return geometry;
  }

  // Natural Earth land, the finest scale the zoom asks for; each scale is read once, and only when needed.
  function landLayer(map, scales) {
    var pane = map.createPane("crowdmap-land");
    pane.style.zIndex = 150;  // below the tiles (200), the shapes (400) and the markers (600)
    var loaded = {};
    var shown = null;
    var wanted = false;

    function scaleFor(zoom) {
      var best = null;
      scales.forEach(function (scale) { if (zoom >= scale[0]) { best = scale; } });
      return best || scales[0];
    }
    function show(url) {
      if (shown === url || !loaded[url] || loaded[url] === "loading") { return; }
      if (shown && loaded[shown] !== "loading") { map.removeLayer(loaded[shown]); }
      loaded[url].addTo(map);
      shown = url;
      map.getContainer().dataset.land = "shown";
    }
    function update() {
      if (!wanted || !scales.length) { return; }
      var url = scaleFor(map.getZoom())[1];
      if (loaded[url]) { show(url); return; }
      loaded[url] = "loading";
      fetch(url).then(function (response) { return response.json(); }).then(function (topology) {
        var name = Object.keys(topology.objects)[0];
        var land = topojson.feature(topology, topology.objects[name]);
        (land.features || [land]).forEach(function (feature) { unwrap(feature.geometry); });
        loaded[url] = L.geoJSON(land,
                                { pane: "crowdmap-land", style: LAND_STYLE, attribution: NATURAL_EARTH });
        if (scaleFor(map.getZoom())[1] === url || !shown) { show(url); }
      }).catch(function () { delete loaded[url]; });
    }
    map.on("zoomend", update);
    return { want: function () { if (!wanted) { wanted = true; map.whenReady(update); } } };
  }

  // Leaflet's own words (English only) in the page's language, from the template: the zoom buttons' names (title
  // and aria-label; Tab reaches them), the pop-ups' close button, the title of the attribution's Leaflet link.
  function speak(map, words, zoomControl) {
    if (zoomControl) {
      map.zoomControl = L.control.zoom({ zoomInTitle: words.zoomInTitle || "Zoom in",
                                         zoomOutTitle: words.zoomOutTitle || "Zoom out" }).addTo(map);
    }
    if (words.closeLabel) {
      map.on("popupopen", function (event) {
        var close = event.popup.getElement() && event.popup.getElement().querySelector(".leaflet-popup-close-button");
        if (close) { close.setAttribute("aria-label", words.closeLabel); }
      });
    }
    if (words.leafletTitle && map.attributionControl) {
      var prefix = document.createElement("template");
      prefix.innerHTML = map.attributionControl.options.prefix || "";
      var link = prefix.content.querySelector("a");
      if (link) {
        link.title = words.leafletTitle;  // an attribute set through the DOM: the words are never read as HTML
        map.attributionControl.setPrefix(prefix.innerHTML);
      }
    }
  }

  function base(element, options) {
    // A maxZoom of its own: with no tile layer Leaflet has none, and clusters need one.
    options = options || {};
    var map = L.map(element, L.extend({ maxZoom: 19 }, options, { zoomControl: false }));
    element.classList.add("crowd-map");
    speak(map, element.dataset, options.zoomControl !== false);
    // The view, readable from the page (browser tests, other scripts): zoom and west,south,east,north.
    map.on("moveend", function () {
      element.dataset.zoom = String(map.getZoom());
      element.dataset.view = map.getBounds().toBBoxString();
    });
    var land = landLayer(map, readLand(element));
    var note = element.id ? document.querySelector('[data-map-note-for="' + element.id + '"]') : null;
    var tiles = element.dataset.tiles;
    element.dataset.background = "none";
    if (!tiles) {
      land.want();
      element.dataset.background = "land";
      return map;
    }
    var good = 0;
    // The tiles' attribution credits what shows: while no tile has loaded it is taken off (OSM drew nothing
    // here), and put back when one loads.
    var credit = element.dataset.attribution || "";
    var credited = true;
    L.tileLayer(tiles, {
      attribution: credit,
      maxZoom: 19,
      // OpenStreetMap's tile usage policy asks for a Referer; the site's own policy (same-origin) would send
      // none to another host. This sends the origin only (no path, no query: the filters stay private).
      referrerPolicy: "strict-origin-when-cross-origin"
    }).on("tileload", function () {
      good += 1;
      element.dataset.background = "tiles";
      if (note && !note.dataset.unconfigured) { note.hidden = true; }
      if (!credited && map.attributionControl) { map.attributionControl.addAttribution(credit); }
      credited = true;
    }).on("tileerror", function () {
      land.want();  // below the tiles: it shows where tiles are missing
      if (!good) {
        if (credited && credit && map.attributionControl) { map.attributionControl.removeAttribution(credit); }
        credited = false;
        if (note) { note.hidden = false; }
        if (element.dataset.background !== "land") {
          element.dataset.background = "land";
          map.fire("crowdmap:land");
        }
      }
    }).addTo(map);
    return map;
  }

  // One place (a sensor, or several at one spot) seen close up: a street-level view on tiles. On Natural Earth
  // land alone a street's scale is a plain square, so there the view stays at CLOSE_UP_ON_LAND (Natural Earth's
  // finest scale, 1:10m, is drawn from 8), where a coast within about 100 km still shows (the Markt in Eindhoven
  // and the North Sea; Melbourne and its bay); also when the tiles fail later, unless the reader moved the map.
  var CLOSE_UP = 16;
  var CLOSE_UP_ON_LAND = 8;

  function closeUp(map, latlng) {
    var element = map.getContainer();
    map.setView(latlng, element.dataset.background === "land" ? CLOSE_UP_ON_LAND : CLOSE_UP);
    if (element.dataset.background === "land") { return map; }
    map.off("crowdmap:land", map.crowdmapCloseUp);
    map.crowdmapCloseUp = function () {
      if (map.getZoom() === CLOSE_UP && map.getBounds().contains(latlng)) { map.setView(latlng, CLOSE_UP_ON_LAND); }
    };
    map.once("crowdmap:land", map.crowdmapCloseUp);
    return map;
  }

  // A divIcon whose element carries a name for screen readers (aria-label) and any data-* attributes; Leaflet
  // makes the element anew whenever the marker is added to the map (clusters add and remove them).
  var NamedIcon = L.DivIcon.extend({
    createIcon: function (oldIcon) {
      var element = L.DivIcon.prototype.createIcon.call(this, oldIcon);
      if (this.options.label) {
        element.setAttribute("aria-label", this.options.label);
        element.setAttribute("role", "img");  // a keyboard marker's element becomes role=button (Leaflet)
      }
      var data = this.options.data || {};
      Object.keys(data).forEach(function (key) { element.dataset[key] = data[key]; });
      return element;
    }
  });

  function icon(options) { return new NamedIcon(options); }

  function marker(latlng, options) {
    options = options || {};
    var name = options.name || "";
    var made = icon({ className: "crowd-marker " + (options.className || ""), iconSize: [18, 18], iconAnchor: [9, 9],
                      popupAnchor: [0, -8], html: "", label: name, data: options.data });
    return L.marker(latlng, { icon: made, keyboard: options.keyboard !== false, title: name, riseOnHover: true });
  }

  window.CrowdMap = { base: base, marker: marker, icon: icon, closeUp: closeUp };
})();
