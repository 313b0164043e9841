// An evaluation's report: while its task runs, follows the status (1 s) and reloads when it
// ends; once completed, draws ROC, PR, KS, lift, score distribution and importance charts.
(function () {
  "use strict";
  const card = document.getElementById("evaluation");
  if (!card) return;
  const FINAL = ["completed", "failed", "cancelled"];
  // Status words as the server renders them (the evaluation_status template filter).
  const STATUS = {
    pending: pgettext("evaluation status", "pending"),
    running: pgettext("evaluation status", "running"),
    completed: pgettext("evaluation status", "completed"),
    failed: pgettext("evaluation status", "failed"),
    cancelled: pgettext("evaluation status", "cancelled"),
  };

  if (card.dataset.final !== "1") {
    const badge = document.getElementById("status");
    const bar = document.getElementById("progress-bar");
    const meter = document.getElementById("progress");
    const text = document.getElementById("progress-text");
    const note = document.getElementById("poll-note");
    const poll = async function () {
      try {
        const task = await OMM.api(card.dataset.statusUrl + "?limit=1");
        // A queued task is a pending evaluation.
        const status = task.status === "queued" ? "pending" : task.status;
        badge.textContent = STATUS[status] || status;
        badge.className = "badge " + status;
        const percent = Math.round(task.progress);
        bar.style.width = task.progress + "%";
        meter.setAttribute("aria-valuenow", String(percent));
        text.textContent = percent + "%";
        note.textContent = "";
        if (FINAL.includes(task.status)) {
          window.location.reload();
          return;
        }
      } catch (error) {
        note.textContent = interpolate(gettext("could not refresh: %(error)s"), { error: error.message }, true);
      }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 1000);
    return;
  }

  const source = document.getElementById("evaluation-data");
  if (!source || typeof Chart === "undefined") return;
  const r = JSON.parse(source.textContent);
  const C = window.OMMEvaluationCharts;
  const el = (id) => document.getElementById(id);
  // How importance was measured, as the report's heading names it.
  const METHODS = {
    gain: pgettext("importance method", "gain"),
    coefficient: pgettext("importance method", "coefficient"),
    impurity: pgettext("importance method", "impurity"),
    none: pgettext("importance method", "none"),
  };

  if (r.rocCurve) {
    C.curve(el("roc-chart"), [C.line("ROC (AUC " + r.metrics.auc.toFixed(4) + ")", C.points(r.rocCurve, "fpr", "tpr"), C.COLORS[0])],
      gettext("false positive rate"), gettext("true positive rate"));
    const ks = r.rocCurve.reduce((best, p) => (Math.abs(p.tpr - p.fpr) > Math.abs(best.tpr - best.fpr) ? p : best), r.rocCurve[0]);
    C.curve(el("ks-chart"), [
      C.line(gettext("bads (TPR)"), C.points(r.rocCurve, "population", "tpr"), C.COLORS[1]),
      C.line(gettext("goods (FPR)"), C.points(r.rocCurve, "population", "fpr"), C.COLORS[2]),
      C.line("KS " + r.metrics.ks.toFixed(4), [{ x: ks.population, y: ks.fpr }, { x: ks.population, y: ks.tpr }], C.COLORS[3], { borderWidth: 3 }),
    ], gettext("share of population, riskiest first"), gettext("cumulative share"));
  }
  if (r.prCurve) {
    const rate = r.baseRate;
    C.curve(el("pr-chart"), [C.line(gettext("precision-recall"), C.points(r.prCurve, "recall", "precision"), C.COLORS[0])],
      gettext("recall"), gettext("precision"),
      { label: gettext("bad rate (random)"), points: [{ x: 0, y: rate }, { x: 1, y: rate }] });
  }
  if (r.deciles && el("lift-chart")) {
    new Chart(el("lift-chart"), {
      data: {
        labels: r.deciles.map((d) => d.bucket),
        datasets: [
          { type: "bar", label: gettext("bad rate"), data: r.deciles.map((d) => d.badRate), backgroundColor: C.COLORS[1], yAxisID: "y" },
          { type: "line", label: gettext("cumulative lift"), data: r.deciles.map((d) => d.cumLift), borderColor: C.COLORS[0], backgroundColor: C.COLORS[0], yAxisID: "lift" },
        ],
      },
      options: {
        animation: false,
        scales: {
          x: { title: { display: true, text: gettext("bucket (1 = riskiest)") } },
          y: { beginAtZero: true, title: { display: true, text: gettext("bad rate") } },
          lift: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: gettext("cumulative lift") } },
        },
      },
    });
  }
  if (r.psi && el("distribution-chart")) {
    new Chart(el("distribution-chart"), {
      type: "bar",
      data: {
        labels: r.psi.rows.map((b) => b.label),
        datasets: [
          { label: gettext("baseline (training)"), data: r.psi.rows.map((b) => b.baselineShare), backgroundColor: C.COLORS[6] },
          { label: gettext("current"), data: r.psi.rows.map((b) => b.currentShare), backgroundColor: C.COLORS[0] },
        ],
      },
      options: { animation: false, scales: { y: { beginAtZero: true, title: { display: true, text: gettext("share of rows") } } } },
    });
  }
  if (r.featureImportance && el("importance-chart")) {
    const top = r.featureImportance.slice(0, 20);
    new Chart(el("importance-chart"), {
      type: "bar",
      data: { labels: top.map((f) => f.feature), datasets: [{ label: METHODS[r.importanceMethod] || r.importanceMethod, data: top.map((f) => f.importanceShare), backgroundColor: C.COLORS[2] }] },
      options: { animation: false, indexAxis: "y", scales: { x: { beginAtZero: true, title: { display: true, text: gettext("share of total") } } } },
    });
  }
})();
