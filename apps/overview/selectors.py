"""The dashboard's figures, each read from the domain that owns it."""

from __future__ import annotations

from typing import Any

from apps.core.selectors import api_traffic_last_day, live_processes
from apps.datasets.selectors import dataset_counts, quality_alerts, recent_versions
from apps.evaluations.selectors import drift_alerts, recent_evaluations
from apps.features.selectors import feature_counts
from apps.qa.selectors import activity_last_day


def dashboard_counts() -> dict[str, int]:
    """Headline counts across domains for the dashboard."""
    return {**dataset_counts(), **feature_counts()}


def dashboard_figures() -> dict[str, Any]:
    """Everything the dashboard shows that the domains and the platform know."""
    return {
        "counts": dashboard_counts(),
        "quality_alerts": quality_alerts(),
        "drift_alerts": drift_alerts(),
        "recent_evaluations": recent_evaluations(),
        "recent_versions": recent_versions(),
        "processes": live_processes().order_by("kind", "hostname"),
        "traffic": api_traffic_last_day(),
        "qa": activity_last_day(),
    }
