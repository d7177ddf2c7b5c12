// The open dashboard: per area its crowding level now and how busy it is against its own usual (map and
// list), and a chart of the last 24 hours with the usual number and the forecast. Every figure comes from
// the indicator API, read as anyone may (no cookies sent) under the public purpose the page names; the
// words come from the page (translated there), never from this script.
(function () {
  "use strict";

  var root = document.getElementById("dashboard");
  if (!root) { return; }
  var strings = JSON.parse(document.getElementById("dashboard-strings").textContent);
  var areas = JSON.parse(document.getElementById("dashboard-areas-data").textContent);
  var lang = document.documentElement.lang || "en";
  var status = document.getElementById("dashboard-status");
  var whole = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  var TIMES = "\u00d7";  // a ratio: 1.4×
  var oneDecimal = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var COLOURS = { green: "#2e7d32", yellow: "#f9c80e", orange: "#ef6c00", red: "#c62828", none: "#9e9e9e" };

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (match, name) { return name in values ? values[name] : match; });
  }

  function Problem(detail, status) { this.detail = detail; this.status = status; }

  // One indicator's values for every area of the dataset; a refusal or an error becomes a Problem.
  function read(code, extra) {
    var query = new URLSearchParams({ dataset: root.dataset.dataset, bucket: "15m" });
    areas.forEach(function (area) { query.append("area", area.id); });
    Object.keys(extra || {}).forEach(function (name) { query.set(name, extra[name]); });
    var url = root.dataset.valuesUrl.replace("CODE", code) + "?" + query.toString();
    return fetch(url, { credentials: "omit", headers: { Accept: "application/json", "X-Purpose": root.dataset.purpose } })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) {
            throw new Problem((body.detail || body.title || response.statusText) + " (HTTP " + response.status + ")",
                              response.status);
          }
          return body;
        });
      }, function () { throw new Problem(strings.noAnswer, 0); });
  }

  function byArea(body) {
    var found = {};
    areas.forEach(function (area) { found[area.id] = []; });
    body.results.forEach(function (cell) { (found[cell.area] = found[cell.area] || []).push(cell); });
    return found;
  }

  function has(cell, flag) { return cell.flags.indexOf(flag) >= 0; }
  function shown(cell) { return cell.value !== null && !has(cell, "suppressed") && !has(cell, "no_data"); }
  function latest(cells, accept) {
    for (var i = cells.length - 1; i >= 0; i -= 1) { if (accept(cells[i])) { return cells[i]; } }
    return null;
  }
  function when(text, zone) {
    return new Intl.DateTimeFormat(lang, { weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
                                        timeZone: zone })
      .format(new Date(text));
  }

  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
    status.setAttribute("role", kind === "error" ? "alert" : "status");
  }

  // The map: one shape per area, grey until its level is known.
  var mapElement = document.getElementById("dashboard-map");
  var map = CrowdMap.base(mapElement, { scrollWheelZoom: false });
  var shapes = {};
  areas.forEach(function (area) {
    var rings = L.GeoJSON.coordsToLatLngs(area.geometry.coordinates, area.geometry.type === "Polygon" ? 1 : 2);
    var shape = L.polygon(rings, { className: "dashboard-area", color: "#333", weight: 2, fillColor: COLOURS.none,
                                   fillOpacity: 0.6 });
    shape.bindTooltip(area.name, { permanent: true, direction: "right", offset: [12, 0], className: "dashboard-label" });
    shape.on("click", function () { select(area.id); });
    shape.addTo(map);
    shapes[area.id] = shape;
  });
  var bounds = L.featureGroup(Object.keys(shapes).map(function (id) { return shapes[id]; })).getBounds();
  map.fitBounds(bounds, { padding: [40, 40], maxZoom: 17 });

  var buttons = {};
  document.querySelectorAll("#dashboard-areas button").forEach(function (button) {
    buttons[button.dataset.area] = button;
    button.addEventListener("click", function () { select(Number(button.dataset.area)); });
  });

  var figures = null;  // per area: crowding, busyness and count cells; forecast cells when they came
  var selected = areas.length ? areas[0].id : null;
  var chart = null;

  function summary(areaId) {
    var crowding = latest(figures.crowding[areaId] || [], function (c) { return c.level !== null; });
    var busy = latest(figures.busyness[areaId] || [], function (c) { return shown(c) && !has(c, "incomplete"); });
    if (!crowding && !busy) { return { level: "none", text: strings.noData }; }
    var level = crowding ? crowding.level : "none";
    var words = [crowding ? strings.levels[crowding.level] : strings.noLevel];
    if (busy) { words.push(strings.busyness[busy.level] + " (" + oneDecimal.format(busy.value) + TIMES + ")"); }
    return { level: level, text: words.join(" · ") };
  }

  function showAreas() {
    areas.forEach(function (area) {
      var found = summary(area.id);
      var shape = shapes[area.id];
      shape.setStyle({ fillColor: COLOURS[found.level] || COLOURS.none });
      var path = shape.getElement();
      path.classList.add("level-" + found.level);
      path.setAttribute("data-level", found.level);
      shape.setTooltipContent(area.name + ": " + found.text);
      var button = buttons[area.id];
      if (button) { button.querySelector(".area-summary").textContent = found.text; }
    });
  }

  function select(areaId) {
    selected = areaId;
    Object.keys(buttons).forEach(function (id) {
      buttons[id].setAttribute("aria-pressed", String(Number(id) === areaId));
    });
    Object.keys(shapes).forEach(function (id) { shapes[id].setStyle({ weight: Number(id) === areaId ? 5 : 2 }); });
    if (figures) { draw(); }
  }

  // The chart and its table: past quarter hours (count, usual) then the forecast's.
  function draw() {
    var area = areas.filter(function (a) { return a.id === selected; })[0];
    if (!area) { return; }
    var zone = figures.zone;
    var rows = {};
    var order = [];
    function row(cell) {
      if (!rows[cell.start]) { rows[cell.start] = { start: cell.start }; order.push(cell.start); }
      return rows[cell.start];
    }
    (figures.count[area.id] || []).forEach(function (cell) { row(cell).count = cell; });
    (figures.busyness[area.id] || []).forEach(function (cell) { row(cell).usual = cell; });
    ((figures.forecast || {})[area.id] || []).forEach(function (cell) { row(cell).forecast = cell; });
    order.sort(function (a, b) { return new Date(a) - new Date(b); });
    var lines = order.map(function (start) { return rows[start]; });
    function value(cell) { return cell && shown(cell) ? cell.value : null; }
    function usual(cell) { return cell && cell.details && cell.details.baseline != null ? cell.details.baseline : null; }

    document.getElementById("dashboard-chart-heading").textContent = fill(strings.chartTitle, { area: area.name });
    var canvas = document.getElementById("dashboard-chart");
    canvas.setAttribute("aria-label", fill(strings.chartLabel, { area: area.name }));
    var data = {
      labels: lines.map(function (line) { return when(line.start, zone); }),
      datasets: [
        { label: strings.count, data: lines.map(function (l) { return value(l.count); }), borderColor: "#12355b",
          backgroundColor: "#12355b", borderWidth: 2, pointRadius: 0 },
        { label: fill(strings.usual, { weeks: figures.weeks }), data: lines.map(function (l) { return usual(l.usual); }),
          borderColor: "#6b7280", backgroundColor: "#6b7280", borderDash: [6, 4], borderWidth: 2, pointRadius: 0 },
        { label: strings.forecast, data: lines.map(function (l) { return value(l.forecast); }), borderColor: "#c2410c",
          backgroundColor: "#c2410c", borderDash: [2, 3], borderWidth: 2, pointRadius: 0 }
      ]
    };
    if (chart) {
      chart.data = data;
      chart.update();
    } else {
      chart = new Chart(canvas, {
        type: "line",
        data: data,
        options: {
          animation: false, responsive: true, maintainAspectRatio: false, spanGaps: false,
          interaction: { mode: "index", intersect: false },
          scales: { x: { ticks: { maxTicksLimit: 12, maxRotation: 0 } },
                    y: { beginAtZero: true, title: { display: true, text: strings.people } } },
          plugins: { legend: { position: "bottom", labels: { usePointStyle: true, pointStyle: "line" } } }
        }
      });
    }

    var events = lines.some(function (l) { return l.forecast && l.forecast.details && l.forecast.details.events > 0; });
    document.getElementById("dashboard-chart-note").textContent = events ? strings.events : "";

    function text(cell, number) {
      if (!cell) { return ""; }
      if (has(cell, "suppressed")) { return fill(strings.withheld, { k: figures.k }); }
      if (number === null) { return strings.noValue; }
      return whole.format(number);
    }
    var body = document.querySelector("#dashboard-table tbody");
    body.textContent = "";
    lines.forEach(function (line) {
      var tr = document.createElement("tr");
      [when(line.start, zone), text(line.count, value(line.count)), text(line.usual, usual(line.usual)),
       text(line.forecast, value(line.forecast))].forEach(function (content, index) {
        var cell = document.createElement(index === 0 ? "th" : "td");
        if (index === 0) { cell.scope = "row"; }
        cell.textContent = content;
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
  }

  select(selected);
  Promise.all([read("crowding-level"), read("busyness"), read("count")]).then(function (answers) {
    var count = answers[2];
    figures = { crowding: byArea(answers[0]), busyness: byArea(answers[1]), count: byArea(count), zone: count.tz,
                k: count.privacy.k, weeks: answers[1].parameters.weeks };
    document.getElementById("dashboard-k").textContent = String(count.privacy.k);
    showAreas();
    var any = count.results.some(shown);
    say(any ? fill(strings.period, { from: when(count.from, count.tz), to: when(count.to, count.tz) })
            : strings.noFigures);
    draw();
    root.dataset.state = any ? "ready" : "empty";
    var calendar = root.dataset.calendar ? { events: root.dataset.calendar } : {};
    return read("forecast", calendar).then(function (forecast) {
      figures.forecast = byArea(forecast);
      draw();
    }, function (problem) {
      document.getElementById("dashboard-chart-note").textContent = fill(strings.forecastError, { detail: problem.detail });
    }).then(function () { root.dataset.forecast = figures.forecast ? "ready" : "error"; });
  }).catch(function (problem) {
    say(fill(strings.error, { detail: problem.detail || String(problem) }), "error");
    document.getElementById("dashboard-chart-section").hidden = true;  // no empty chart: the message says why
    areas.forEach(function (area) {
      var button = buttons[area.id];
      if (button) { button.querySelector(".area-summary").textContent = strings.noLevel; }
    });
    root.dataset.state = "error";
  });
})();
