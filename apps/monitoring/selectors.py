"""Reads of monitoring: the versions watched, a version's periods and vintages, chart data."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.core.config import config_get
from apps.models.models import ModelVersion, VersionStatus

from .figures import band_labels
from .models import MonitoringBaseline, MonitoringPeriod, Vintage

WATCHED_TYPES = ("classification", "regression")
PERIOD_METRICS = (
    "score_psi",
    "csi_max",
    "csi_max_feature",
    "auc",
    "ks",
    "gini",
    "event_rate",
    "labelled",
    "outcomes_mature",
    "estimated_auc",
    "estimated_event_rate",
    "insufficient",
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def watched_versions() -> QuerySet[ModelVersion]:
    """Active classification and regression versions, by model name."""
    return (
        ModelVersion.objects.filter(status=VersionStatus.ACTIVE, model__type__in=WATCHED_TYPES)
        .select_related("model")
        .order_by("model__name", "-version")
    )


def versions_overview() -> list[dict[str, Any]]:
    """Each watched version with its latest period (any granularity) and its count of periods."""
    out = []
    for v in watched_versions():
        periods = MonitoringPeriod.objects.filter(version=v)
        latest = periods.order_by("-period_start", "granularity").first()
        out.append({"version": v, "latest": latest, "periods": periods.count()})
    return out


def periods_of(version: ModelVersion, granularity: str) -> QuerySet[MonitoringPeriod]:
    return MonitoringPeriod.objects.filter(version=version, granularity=granularity).order_by("period_start")


def vintages_of(version: ModelVersion) -> QuerySet[Vintage]:
    return Vintage.objects.filter(version=version).order_by("cohort")


def period_data(p: MonitoringPeriod) -> dict[str, Any]:
    """A period as the API and the page's charts read it."""
    f = p.figures
    return {
        "periodStart": p.period_start.isoformat(),
        "periodEnd": p.period_end.isoformat(),
        "granularity": p.granularity,
        "rows": p.rows,
        "status": p.status,
        "metrics": {_camel(k): f.get(k) for k in PERIOD_METRICS},
        # A list, not a dict keyed by feature: feature names are data, never re-cased.
        "csi": sorted(
            ({"feature": k, "csi": v} for k, v in (f.get("csi") or {}).items()),
            key=lambda r: (-(r["csi"] if r["csi"] is not None else -1), r["feature"]),
        ),
        "bands": [{_camel(k): v for k, v in b.items()} for b in f.get("bands") or []],
    }


def vintage_data(v: Vintage) -> dict[str, Any]:
    return {"cohort": v.cohort.strftime("%Y-%m"), "size": v.size, "age": v.age, "points": v.points}


def chart_data(version: ModelVersion, granularity: str) -> dict[str, Any]:
    """Everything the monitoring page draws, as JSON for its script."""
    baseline = MonitoringBaseline.objects.filter(version=version).first()
    edges = (baseline.figures["score"]["edges"] if baseline else []) or []
    return {
        "granularity": granularity,
        "psiThreshold": float(config_get("evaluations-psi-alert")),
        "bands": band_labels(edges) if baseline else [],
        "periods": [period_data(p) for p in periods_of(version, granularity)],
        "vintages": [vintage_data(v) for v in vintages_of(version)],
    }
