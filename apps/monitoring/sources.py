"""Where monitoring reads what a version scored: the decision log (``DecisionSource``, time
= the decision's time, each day kept as a sketch once it is over) or a dataset version with a
time column, scored here (``DatasetSource``). Both give a period's sketch and the scores of
its rows with a known outcome."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from django.db import IntegrityError, connection, transaction
from django.db.models import Min, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext

from apps.datasets.files import stored_file_path
from apps.datasets.models import DatasetVersion
from apps.models import artifacts, training
from apps.models import services as registry
from apps.models.models import Decision, ModelVersion

from . import figures as fig
from .columns import columns_from_json, missing_column
from .errors import BaselineMissing, MonitoringInvalid
from .models import MonitoringDay, Outcome

CHUNK = 5_000  # keys per IN query
# A day's sketch is kept once the day has been over this long: decisions reach the log from
# each process's buffer within seconds (apps.core.audit.RowBuffer), so none comes later.
DAY_SETTLED = timedelta(minutes=10)


def read_table(dataset_version: DatasetVersion, columns: list[str]) -> Any:
    """The named columns of a dataset version's Parquet copy (MonitoringInvalid if one is missing)."""
    with stored_file_path(dataset_version.parquet) as path:
        available = set(pq.read_schema(path).names)
        missing = [c for c in columns if c not in available]
        if missing:
            raise MonitoringInvalid(
                gettext("%(data)s has no column(s) %(columns)s.")
                % {"data": dataset_version, "columns": ", ".join(missing)}
            )
        return pq.read_table(path, columns=columns)


def version_load(version: ModelVersion) -> tuple[Any, Any]:
    """(artifact, model) of ``version``; BaselineMissing when it cannot be loaded."""
    try:
        return registry.version_load(version=version)
    except (artifacts.ArtifactError, OSError) as exc:
        raise BaselineMissing(
            gettext("%(version)s cannot be loaded: %(error)s") % {"version": version, "error": exc}
        ) from None


def column_of(table: Any, name: str) -> np.ndarray:
    """A column as NumPy (objects when Arrow cannot give it as numbers)."""
    col = table.column(name)
    try:
        return col.to_numpy()
    except Exception:  # noqa: BLE001 (nested or nullable non-numeric: go through objects)
        return np.asarray(col.to_pylist(), dtype=object)


