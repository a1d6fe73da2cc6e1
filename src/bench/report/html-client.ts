/**
 * The script of the HTML report, run in the browser: draws the charts
 * with Chart.js (inlined in the page) from the report data embedded as
 * JSON: one latency histogram per candidate (TTFT and total time of its
 * answers, ms) and quality versus cost — or versus median total time when
 * every candidate costs the same (the canvas's `data-x-axis`, set by
 * html.ts) — a color per candidate, a point shape per quality measure.
 */

/** Browser code, as a string; it reads `#bench-data` and the global `Chart`. */
export const CLIENT_SCRIPT = String.raw`
(function () {
  "use strict";
  var report = JSON.parse(document.getElementById("bench-data").textContent);
  var palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"];
  Chart.defaults.animation = false;
  Chart.defaults.font.family = "system-ui, sans-serif";

  function histogram(values, edges) {
    var counts = edges.slice(0, -1).map(function () { return 0; });
    values.forEach(function (v) {
      for (var i = 0; i < counts.length; i++) {
        if (v < edges[i + 1] || i === counts.length - 1) { counts[i]++; break; }
      }
    });
    return counts;
  }

  var answers = [];
  report.cases.forEach(function (c) { c.answers.forEach(function (a) { if (!a.error) answers.push(a); }); });
  var maxMs = Math.max.apply(null, [1].concat(answers.map(function (a) { return a.totalMs; })));
  var bins = 10;
  var step = Math.max(1, Math.ceil(maxMs / bins));
  var edges = [];
  for (var e = 0; e <= bins; e++) edges.push(e * step);
  var labels = edges.slice(0, -1).map(function (lo, i) { return lo + "–" + edges[i + 1] + " ms"; });

  report.candidates.forEach(function (summary, index) {
    var canvas = document.querySelector('canvas.latency-chart[data-index="' + index + '"]');
    if (!canvas) return;
    var mine = answers.filter(function (a) { return a.candidate === summary.candidate; });
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          { label: "TTFT", data: histogram(mine.filter(function (a) { return a.ttftMs !== null; }).map(function (a) { return a.ttftMs; }), edges), backgroundColor: "#93c5fd" },
          { label: "total", data: histogram(mine.map(function (a) { return a.totalMs; }), edges), backgroundColor: palette[index % palette.length] }
        ]
      },
      options: {
        responsive: false,
        plugins: { title: { display: true, text: summary.candidate + ": latency distribution (" + mine.length + " answers)" } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "answers" } } }
      }
    });
  });

  var qualityCanvas = document.getElementById("quality-chart");
  if (qualityCanvas) {
    var byLatency = qualityCanvas.getAttribute("data-x-axis") === "latency";
    var measures = [
      { key: "meanEditSimilarity", label: "edit similarity", scale: 1, style: "circle" },
      { key: "meanTokenF1", label: "token F1", scale: 1, style: "triangle" },
      { key: "judgeMean", label: "judge / 10", scale: 10, style: "rect" }
    ];
    var plotted = report.candidates.filter(function (c) { return !byLatency || c.totalMs.p50 !== null; });
    var datasets = plotted.map(function (c, i) {
      var points = measures.filter(function (m) { return c[m.key] !== null; }).map(function (m) {
        var x = byLatency ? c.totalMs.p50 : (c.costUsd === null ? 0 : c.costUsd);
        return { x: x, y: c[m.key] / m.scale, measure: m.label, style: m.style, priced: c.costUsd !== null };
      });
      return {
        label: c.candidate + (!byLatency && c.costUsd === null ? " (no price)" : ""),
        data: points,
        pointStyle: points.map(function (p) { return p.style; }),
        pointRadius: 8,
        backgroundColor: palette[report.candidates.indexOf(c) % palette.length],
        borderColor: palette[report.candidates.indexOf(c) % palette.length]
      };
    });
    var xLabel = byLatency ? "median total time of the successful answers (ms)" : "total cost of the run's answers (USD; no price = 0)";
    new Chart(qualityCanvas, {
      type: "scatter",
      data: { datasets: datasets },
      options: {
        responsive: false,
        plugins: {
          title: { display: true, text: (byLatency ? "quality versus latency (every candidate costs the same)" : "cost versus quality") + ": ● edit similarity  ▲ token F1  ■ judge / 10" },
          tooltip: { callbacks: { label: function (ctx) {
            var p = ctx.raw;
            var x = byLatency ? Math.round(p.x) + " ms" : (p.priced ? "$" + p.x.toPrecision(3) : "no price");
            return ctx.dataset.label + ": " + p.measure + " " + p.y.toFixed(3) + ", " + x;
          } } }
        },
        scales: {
          x: { beginAtZero: true, title: { display: true, text: xLabel } },
          y: { min: 0, max: 1, title: { display: true, text: "mean quality (0–1)" } }
        }
      }
    });
  }
  document.body.setAttribute("data-charts", "ready");
})();
`;
