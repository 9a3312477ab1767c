// Draws every <canvas data-chart> from the JSON in the <script> its data-source names.
(function () {
  "use strict";

  var STAGE_COLOURS = ["#93c5fd", "#3b82f6", "#1e3a8a"];
  var LINE_COLOUR = "#0f766e";

  function stackedBar(data) {
    data.datasets.forEach(function (set, i) {
      set.backgroundColor = STAGE_COLOURS[i % STAGE_COLOURS.length];
      set.borderRadius = 3;
    });
    return {
      type: "bar",
      data: data,
      options: {
        scales: {
          x: { stacked: true, grid: { display: false } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    };
  }

  function shortDay(iso) {
    var day = new Date(iso + "T00:00:00Z");
    return day.toLocaleDateString("en", { month: "short", day: "numeric", timeZone: "UTC" });
  }

  function line(data) {
    data.datasets.forEach(function (set) {
      set.borderColor = LINE_COLOUR;
      set.backgroundColor = "rgba(15, 118, 110, 0.12)";
      set.fill = true;
      set.pointRadius = data.labels.length > 40 ? 0 : 3;
    });
    return {
      type: "line",
      data: data,
      options: {
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 } },
          x: {
            grid: { display: false },
            ticks: {
              maxRotation: 0,
              autoSkipPadding: 12,
              callback: function (value) { return shortDay(this.getLabelForValue(value)); },
            },
          },
        },
        plugins: { legend: { display: false } },
      },
    };
  }

  function groupedBar(data) {
    data.datasets.forEach(function (set, i) {
      set.backgroundColor = i === 0 ? LINE_COLOUR : "#94a3b8";
      set.borderRadius = 3;
    });
    return {
      type: "bar",
      data: data,
      options: { scales: { x: { grid: { display: false } }, y: { beginAtZero: true, ticks: { precision: 0 } } } },
    };
  }

  var KINDS = { "stacked-bar": stackedBar, line: line, "grouped-bar": groupedBar };

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.source);
    var build = KINDS[canvas.dataset.chart];
    if (!source || !build || window.Chart.getChart(canvas)) return;
    var config = build(JSON.parse(source.textContent));
    config.options.animation = false;
    config.options.responsive = true;
    config.options.maintainAspectRatio = false;
    config.options.plugins = Object.assign(
      { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      config.options.plugins
    );
    new window.Chart(canvas, config);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Chart) return;
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = "#475569";
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
