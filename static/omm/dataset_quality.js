// Draws the quality report's charts from the report JSON embedded in the page.
(function () {
  "use strict";
  const q = JSON.parse(document.getElementById("quality-data").textContent);
  const opts = { animation: false, plugins: { legend: { display: false } } };
  // A column's kind in the page's language (the report keeps the code).
  const KIND_TEXT = {
    numerical: pgettext("column kind", "numerical"),
    categorical: pgettext("column kind", "categorical"),
    text: pgettext("column kind", "text"),
    datetime: pgettext("column kind", "datetime"),
    boolean: pgettext("column kind", "boolean"),
  };

  new Chart(document.getElementById("missing-chart"), {
    type: "bar",
    data: {
      labels: q.columns.map((c) => c.name),
      datasets: [{ label: gettext("missing share"), data: q.columns.map((c) => c.missingShare), backgroundColor: "#d9534f" }],
    },
    options: Object.assign({}, opts, { scales: { y: { beginAtZero: true, max: 1 } } }),
  });

  const holder = document.getElementById("column-charts");
  function fmt(x) {
    return typeof x === "number" ? (Math.abs(x) >= 1000 ? x.toFixed(0) : x.toPrecision(3)) : String(x);
  }
  q.columns.forEach((c) => {
    const box = document.createElement("div");
    box.className = "card column-card";
    const title = document.createElement("h3");
    title.textContent = c.name + " · " + (KIND_TEXT[c.kind] || c.kind);
    box.appendChild(title);
    const facts = document.createElement("p");
    facts.className = "muted";
    const parts = [
      interpolate(
        gettext("missing %(count)s (%(share)s)"),
        { count: c.missing, share: (100 * c.missingShare).toFixed(1) + "%" },
        true,
      ),
      interpolate(gettext("distinct %(count)s"), { count: c.distinct }, true),
    ];
    if (c.kind === "numerical" && c.mean !== undefined && c.mean !== null) {
      parts.push(
        interpolate(gettext("mean %(value)s"), { value: fmt(c.mean) }, true),
        interpolate(gettext("std %(value)s"), { value: fmt(c.std) }, true),
        interpolate(gettext("min %(value)s"), { value: fmt(c.min) }, true),
        interpolate(gettext("max %(value)s"), { value: fmt(c.max) }, true),
      );
      if (c.outliers) {
        parts.push(
          interpolate(gettext("IQR outliers %(count)s"), { count: c.outliers.iqr.count }, true),
          interpolate(gettext("|z|>3: %(count)s"), { count: c.outliers.zscore.count }, true),
        );
      }
    }
    if (c.constant) parts.push(gettext("CONSTANT"));
    else if (c.nearConstant) parts.push(gettext("near-constant"));
    facts.textContent = parts.join(" · ");
    box.appendChild(facts);
    const canvas = document.createElement("canvas");
    canvas.height = 140;
    box.appendChild(canvas);
    holder.appendChild(box);
    let labels = [];
    let values = [];
    if (c.histogram && c.histogram.counts) {
      // Numbers carry bin edges; dates carry one label per calendar period.
      labels = c.histogram.labels || c.histogram.counts.map((_, i) => fmt(c.histogram.edges[i]));
      values = c.histogram.counts;
    } else if (c.topValues) {
      labels = c.topValues.map((t) => String(t.value));
      values = c.topValues.map((t) => t.count);
    }
    new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ data: values, backgroundColor: "#3b7dd8" }] },
      options: opts,
    });
  });
})();
