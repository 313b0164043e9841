// Chart.js drawings shared by the evaluation report and the comparison page. Labels come in
// translated (gettext from the JavaScript catalogue, loaded by base.html).
(function () {
  "use strict";
  const COLORS = ["#3b7dd8", "#d9534f", "#2e8b57", "#8a6100", "#7b4bb7", "#17a2b8", "#6c757d", "#e67e22", "#1f3a5f", "#c0392b"];
  const unit = { min: 0, max: 1 };

  function line(label, points, color, extra) {
    return Object.assign(
      { label: label, data: points, borderColor: color, backgroundColor: color, showLine: true, pointRadius: 0, borderWidth: 2 },
      extra || {}
    );
  }

  // A chart on [0, 1] x [0, 1] with a reference line: by default the diagonal (a random
  // score); a PR chart passes the bad rate instead, or false for none.
  function curve(canvas, datasets, xTitle, yTitle, reference) {
    if (!canvas) return null;
    if (reference !== false) {
      const ref = reference || { label: gettext("random"), points: [{ x: 0, y: 0 }, { x: 1, y: 1 }] };
      datasets.push(line(ref.label, ref.points, "#bbb", { borderDash: [4, 3], borderWidth: 1 }));
    }
    return new Chart(canvas, {
      type: "scatter",
      data: { datasets: datasets },
      options: {
        animation: false,
        scales: {
          x: Object.assign({ type: "linear", title: { display: true, text: xTitle } }, unit),
          y: Object.assign({ title: { display: true, text: yTitle } }, unit),
        },
      },
    });
  }

  function points(rows, x, y) {
    return (rows || []).map((p) => ({ x: p[x], y: p[y] }));
  }

  window.OMMEvaluationCharts = { COLORS: COLORS, line: line, curve: curve, points: points };
})();
