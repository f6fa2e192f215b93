/* Readiness charts: each <canvas data-chart="ID"> draws the JSON in <script id="ID">. The figures are also
   in a table under each chart, so nothing is lost without JavaScript or a screen. Uses the vendored Chart.js. */
(function () {
  "use strict";

  var DAY = 24 * 3600 * 1000;

  function day(ms) {
    var d = new Date(ms);
    return d.toISOString().slice(0, 10);
  }

  var builders = {
    "inventory-history": function (data) {
      return {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [
            { label: "Ready features", data: data.ready, borderColor: "#16a34a", backgroundColor: "#16a34a",
              yAxisID: "count", stepped: true, pointRadius: 2 },
            { label: "Features", data: data.features, borderColor: "#9ca3af", backgroundColor: "#9ca3af",
              yAxisID: "count", borderDash: [4, 4], pointRadius: 0 },
            { label: "Mean readiness (%)", data: data.mean_percent, borderColor: "#2563eb", backgroundColor: "#2563eb",
              yAxisID: "percent", pointRadius: 2 }
          ]
        },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          interaction: { mode: "index", intersect: false },
          scales: {
            count: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 },
                     title: { display: true, text: "features (count)" } },
            percent: { type: "linear", position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
                       title: { display: true, text: "mean readiness %" } }
          }
        }
      };
    },
    "feature-history": function (data) {
      return {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [{ label: "Checklist in place (%)", data: data.percent, borderColor: "#2563eb",
                       backgroundColor: "rgba(37, 99, 235, 0.15)", fill: true, stepped: true, pointRadius: 2 }]
        },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          scales: { x: { title: { display: true, text: "day (the last is now)" } },
                    y: { min: 0, max: 100, title: { display: true, text: "checklist in place (%)" } } },
          plugins: {
            tooltip: {
              callbacks: {
                afterLabel: function (context) {
                  var row = data.rows[context.dataIndex];
                  if (!row) { return ""; }
                  var count = row.ok + " of " + row.total + " in place" + (row.now ? " (now)" : "");
                  return row.missing.length ? count + "; missing: " + row.missing.join(", ") : count + "; ready";
                }
              }
            }
          }
        }
      };
    },
    // One small chart per evaluation kind (and unit): each metric's scores as a line, its threshold dashed in
    // the same colour, the y axis titled with the unit. ``data.charts[canvas.dataset.chartGroup]`` is this one.
    "evaluations": function (data, canvas) {
      var chart = data.charts[Number(canvas.getAttribute("data-chart-group") || 0)];
      if (!chart) { return null; }
      var datasets = [], xs = [], ys = [];
      chart.series.forEach(function (set) {
        set.points.forEach(function (p) { xs.push(p.x); ys.push(p.y, p.threshold); });
      });
      var xmin = Math.min.apply(null, xs), xmax = Math.max.apply(null, xs);
      if (xmax - xmin < DAY) { xmin -= DAY; xmax += DAY; }  // one run: a day either side, so a line shows
      var xpad = (xmax - xmin) * 0.04;  // no point sits on the chart's edge, half cut off
      xmin -= xpad; xmax += xpad;
      // The y axis: every score and threshold with a margin, never past what the unit allows (0 to 1 for a
      // score; nothing below 0 for a latency).
      var ymin = Math.min.apply(null, ys), ymax = Math.max.apply(null, ys);
      var ypad = Math.max((ymax - ymin) * 0.15, Math.abs(ymax) * 0.02, 0.01);
      ymin -= ypad; ymax += ypad;
      var y = { suggestedMin: ymin, suggestedMax: ymax, title: { display: true, text: chart.axis } };
      if (Math.min.apply(null, ys) >= 0 && ymin <= 0) { y.min = 0; }
      if (chart.unit === "share" && ymax >= 1) { y.max = 1; }
      chart.series.forEach(function (set) {
        var unit = set.suffix || "";
        datasets.push({ label: set.label, data: set.points, borderColor: set.color, backgroundColor: set.color,
                        pointRadius: 3, pointStyle: set.points.map(function (p) { return p.passed ? "circle" : "crossRot"; }),
                        showLine: true, tension: 0, clip: 6, unit: unit, higher: set.higher_is_better });
        datasets.push({ label: set.label + " threshold (" + (set.higher_is_better ? "≥ " : "≤ ") +
                               set.points[set.points.length - 1].threshold + unit + ")",
                        // across the whole chart: from its first day to its last, stepping where it changed
                        data: [{ x: xmin, y: set.points[0].threshold }].concat(
                          set.points.map(function (p) { return { x: p.x, y: p.threshold }; }),
                          [{ x: xmax, y: set.points[set.points.length - 1].threshold }]),
                        borderColor: set.color, backgroundColor: "transparent", borderDash: [6, 4], borderWidth: 1.5,
                        pointRadius: 0, stepped: "before", showLine: true, isThreshold: true });
      });
      return {
        type: "line",
        data: { datasets: datasets },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false, parsing: { xAxisKey: "x", yAxisKey: "y" },
          scales: {
            x: { type: "linear", min: xmin, max: xmax,
                 ticks: { callback: function (value) { return day(value); }, maxTicksLimit: 4 },
                 title: { display: true, text: "date run (UTC)" } },
            y: y
          },
          plugins: {
            legend: { labels: { boxWidth: 18, font: { size: 11 } } },
            tooltip: {
              filter: function (item) { return !item.dataset.isThreshold; },
              callbacks: {
                title: function (items) { return items.length ? day(items[0].raw.x) : ""; },
                label: function (context) {
                  var p = context.raw, set = context.dataset;
                  return set.label + " v" + p.version + ": " + p.y + set.unit + " (threshold " +
                         (set.higher ? "≥ " : "≤ ") + p.threshold + set.unit + ", " + (p.passed ? "passed" : "failed") + ")";
                }
              }
            }
          }
        }
      };
    }
  };

  function draw() {
    if (typeof window.Chart === "undefined") { return; }  // the tables below each chart still show the figures
    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source || canvas.dataset.drawn) { return; }
      var data = JSON.parse(source.textContent);
      var build = builders[data.kind];
      var config = build ? build(data, canvas) : null;
      if (!config) { return; }
      new window.Chart(canvas, config);
      canvas.dataset.drawn = "1";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
