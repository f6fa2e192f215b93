/* Readiness charts: each <canvas data-chart="ID"> draws the JSON in <script id="ID">. The figures are also
   in a table under each chart, so nothing is lost without JavaScript or a screen. Uses the vendored Chart.js. */
(function () {
  "use strict";

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
          animation: false, responsive: true, interaction: { mode: "index", intersect: false },
          scales: {
            count: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 },
                     title: { display: true, text: "features" } },
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
          animation: false, responsive: true,
          scales: { y: { min: 0, max: 100, title: { display: true, text: "% in place" } } },
          plugins: {
            tooltip: {
              callbacks: {
                afterLabel: function (context) {
                  var row = data.rows[context.dataIndex];
                  return row && row.missing.length ? "Missing: " + row.missing.join(", ") : "Ready";
                }
              }
            }
          }
        }
      };
    },
    "evaluations": function (data) {
      return {
        type: "line",
        data: {
          datasets: data.datasets.map(function (set) {
            return { label: set.label, data: set.points, borderColor: set.color, backgroundColor: set.color,
                     pointRadius: 3, showLine: true, tension: 0 };
          })
        },
        options: {
          animation: false, responsive: true, parsing: { xAxisKey: "x", yAxisKey: "y" },
          scales: {
            x: { type: "linear", ticks: { callback: function (value) { return day(value); }, maxTicksLimit: 8 },
                 title: { display: true, text: "run at" } },
            y: { title: { display: true, text: "score" } }
          },
          plugins: {
            tooltip: {
              callbacks: {
                title: function (items) { return items.length ? day(items[0].raw.x) : ""; },
                label: function (context) {
                  var p = context.raw;
                  return context.dataset.label + " v" + p.version + ": " + p.y + " (threshold " + p.threshold + ", " +
                         (p.passed ? "passed" : "failed") + ")";
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
      if (!build) { return; }
      new window.Chart(canvas, build(data));
      canvas.dataset.drawn = "1";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
