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

from apps.core.config import config_get
from apps.models import services as registry
from apps.models.models import ModelVersion
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid

from . import selectors
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
    ``evaluations-rmse-rise-alert``. Each alert: metric, value, baseline, threshold, message.
    """
    alerts = []
    psi_limit = float(config_get("evaluations-psi-alert"))
    psi = figures.get("psi")
    if psi is not None and psi >= psi_limit:
        shifted = [r for r in report.get("csi") or [] if r["psi"] >= psi_limit][:ALERT_FEATURES]
        because = (
            "; most shifted features: " + ", ".join(f"{r['feature']} (CSI {r['psi']:.2f})" for r in shifted)
            if shifted
            else ""
        )
        alerts.append(
            {
                "metric": "psi",
                "value": psi,
                "baseline": None,
                "threshold": psi_limit,
                "features": [r["feature"] for r in shifted],
                "message": f"Score PSI {psi:.3f} >= {psi_limit:g}: "
                f"the scored population has shifted{because}.",
            }
        )
    trained = version.metrics or {}
    if objective == Objective.BINARY:
        drop = float(config_get("evaluations-auc-drop-alert"))
        auc, base = figures.get("auc"), trained.get("auc")
        if auc is not None and base is not None and base - auc >= drop:
            alerts.append(
                {
                    "metric": "auc",
                    "value": auc,
                    "baseline": base,
                    "threshold": drop,
                    "message": f"AUC {auc:.3f} is {base - auc:.3f} below the training AUC {base:.3f} "
                    f"(alert at {drop:g}).",
                }
            )
    if objective == Objective.REGRESSION:
        rise = float(config_get("evaluations-rmse-rise-alert"))
        rmse, base = figures.get("rmse"), trained.get("rmse")
        if rmse is not None and base and rmse >= base * (1 + rise):
            alerts.append(
                {
                    "metric": "rmse",
                    "value": rmse,
                    "baseline": base,
                    "threshold": rise,
                    "message": f"RMSE {rmse:.4g} is {rmse / base - 1:.0%} above the training RMSE {base:.4g} "
                    f"(alert at {rise:.0%}).",
                }
            )
    return alerts


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
        registry.version_flag(
            version=version,
            reason=f"Monitoring evaluation #{ev.pk} on {ev.dataset_version}: "
            + " ".join(a["message"] for a in alerts),
            details={"evaluationId": ev.pk, "datasetVersionId": ev.dataset_version_id, "alerts": alerts},
        )
        queue.log(
            ev.task_id, f"Drift alert: {' '.join(a['message'] for a in alerts)} {version} marked for review."
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
            skipped.append({"version": str(version), "reason": "no validated dataset to evaluate on"})
            continue
        if selectors.is_monitored(version=version, dataset_version=newest):
            skipped.append({"version": str(version), "reason": f"already monitored on {newest}"})
            continue
        try:
            ev = evaluation_create(
                user=None,
                request={
                    "model_version": version.pk,
                    "dataset": newest.dataset_id,
                    "dataset_version": newest.version,
                    "monitor": True,
                    "task_name": f"Monitor {version} on {newest}",
                },
                enqueue=enqueue,
            )
        except RequestInvalid as exc:
            logger.warning("monitoring %s on %s refused: %s", version, newest, exc)
            skipped.append({"version": str(version), "reason": str(exc)})
            continue
        created.append(ev.pk)
    return {"created": created, "skipped": skipped}
