// Evaluations side by side: ROC, PR and gain curves of each, overlaid.
(function () {
  "use strict";
  const source = document.getElementById("compare-data");
  if (!source || typeof Chart === "undefined") return;
  const c = JSON.parse(source.textContent);
  if (c.objective !== "binary") return;
  const C = window.OMMEvaluationCharts;
  const name = (e) =>
    interpolate(gettext("%(model)s v%(version)s (#%(id)s)"), { model: e.modelName, version: e.modelVersion, id: e.id }, true);
  const color = (i) => C.COLORS[i % C.COLORS.length];
  C.curve(document.getElementById("compare-roc"),
    c.evaluations.map((e, i) => C.line(name(e) + " AUC " + (e.metrics.auc === null ? "-" : e.metrics.auc.toFixed(4)), C.points(e.rocCurve, "fpr", "tpr"), color(i))),
    gettext("false positive rate"), gettext("true positive rate"));
  C.curve(document.getElementById("compare-pr"),
    c.evaluations.map((e, i) => C.line(name(e), C.points(e.prCurve, "recall", "precision"), color(i))),
    gettext("recall"), gettext("precision"), false);
  C.curve(document.getElementById("compare-gain"),
    c.evaluations.map((e, i) => C.line(name(e), [{ x: 0, y: 0 }].concat(C.points(e.deciles, "cumPopulationShare", "cumBadShare")), color(i), { pointRadius: 3 })),
    gettext("share of population, riskiest first"), gettext("share of bads caught"));
})();
