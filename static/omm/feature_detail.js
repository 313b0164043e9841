// Distribution chart of a feature: histogram for numbers, top values for categories.
(function () {
  "use strict";
  const stats = JSON.parse(document.getElementById("stats-data").textContent);
  const canvas = document.getElementById("stats-chart");
  let labels = [];
  let values = [];
  let title = "";
  if (stats.histogram && stats.histogram.counts) {
    labels = stats.histogram.labels || stats.histogram.counts.map((_, i) => Number(stats.histogram.edges[i]).toPrecision(3));
    values = stats.histogram.counts;
    title = gettext("Distribution of the values");
  } else if (stats.topValues) {
    labels = stats.topValues.map((t) => String(t.value));
    values = stats.topValues.map((t) => t.count);
    title = interpolate(gettext("The %(n)s most frequent values"), { n: labels.length }, true);
  }
  new Chart(canvas, {
    type: "bar",
    data: { labels: labels, datasets: [{ label: gettext("Rows"), data: values, backgroundColor: "#3b7dd8" }] },
    options: {
      animation: false,
      plugins: { legend: { display: false }, title: { display: Boolean(title), text: title } },
      scales: { y: { title: { display: true, text: gettext("Rows") } } },
    },
  });
})();
