// A version's monitoring page: score PSI by period (with the alert line), CSI per feature,
// the score-band distribution, realised and estimated (CBPE) event rate and AUC/KS, and
// vintage curves. Data from the page's JSON script; labels through gettext.
(function () {
  "use strict";
  const source = document.getElementById("monitoring-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const COLORS = ["#3b7dd8", "#d9534f", "#2e8b57", "#8a6100", "#7b4bb7", "#17a2b8", "#6c757d", "#e67e22", "#1f3a5f", "#c0392b"];
  const periods = data.periods;
  const labels = periods.map((p) => p.periodStart);
  const metric = (name) => periods.map((p) => (p.status === "ok" || name !== "scorePsi" ? p.metrics[name] : null));
  const color = (i) => COLORS[i % COLORS.length];

  function chart(id, type, datasets, options) {
    const canvas = document.getElementById(id);
    if (!canvas) return null;
    return new Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ animation: false, spanGaps: true }, options || {}),
    });
  }

  // Insufficient periods draw no PSI point: too few rows to read as drift.
  chart("psi-chart", "line", [
    { label: gettext("score PSI"), data: metric("scorePsi"), borderColor: color(0), backgroundColor: color(0) },
    {
      label: gettext("alert threshold"),
      data: labels.map(() => data.psiThreshold),
      borderColor: "#d9534f",
      borderDash: [6, 4],
      pointRadius: 0,
      borderWidth: 1,
    },
  ]);

  // The features that ever moved most, at most eight lines.
  const top = {};
  periods.forEach((p) => p.csi.forEach((c) => { top[c.feature] = Math.max(top[c.feature] || 0, c.csi || 0); }));
  const features = Object.keys(top).sort((a, b) => top[b] - top[a]).slice(0, 8);
  chart(
    "csi-chart",
    "line",
    features.map((f, i) => ({
      label: f,
      data: periods.map((p) => { const row = p.csi.find((c) => c.feature === f); return row ? row.csi : null; }),
      borderColor: color(i),
      backgroundColor: color(i),
    }))
  );

  chart(
    "bands-chart",
    "bar",
    data.bands.map((band, i) => ({
      label: band,
      data: periods.map((p) => (p.bands[i] ? p.bands[i].share : null)),
      backgroundColor: color(i),
    })),
    { scales: { x: { stacked: true }, y: { stacked: true, min: 0, max: 1, title: { display: true, text: gettext("share of rows") } } } }
  );

  chart("event-rate-chart", "line", [
    { label: gettext("event rate (realised)"), data: metric("eventRate"), borderColor: color(1), backgroundColor: color(1) },
    { label: gettext("event rate (estimated)"), data: metric("estimatedEventRate"), borderColor: color(1), borderDash: [5, 4], backgroundColor: color(1) },
  ]);

  chart("auc-chart", "line", [
    { label: gettext("AUC (realised)"), data: metric("auc"), borderColor: color(0), backgroundColor: color(0) },
    { label: gettext("AUC (estimated)"), data: metric("estimatedAuc"), borderColor: color(0), borderDash: [5, 4], backgroundColor: color(0) },
    { label: "KS", data: metric("ks"), borderColor: color(2), backgroundColor: color(2) },
  ]);

  const canvas = document.getElementById("vintage-chart");
  if (canvas && data.vintages.length) {
    new Chart(canvas, {
      type: "scatter",
      data: {
        datasets: data.vintages.map((v, i) => ({
          label: v.cohort,
          data: v.points.map((p) => ({ x: p.mob, y: p.event_rate })),
          showLine: true,
          borderColor: color(i),
          backgroundColor: color(i),
        })),
      },
      options: {
        animation: false,
        scales: {
          x: { type: "linear", title: { display: true, text: gettext("months on book") }, ticks: { stepSize: 1 } },
          y: { min: 0, title: { display: true, text: gettext("cumulative event rate") } },
        },
      },
    });
  }
})();
