"""Six months of decision history for the demo credit model, one drifting month, outcomes
with their label delay, then a monitoring run, so the monitoring page has a story to show.

Parameters are fixed here, before any result was looked at: 1,500 applications a month for
the six complete months before this one; in the latest month the applicants' bureau credit
score is 60 points lower and they have two more inquiries (a new, riskier channel); an event
is known from the month it happens, a non-event only 90 days after origination.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.config import config_get
from apps.datasets.demo_data import credit_frame
from apps.models import services as registry
from apps.models import serving
from apps.models.decisions import decisions_write
from apps.models.demo import MODEL_NAME
from apps.models.models import Decision, ModelVersion, VersionStatus

from . import figures, services

MONTHS = 6
ROWS_PER_MONTH = 1_500
# 0-based: the latest of the six, so its alert is still open when the demo starts (a later
# month back within the threshold would resolve it) and only estimated performance is known.
DRIFT_MONTH = 5
SEED = 2026
GOOD_AFTER_DAYS = 90  # a non-event is known once the loan is this old
REQUEST_PREFIX = "demo-monitoring"


def _months(today: date) -> list[tuple[date, date]]:
    start, _end = figures.period_bounds(today, "month")
    out = []
    for _ in range(MONTHS):
        prev_end = start
        start, _e = figures.period_bounds(prev_end - timedelta(days=1), "month")
        out.append((start, prev_end))
    return list(reversed(out))


def _plain(value):
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def history_build(*, version: ModelVersion, today: date, seed: int = SEED) -> dict:
    """Write the decisions and outcomes of six months for ``version``; returns counts."""
    features = list(registry.version_load(version=version)[0].meta["features"])
    frame = credit_frame(rows=MONTHS * ROWS_PER_MONTH + 50, seed=seed)
    frame = frame.drop_duplicates("application_id").head(MONTHS * ROWS_PER_MONTH).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    month = np.repeat(np.arange(MONTHS), ROWS_PER_MONTH)
    drift = month == DRIFT_MONTH
    frame.loc[drift, "credit_score"] = frame.loc[drift, "credit_score"] - 60
    frame.loc[drift, "num_inquiries_6m"] = frame.loc[drift, "num_inquiries_6m"] + 2
    inputs = [
        {f: _plain(v) for f, v in zip(features, row, strict=True)}
        for row in frame[features].itertuples(index=False)
    ]
    # Scored as a prediction would have been: score, worded reasons (the log keeps both).
    served = serving.score_as_served(version=version, records=inputs)
    periods = _months(today)
    tz = timezone.get_current_timezone()
    decisions, outcomes = [], []
    for i, row in enumerate(frame.itertuples(index=False)):
        start, end = periods[month[i]]
        at = timezone.make_aware(datetime.combine(start, time(9)), tz) + timedelta(
            seconds=float(rng.uniform(0, (end - start).days * 86400 - 11 * 3600))
        )
        record = row._asdict()
        key = record["application_id"]
        decisions.append(
            {
                "model_id": version.model_id,
                "version_id": version.pk,
                "request_id": f"{REQUEST_PREFIX}-{i // 100}",
                "position": i % 100,
                "entity_key": key,
                "caller": "demo",
                "inputs": inputs[i],
                **served[i],
                "created_at": at,
            }
        )
        # The event comes 1-6 months after origination; known only once it has happened.
        if record["is_bad"]:
            when = at + timedelta(days=int(rng.integers(25, 185)))
            if when.date() < today:
                outcomes.append({"entity_key": key, "outcome": 1, "outcome_at": when.isoformat()})
        elif (today - at.date()).days >= GOOD_AFTER_DAYS:
            when = at + timedelta(days=GOOD_AFTER_DAYS)
            outcomes.append({"entity_key": key, "outcome": 0, "outcome_at": when.isoformat()})
    decisions_write(decisions)  # COPY into monthly partitions on PostgreSQL
    recorded = 0
    for i in range(0, len(outcomes), services.OUTCOMES_MAX):
        recorded += services.outcomes_record(
            model_id=version.model_id, rows=outcomes[i : i + services.OUTCOMES_MAX], source="demo"
        )["recorded"]
    return {"decisions": len(decisions), "outcomes": recorded}


def _drift_rule(version: ModelVersion) -> None:
    """An alert rule on score PSI for the demo model, unless one watches it already, so the
    drifting month raises an alert (the rule is an admin's to change or remove)."""
    from apps.alerts.models import AlertRule

    watching = AlertRule.objects.filter(Q(model__isnull=True) | Q(model_id=version.model_id))
    if not watching.filter(metric="score_psi", enabled=True).exists():
        AlertRule.objects.create(
            name=gettext("Score drift (demo)"),
            model_id=version.model_id,
            metric="score_psi",
            comparison="gte",
            threshold=float(config_get("evaluations-psi-alert")),
            window=1,
        )


def load_demo_monitoring(*, write=print, today: date | None = None) -> None:
    """Give the active demo credit model six months of monitored history (once)."""
    version = (
        ModelVersion.objects.filter(model__name=MODEL_NAME, status=VersionStatus.ACTIVE)
        .order_by("-version")
        .first()
    )
    if version is None:
        return
    today = today or timezone.localdate()
    if not Decision.objects.filter(version_id=version.pk, request_id__startswith=REQUEST_PREFIX).exists():
        built = history_build(version=version, today=today)
        write(
            gettext("  monitoring history for %(version)s: %(decisions)s decisions, %(outcomes)s outcomes")
            % {"version": version, **built}
        )
    _drift_rule(version)
    result = services.monitoring_run(version=version, granularity="month", today=today)
    write(
        gettext("  monitoring of %(version)s: %(count)s new monthly periods")
        % {"version": version, "count": len(result["created"])}
    )
