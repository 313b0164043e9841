"""Writes of monitoring: the training baseline, a monitoring run per version, outcomes.

``monitoring_run`` reads what a version scored (the decision log, time = the decision's
time; or a dataset version with a time column, scored here), stores the figures of every
complete period not stored yet (unique per version, granularity and period start, so a
re-run adds nothing), recomputes stored periods whose outcomes arrived since, refreshes the
vintage curves, then hands each new period to the alert rules.

From the log, each day that is over is read once into a sketch (``MonitoringDay``: counts
on the baseline's bins); a period adds up its days' sketches and reads only the scores of
its rows that have an outcome, so a month's report does not parse a month of inputs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.config import config_get
from apps.datasets.models import DatasetVersion
from apps.models import training
from apps.models.models import Decision, ModelVersion, VersionStatus

from . import figures as fig
from .errors import BaselineMissing, MonitoringInvalid
from .models import (
    Granularity,
    MonitoringBaseline,
    MonitoringDay,
    MonitoringPeriod,
    Outcome,
    PeriodStatus,
    Vintage,
)
from .sources import CHUNK, DatasetSource, DecisionSource, column_of, read_table, version_load

logger = logging.getLogger(__name__)

# The metric names alert rules read from a period's figures.
ALERT_METRICS = (
    "score_psi",
    "csi_max",
    "auc",
    "ks",
    "gini",
    "event_rate",
    "estimated_auc",
    "estimated_event_rate",
    "rows",
    "insufficient",
)
OUTCOMES_MAX = 10_000  # rows per POST /api/monitoring/outcomes


# --------------------------------------------------------------------------- baseline


def baseline_store(
    *, version: ModelVersion, scores: Any, features: dict[str, Any], source: str = ""
) -> MonitoringBaseline:
    """Keep (or replace) the training baseline of ``version`` from its training scores and features."""
    figures = fig.baseline_from(scores, features)
    with transaction.atomic():
        row, _created = MonitoringBaseline.objects.update_or_create(
            version=version, defaults={"figures": figures, "source": source}
        )
        MonitoringDay.objects.filter(version=version).delete()  # counted on the old bins
    return row


def baseline_for(version: ModelVersion) -> dict[str, Any]:
    """The version's training baseline; computed once from its training dataset version."""
    row = MonitoringBaseline.objects.filter(version=version).first()
    if row is not None:
        return row.figures
    if version.dataset_version_id is None:
        raise BaselineMissing(
            gettext("%(version)s has no training data on record: it has no baseline to compare with.")
            % {"version": version}
        )
    artifact, model = version_load(version)
    features = list(artifact.meta["features"])
    table = read_table(version.dataset_version, features)
    scores = np.asarray(training.predict(artifact.format, model, table, artifact.meta), dtype=np.float64)
    columns = {f: column_of(table, f) for f in features}
    return baseline_store(
        version=version, scores=scores, features=columns, source=str(version.dataset_version)
    ).figures


# --------------------------------------------------------------------------- running


def _alert_figures(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: figures.get(k) for k in ALERT_METRICS}


def period_figures_of(source, baseline, start: date, end: date, min_rows: int) -> dict[str, Any]:
    """One period's figures from ``source`` (sources.py): its sketch and its labelled scores."""
    scores, outcomes = source.labelled(start, end)
    return fig.figures_from(
        baseline,
        source.sketch(baseline, start, end),
        scores,
        outcomes,
        min_rows=min_rows,
        min_labelled_share=float(config_get("monitoring-min-labelled-share")),
        estimate=source.estimate,
    )


def _check_granularity(granularity: str) -> str:
    if granularity not in Granularity.values:
        raise MonitoringInvalid(
            gettext('Granularity must be "week" or "month", not "%(value)s".') % {"value": granularity},
            errors={"granularity": [gettext("Choose week or month.")]},
        )
    return granularity