def aware(day: date) -> datetime:
    """The start of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def outcomes_of(model_id: int, keys: list[str]) -> dict[str, int]:
    """The outcome of each of ``keys`` known for the model."""
    found: dict[str, int] = {}
    wanted = sorted({k for k in keys if k})
    for i in range(0, len(wanted), CHUNK):
        found.update(
            Outcome.objects.filter(model_id=model_id, entity_key__in=wanted[i : i + CHUNK]).values_list(
                "entity_key", "outcome"
            )
        )
    return found


def kinds_of(baseline: dict[str, Any]) -> dict[str, str]:
    """Feature -> kind ("numeric" or another) of a baseline."""
    return {name: spec.get("kind", "") for name, spec in (baseline.get("features") or {}).items()}


class DecisionSource:
    """Scored rows from the decision log: time = the decision's time."""

    def __init__(self, version: ModelVersion, *, estimate: bool = True):
        self.version = version
        self.estimate = estimate
        self.decisions = Decision.objects.filter(version_id=version.pk)

    def first_day(self) -> date | None:
        """The first day with decisions: in the log, or in the sketches of days the log's
        retention has dropped since."""
        first = self.decisions.aggregate(first=Min("created_at"))["first"]
        logged = timezone.localdate(first) if first else None
        sketched = MonitoringDay.objects.filter(version=self.version, rows__gt=0).aggregate(first=Min("day"))[
            "first"
        ]
        return min((d for d in (logged, sketched) if d is not None), default=None)

    def rows(self, start: date, end: date, kinds: dict[str, str]) -> tuple[np.ndarray, dict]:
        # Inputs as JSON text, so the whole span is parsed by Arrow in C (columns.py).
        got = list(
            self.decisions.filter(created_at__gte=aware(start), created_at__lt=aware(end))
            .annotate(text=Cast("inputs", TextField()))
            .values_list("score", "text")
        )
        scores = np.asarray([np.nan if s is None else s for s, _t in got], dtype=np.float64)
        return scores, columns_from_json([t for _s, t in got], kinds)

    def days_sketch(self, baseline: dict[str, Any], upto: date) -> int:
        """Sketch every day from the first decision to ``upto`` (excluded) not sketched yet;
        days not yet settled are left for a later run. Returns the days sketched."""
        first = self.first_day()
        if first is None:
            return 0
        have = set(MonitoringDay.objects.filter(version=self.version).values_list("day", flat=True))
        made, day = 0, first
        while day < upto:
            if day not in have and self._settled(day):
                self._day_store(baseline, day)
                made += 1
            day += timedelta(days=1)
        return made

    def _settled(self, day: date) -> bool:
        return aware(day + timedelta(days=1)) + DAY_SETTLED <= timezone.now()

    def _day_sketch(self, baseline: dict[str, Any], start: date, end: date) -> dict[str, Any]:
        scores, columns = self.rows(start, end, kinds_of(baseline))
        return fig.sketch(baseline, scores, columns, estimate=self.estimate)

    def _day_store(self, baseline: dict[str, Any], day: date) -> dict[str, Any]:
        part = self._day_sketch(baseline, day, day + timedelta(days=1))
        try:
            with transaction.atomic():
                MonitoringDay.objects.create(
                    version=self.version, day=day, rows=part["rows"], sketch=fig.sketch_json(part)
                )
        except IntegrityError:  # another run kept it first: same decisions, same counts
            pass
        return part

    def sketch(self, baseline: dict[str, Any], start: date, end: date) -> dict[str, Any]:
        """The period's sketch: its days' stored sketches, the others made now (and kept
        once settled)."""
        stored = {
            d.day: fig.sketch_from_json(d.sketch)
            for d in MonitoringDay.objects.filter(version=self.version, day__gte=start, day__lt=end)
        }
        parts, day = [], start
        while day < end:
            if day in stored:
                parts.append(stored[day])
            elif self._settled(day):
                parts.append(self._day_store(baseline, day))
            else:
                parts.append(self._day_sketch(baseline, day, day + timedelta(days=1)))
            day += timedelta(days=1)
        return fig.sketches_sum(parts) or fig.sketch(baseline, [], {}, estimate=self.estimate)

    def labelled(self, start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
        """(score, outcome) of the period's decisions whose entity has an outcome: one join in
        the database, no inputs read."""
        sql = (
            f"SELECT d.score, o.outcome FROM {Decision._meta.db_table} d "  # noqa: S608 (table names)
            f"JOIN {Outcome._meta.db_table} o ON o.model_id = d.model_id AND o.entity_key = d.entity_key "
            "WHERE d.version_id = %s AND d.created_at >= %s AND d.created_at < %s "
            "AND d.entity_key <> '' AND d.score IS NOT NULL"
        )
        with connection.cursor() as cursor:
            bounds = [connection.ops.adapt_datetimefield_value(aware(d)) for d in (start, end)]
            cursor.execute(sql, [self.version.pk, *bounds])
            got = cursor.fetchall()
        pairs = np.asarray(got, dtype=np.float64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]

    def originations(self) -> Iterator[tuple[datetime, str]]:
        yield from self.decisions.exclude(entity_key="").values_list("created_at", "entity_key").iterator()


class DatasetSource:
    """Scored rows of a dataset version, time from its time column, scored with the version."""

    def __init__(self, version: ModelVersion, dataset_version: DatasetVersion, *, estimate: bool = True):
        if not dataset_version.time_column:
            raise MonitoringInvalid(
                gettext("%(data)s has no time column to cut periods with.") % {"data": dataset_version}
            )
        self.version = version
        self.estimate = estimate
        artifact, model = version_load(version)
        features = list(artifact.meta["features"])
        keys = list(dataset_version.key_columns or [])[:1]
        table = read_table(dataset_version, [*features, dataset_version.time_column, *keys])
        self.scores = np.asarray(training.predict(artifact.format, model, table, artifact.meta), dtype=float)
        self.when = np.asarray(table.column(dataset_version.time_column).to_pylist(), dtype="datetime64[s]")
        self.days = self.when.astype("datetime64[D]")
        self.keys = [str(k) for k in table.column(keys[0]).to_pylist()] if keys else [""] * table.num_rows
        self.columns = {f: column_of(table, f) for f in features}

    def first_day(self) -> date | None:
        ok = self.days[~np.isnat(self.days)]
        return ok.min().astype(date) if ok.size else None

    def days_sketch(self, baseline: dict[str, Any], upto: date) -> int:
        return 0  # the rows are in memory: nothing to keep between runs

    def _inside(self, start: date, end: date) -> np.ndarray:
        return np.flatnonzero((self.days >= np.datetime64(start)) & (self.days < np.datetime64(end)))

    def sketch(self, baseline: dict[str, Any], start: date, end: date) -> dict[str, Any]:
        idx = self._inside(start, end)
        columns = {
            n: self.columns[n][idx] if n in self.columns else missing_column(idx.size, k == "numeric")
            for n, k in kinds_of(baseline).items()
        }
        return fig.sketch(baseline, self.scores[idx], columns, estimate=self.estimate)

    def labelled(self, start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
        idx = self._inside(start, end)
        keys = [self.keys[i] for i in idx]
        known = outcomes_of(self.version.model_id, keys)
        return self.scores[idx], np.asarray([known.get(k, np.nan) for k in keys], dtype=np.float64)

    def originations(self) -> Iterator[tuple[datetime, str]]:
        for t, k in zip(self.when.tolist(), self.keys, strict=True):
            if k and t is not None:
                yield timezone.make_aware(t) if timezone.is_naive(t) else t, k
