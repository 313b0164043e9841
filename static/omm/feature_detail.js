// Distribution chart of a feature: histogram for numbers, top values for categories.
(function () {
  "use strict";
  const stats = JSON.parse(document.getElementById("stats-data").textContent);
  const canvas = document.getElementById("stats-chart");
  let labels = [];
  let values = [];
  if (stats.histogram && stats.histogram.counts) {
    labels = stats.histogram.labels || stats.histogram.counts.map((_, i) => Number(stats.histogram.edges[i]).toPrecision(3));
    values = stats.histogram.counts;
  } else if (stats.topValues) {
    labels = stats.topValues.map((t) => String(t.value));
    values = stats.topValues.map((t) => t.count);
  }
  new Chart(canvas, {
    type: "bar",
    data: { labels: labels, datasets: [{ data: values, backgroundColor: "#3b7dd8" }] },
    options: { animation: false, plugins: { legend: { display: false } } },
  });
})();