def monitoring_run(
    *,
    version: ModelVersion,
    granularity: str | None = None,
    dataset_version: DatasetVersion | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Store the figures of every complete period of ``version`` not stored yet; re-run safe.

    Returns ``{"created": [period starts], "updated": [...], "insufficient": [...],
    "vintages": cohorts, "alerts": bool}`` (``alerts``: whether the alert rules were called).
    """
    granularity = _check_granularity(granularity or str(config_get("monitoring-granularity")))
    today = today or timezone.localdate()
    baseline = baseline_for(version)
    binary = version.model.type == "classification"
    source = (
        DecisionSource(version, estimate=binary)
        if dataset_version is None
        else DatasetSource(version, dataset_version, estimate=binary)
    )
    min_rows = int(config_get("monitoring-min-rows"))
    source.days_sketch(baseline, today)  # each night one more day: a period then adds them up
    first = source.first_day()
    result: dict[str, Any] = {"created": [], "updated": [], "insufficient": [], "vintages": 0}
    if first is None:
        result["alerts"] = False
        return result
    stored = {
        p.period_start: p for p in MonitoringPeriod.objects.filter(version=version, granularity=granularity)
    }
    newest_outcome = Outcome.objects.filter(model_id=version.model_id).aggregate(t=Max("created_at"))["t"]
    new: list[MonitoringPeriod] = []
    for start, end in fig.complete_periods(first, today, granularity):
        had = stored.get(start)
        if had is not None and (newest_outcome is None or newest_outcome <= had.updated_at):
            continue
        figures = period_figures_of(source, baseline, start, end, min_rows)
        status = PeriodStatus.INSUFFICIENT if figures["insufficient"] else PeriodStatus.OK
        if had is not None:  # outcomes arrived since: realised figures change, the period stays
            MonitoringPeriod.objects.filter(pk=had.pk).update(
                figures=figures, rows=figures["rows"], status=status, updated_at=timezone.now()
            )
            result["updated"].append(start.isoformat())
            continue
        try:
            with transaction.atomic():
                row = MonitoringPeriod.objects.create(
                    version=version,
                    granularity=granularity,
                    period_start=start,
                    period_end=end,
                    rows=figures["rows"],
                    status=status,
                    figures=figures,
                )
        except IntegrityError:  # another run stored it first
            continue
        new.append(row)
        result["created"].append(start.isoformat())
        if figures["insufficient"]:
            result["insufficient"].append(start.isoformat())
    result["vintages"] = vintages_refresh(version=version, source=source, today=today)
    result["alerts"] = _rules_evaluate(version, granularity, new)
    return result


def _rules_evaluate(version: ModelVersion, granularity: str, new: list[MonitoringPeriod]) -> bool:
    """Hand each new period, with the periods before it, to the alert rules."""
    if not new:
        return False
    try:
        from apps.alerts.services import rules_evaluate
    except ImportError:  # the alerts app is not there yet: monitoring still stores its figures
        logger.warning("apps.alerts.services.rules_evaluate is missing: no alert rule was evaluated")
        return False
    periods = list(
        MonitoringPeriod.objects.filter(version=version, granularity=granularity).order_by("period_start")
    )
    for row in new:
        upto = [
            (p.period_start, _alert_figures(p.figures)) for p in periods if p.period_start <= row.period_start
        ]
        rules_evaluate(version=version, periods=upto)
    return True


def vintages_refresh(*, version: ModelVersion, source: Any = None, today: date | None = None) -> int:
    """Recompute the vintage curves of ``version``: origination = when the entity was scored
    (its first decision), outcome dates from ``Outcome``. Returns the number of cohorts."""
    source = source or DecisionSource(version)
    first: dict[str, datetime] = {}
    for when, key in source.originations():
        if key not in first or when < first[key]:
            first[key] = when
    if not first:
        return 0
    keys = list(first)
    outcomes: dict[str, tuple[int, datetime]] = {}
    for i in range(0, len(keys), CHUNK):
        for key, outcome, at in Outcome.objects.filter(
            model_id=version.model_id, entity_key__in=keys[i : i + CHUNK]
        ).values_list("entity_key", "outcome", "outcome_at"):
            outcomes[key] = (outcome, at)
    local = timezone.get_current_timezone()

    def naive(t: datetime) -> np.datetime64:
        return np.datetime64(t.astimezone(local).replace(tzinfo=None), "s")

    orig = np.asarray([naive(first[k]) for k in keys], dtype="datetime64[s]")
    when = np.asarray(
        [naive(outcomes[k][1]) if k in outcomes else np.datetime64("NaT") for k in keys],
        dtype="datetime64[s]",
    )
    event = np.asarray([outcomes[k][0] if k in outcomes else 0 for k in keys], dtype=np.float64)
    curves = fig.vintage_curves(
        orig,
        when,
        event,
        np.datetime64(today or timezone.localdate(), "s"),
        max_months=int(config_get("monitoring-max-months-on-book")),
    )
    with transaction.atomic():
        for c in curves:
            Vintage.objects.update_or_create(
                version=version,
                cohort=date.fromisoformat(c["cohort"] + "-01"),
                defaults={"size": c["size"], "age": c["age"], "points": c["points"]},
            )
    return len(curves)


def monitoring_run_all() -> dict[str, Any]:
    """Run monitoring for each active classification or regression version (the beat job)."""
    done, failed = {}, {}
    versions = ModelVersion.objects.filter(
        status=VersionStatus.ACTIVE, model__type__in=["classification", "regression"]
    ).select_related("model")
    for version in versions:
        try:
            done[str(version)] = monitoring_run(version=version)["created"]
        except (BaselineMissing, MonitoringInvalid) as exc:
            failed[str(version)] = exc.message
    return {"done": done, "failed": failed}


# --------------------------------------------------------------------------- outcomes


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        t = value
    elif isinstance(value, date):
        t = datetime.combine(value, time.min)
    else:
        try:
            t = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return timezone.make_aware(t) if timezone.is_naive(t) else t


def _check_outcomes(rows: Any) -> list[tuple[str, int, datetime]]:
    if not isinstance(rows, list) or not rows:
        raise MonitoringInvalid(gettext("Send a non-empty list of outcomes."))
    if len(rows) > OUTCOMES_MAX:
        raise MonitoringInvalid(
            gettext("At most %(max)s outcomes per request; split the list.") % {"max": f"{OUTCOMES_MAX:,}"}
        )
    out, errors = [], {}
    for i, row in enumerate(rows):
        problems = []
        if not isinstance(row, dict):
            errors[str(i)] = [gettext("An outcome is an object with entity_key, outcome and outcome_at.")]
            continue
        key = row.get("entity_key")
        if not isinstance(key, str | int) or not str(key).strip() or len(str(key)) > 200:
            problems.append(gettext("entity_key must be a non-empty text of at most 200 characters."))
        outcome = row.get("outcome")
        if isinstance(outcome, bool) or outcome not in (0, 1):
            problems.append(gettext("outcome must be 0 or 1."))
        when = _parse_time(row.get("outcome_at"))
        if when is None:
            problems.append(gettext("outcome_at must be an ISO 8601 date or time."))
        if problems:
            errors[str(i)] = problems
        else:
            out.append((str(key).strip(), int(outcome), when))
    if errors:
        raise MonitoringInvalid(gettext("Some outcomes are invalid; none was recorded."), errors=errors)
    return out


def outcomes_record(*, model_id: int, rows: Any, source: str = "api") -> dict[str, Any]:
    """Record outcomes of scored entities (a later row for the same key replaces the earlier).

    Keys the decision log has never scored for this model are counted and reported, and not
    stored: an outcome nobody was scored for cannot be monitored.
    """
    checked = {key: (outcome, when) for key, outcome, when in _check_outcomes(rows)}
    keys = list(checked)
    known: set[str] = set()
    decisions = Decision.objects.filter(model_id=model_id)
    for i in range(0, len(keys), CHUNK):
        known.update(
            decisions.filter(entity_key__in=keys[i : i + CHUNK]).values_list("entity_key", flat=True)
        )
    return _outcomes_write(model_id, checked, known, source)


def _outcomes_write(model_id: int, checked: dict, known: set[str], source: str) -> dict[str, Any]:
    unknown = [k for k in checked if k not in known]
    objs = [
        Outcome(model_id=model_id, entity_key=k, outcome=o, outcome_at=w, source=source[:200])
        for k, (o, w) in checked.items()
        if k in known
    ]
    Outcome.objects.bulk_create(
        objs,
        batch_size=CHUNK,
        update_conflicts=True,
        unique_fields=["model", "entity_key"],
        update_fields=["outcome", "outcome_at", "source", "created_at"],
    )
    return {"recorded": len(objs), "unknown": len(unknown), "unknown_keys": unknown[:20]}


def outcomes_from_dataset(
    *,
    version: ModelVersion,
    dataset_version: DatasetVersion,
    key_column: str | None = None,
    label_column: str | None = None,
    time_column: str | None = None,
) -> dict[str, Any]:
    """Outcomes from a labelled dataset version, joined on the entity key (its first key
    column unless named); the outcome date is the time column's value (else today)."""
    key_column = key_column or (list(dataset_version.key_columns or []) or [None])[0]
    label_column = label_column or dataset_version.label_column
    time_column = time_column if time_column is not None else dataset_version.time_column
    if not key_column or not label_column:
        raise MonitoringInvalid(
            gettext("%(data)s needs a key column and a label column to give outcomes.")
            % {"data": dataset_version}
        )
    columns = [key_column, label_column, *([time_column] if time_column else [])]
    table = read_table(dataset_version, columns)
    keys = [str(k) for k in table.column(key_column).to_pylist()]
    labels = table.column(label_column).to_pylist()
    times = table.column(time_column).to_pylist() if time_column else [timezone.now()] * len(keys)
    rows = [
        {"entity_key": k, "outcome": int(y), "outcome_at": t}
        for k, y, t in zip(keys, labels, times, strict=True)
        if y is not None and k and t is not None
    ]
    summary = {"recorded": 0, "unknown": 0, "unknown_keys": []}
    for i in range(0, len(rows), OUTCOMES_MAX):
        got = outcomes_record(
            model_id=version.model_id, rows=rows[i : i + OUTCOMES_MAX], source=str(dataset_version)
        )
        summary["recorded"] += got["recorded"]
        summary["unknown"] += got["unknown"]
        summary["unknown_keys"] = (summary["unknown_keys"] + got["unknown_keys"])[:20]
    return summary
