"""Drift monitoring: the daily monitor, the alerts a monitoring run raises, review flags.

``monitor_run`` (daily) evaluates each active classification or regression version on the
newest validated version of its training dataset (or of the dataset the
``evaluations-monitor-datasets`` setting names). When such a run completes, its commit
calls ``drift_alerts_raise``: PSI and the drop of AUC (or rise of RMSE) against the
version's training metrics are checked against the ``evaluations-*-alert`` settings; an
alert is recorded on the evaluation and the version is marked for review through
``version_flag`` (which writes its audit event).
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils.translation import gettext, gettext_noop

from apps.core.config import config_get
from apps.models import services as registry
from apps.models.models import ModelVersion
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid

from . import selectors, texts
from .models import Evaluation, Objective
from .services import evaluation_create

logger = logging.getLogger(__name__)

# Features named in a drift alert: the most shifted ones, at most this many.
ALERT_FEATURES = 5


def drift_alerts_compute(
    *, version: ModelVersion, objective: str, figures: dict, report: dict
) -> list[dict[str, Any]]:
    """The alerts a monitoring evaluation raises, from the ``evaluations-*-alert`` settings.

    PSI of the score >= ``evaluations-psi-alert``; AUC below the version's training AUC by
    >= ``evaluations-auc-drop-alert``; RMSE above the training RMSE by >= the share
    ``evaluations-rmse-rise-alert``. Each alert: metric, value, baseline, threshold, message
    (English), and the template and params its readers see it translated from (``texts.alert``).
    """
    alerts = []
    psi_limit = float(config_get("evaluations-psi-alert"))
    psi = figures.get("psi")
    if psi is not None and psi >= psi_limit:
        shifted = [r for r in report.get("csi") or [] if r["psi"] >= psi_limit][:ALERT_FEATURES]
        params = {"psi": f"{psi:.3f}", "limit": f"{psi_limit:g}"}
        if shifted:
            template = gettext_noop(
                "Score PSI %(psi)s >= %(limit)s: the scored population has shifted; "
                "most shifted features: %(features)s."
            )
            params["features"] = ", ".join(f"{r['feature']} (CSI {r['psi']:.2f})" for r in shifted)
        else:
            template = gettext_noop("Score PSI %(psi)s >= %(limit)s: the scored population has shifted.")
        alerts.append(
            _alert(
                {
                    "metric": "psi",
                    "value": psi,
                    "baseline": None,
                    "threshold": psi_limit,
                    "features": [r["feature"] for r in shifted],
                },
                template,
                params,
            )
        )
    trained = version.metrics or {}
    if objective == Objective.BINARY:
        drop = float(config_get("evaluations-auc-drop-alert"))
        auc, base = figures.get("auc"), trained.get("auc")
        if auc is not None and base is not None and base - auc >= drop:
            alerts.append(
                _alert(
                    {"metric": "auc", "value": auc, "baseline": base, "threshold": drop},
                    gettext_noop(
                        "AUC %(auc)s is %(drop)s below the training AUC %(base)s (alert at %(limit)s)."
                    ),
                    {
                        "auc": f"{auc:.3f}",
                        "drop": f"{base - auc:.3f}",
                        "base": f"{base:.3f}",
                        "limit": f"{drop:g}",
                    },
                )
            )
    if objective == Objective.REGRESSION:
        rise = float(config_get("evaluations-rmse-rise-alert"))
        rmse, base = figures.get("rmse"), trained.get("rmse")
        if rmse is not None and base and rmse >= base * (1 + rise):
            alerts.append(
                _alert(
                    {"metric": "rmse", "value": rmse, "baseline": base, "threshold": rise},
                    gettext_noop(
                        "RMSE %(rmse)s is %(rise)s above the training RMSE %(base)s (alert at %(limit)s)."
                    ),
                    {
                        "rmse": f"{rmse:.4g}",
                        "rise": f"{rmse / base - 1:.0%}",
                        "base": f"{base:.4g}",
                        "limit": f"{rise:.0%}",
                    },
                )
            )
    return alerts


def _alert(figures: dict[str, Any], template: str, params: dict[str, str]) -> dict[str, Any]:
    """An alert: its figures, its English message, and the template and params to translate."""
    return {**figures, "message": template % params, "template": template, "params": params}


def drift_alerts_raise(*, evaluation: Evaluation, figures: dict, report: dict) -> list[dict]:
    """Record the alerts of a completed monitoring run and mark its version for review.

    Runs inside the transaction that completes the run's task. Returns the alerts (none:
    nothing is written).
    """
    ev = evaluation
    version = ModelVersion.objects.select_related("model").get(pk=ev.model_version_id)
    alerts = drift_alerts_compute(version=version, objective=ev.objective, figures=figures, report=report)
    if alerts:
        Evaluation.objects.filter(pk=ev.pk).update(alerts=alerts)
        # The review reason and the task log are written once, in the platform's language.
        said = " ".join(texts.alert(a)["message"] for a in alerts)
        registry.version_flag(
            version=version,
            reason=gettext("Monitoring evaluation #%(id)s on %(data)s: %(alerts)s")
            % {"id": ev.pk, "data": ev.dataset_version, "alerts": said},
            details={"evaluationId": ev.pk, "datasetVersionId": ev.dataset_version_id, "alerts": alerts},
        )
        queue.log(
            ev.task_id,
            gettext("Drift alert: %(alerts)s %(version)s marked for review.")
            % {"alerts": said, "version": version},
        )
    return alerts


def monitor_run(*, enqueue: bool = True) -> dict[str, Any]:
    """Queue a monitoring evaluation of each active classification or regression version on
    the newest validated version of its dataset. Idempotent: a (version, dataset version)
    pair that already has a monitoring evaluation (not failed or cancelled) is skipped.

    Returns ``{"created": [evaluation ids], "skipped": [{"version", "reason"}]}``.
    """
    if not config_get("evaluations-monitor-enabled"):
        return {"created": [], "skipped": [], "disabled": True}
    chosen = config_get("evaluations-monitor-datasets") or {}
    created, skipped = [], []
    for version in selectors.monitored_versions():
        dataset_id = chosen.get(version.model.name) if isinstance(chosen, dict) else None
        if dataset_id is None and version.dataset_version_id:
            dataset_id = version.dataset_version.dataset_id
        newest = selectors.newest_validated_version(dataset_id) if dataset_id is not None else None
        if newest is None:
            skipped.append(
                {"version": str(version), "reason": gettext("no validated dataset to evaluate on")}
            )
            continue
        if selectors.is_monitored(version=version, dataset_version=newest):
            skipped.append(
                {
                    "version": str(version),
                    "reason": gettext("already monitored on %(data)s") % {"data": newest},
                }
            )
            continue
        try:
            ev = evaluation_create(
                user=None,
                request={
                    "model_version": version.pk,
                    "dataset": newest.dataset_id,
                    "dataset_version": newest.version,
                    "monitor": True,
                    "task_name": gettext("Monitor %(version)s on %(data)s")
                    % {"version": version, "data": newest},
                },
                enqueue=enqueue,
            )
        except RequestInvalid as exc:
            logger.warning("monitoring %s on %s refused: %s", version, newest, exc)
            skipped.append({"version": str(version), "reason": str(exc)})
            continue
        created.append(ev.pk)
    return {"created": created, "skipped": skipped}
