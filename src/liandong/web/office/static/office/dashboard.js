/* The dashboard's charts, drawn with the project's own copy of Plotly (office/vendor/plotly.min.js) from the numbers
   the page holds in #dashboard-charts: each chart's series are the columns of its CSV (money as two-decimal strings,
   the payout ratio as a decimal). Without JavaScript the page still shows every figure, and the CSVs their days. */
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("dashboard-charts");
    if (!holder || !window.Plotly) { return; }
    var specs = JSON.parse(holder.textContent);
    Object.keys(specs).forEach(function (name) {
      var spec = specs[name];
      var area = document.getElementById("chart-" + name);
      if (!area) { return; }
      var traces = spec.series.map(function (s) {
        var y = s.y.map(function (v) { return v === "" ? null : Number(v) * (spec.kind === "ratio" ? 100 : 1); });
        var trace = {x: spec.x, y: y, name: s.name, type: s.type === "line" ? "scatter" : "bar"};
        if (s.type === "line") { trace.mode = "lines+markers"; }
        return trace;
      });
      var yaxis = {rangemode: "tozero", ticksuffix: spec.kind === "ratio" ? "%" : "",
                   tickprefix: spec.kind === "money" ? "¥" : "", automargin: true};
      if (spec.kind === "count") { yaxis.tickformat = ",d"; }
      var layout = {barmode: spec.barmode, height: 300, margin: {l: 50, r: 10, t: 10, b: 40},
                    showlegend: true, legend: {orientation: "h", y: -0.2}, xaxis: {type: "category", automargin: true}, yaxis: yaxis,
                    font: {size: 12}};
      area.setAttribute("data-drawn", "1");
      window.Plotly.newPlot(area, traces, layout, {displaylogo: false, responsive: true,
                                                   modeBarButtonsToRemove: ["sendDataToCloud"]});
    });
  }
  function customOnDates() {  // choosing a day means a custom period
    var form = document.querySelector("[data-period-form]");
    if (!form) { return; }
    ["from", "to"].forEach(function (name) {
      form.elements[name].addEventListener("change", function () { form.elements.period.value = "custom"; });
    });
  }
  function start() { customOnDates(); draw(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
