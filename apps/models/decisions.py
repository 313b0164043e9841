"""The decision log: every scored record of every online prediction, on record.

``decisions_record`` queues rows built by ``decision_rows`` in this process's buffer (the same
``RowBuffer`` as the API audit trail: written by a background thread, COPY on PostgreSQL,
``bulk_create`` elsewhere). ``decisions_write`` writes rows at once, on the caller's
connection (history loaded by the monitoring demo, benchmarks).

On PostgreSQL the table is partitioned by month of ``created_at`` (migration 0008), with a
DEFAULT partition catching rows of months not created yet. ``decision_log_maintain`` (daily)
creates the coming months' partitions, moving rows the DEFAULT partition holds for them, and
drops months past the retention setting; elsewhere it deletes the old rows.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.audit import RowBuffer, copy_rows
from apps.core.config import config_get, config_get_local
from apps.core.csvsafe import write_rows

from .models import Decision

# The order of a row's values in the buffer and in COPY.
FIELDS = (
    "created_at",
    "model_id",
    "version_id",
    "request_id",
    "position",
    "arm",
    "entity_key",
    "caller",
    "inputs",
    "score",
    "output",
    "reasons",
)
_JSON = tuple(FIELDS.index(name) for name in ("inputs", "output", "reasons"))
# A 10,000-record request is one burst; wake the writer at a tenth of that.
FLUSH_ROWS = 1_000
# Rows one process keeps waiting while the database refuses writes (about 0.5 GB at most).
MAX_ROWS = 200_000
# Rows per statement of decisions_write (bounds the memory of one COPY or bulk_create).
WRITE_CHUNK = 20_000
# Partitions created ahead of the current month by the daily job.
MONTHS_AHEAD = 3


def decision_rows(
    *,
    created_at: datetime,
    model_id: int,
    version_id: int,
    request_id: str,
    arm: str,
    entity_key: str | Sequence[str],
    caller: str,
    records: Sequence[dict],
    scores: Sequence[Any],
    points: Sequence[Any] | None = None,
    reasons: Sequence[Any] | None = None,
) -> list[tuple]:
    """One row per scored record, in ``FIELDS`` order.

    ``scores[i]`` is a number (binary: probability of the event; regression: the value) or a
    list of class probabilities (multiclass, kept as ``output``). ``entity_key``: one for
    every record, or a sequence of one per record. The records are the
    request's own parsed objects: the request never changes them after scoring.
    """
    rows = []
    keys = [entity_key] * len(records) if isinstance(entity_key, str) else entity_key
    for i, record in enumerate(records):
        value, output = decision_output(scores[i], points[i] if points is not None else None)
        rows.append(
            (
                created_at,
                model_id,
                version_id,
                request_id,
                i,
                arm,
                keys[i],
                caller,
                record,
                value,
                output,
                reasons[i] if reasons is not None else None,
            )
        )
    return rows


def decision_output(score: Any, points: Any = None) -> tuple[float | None, dict[str, Any] | None]:
    """A record's (score, output) as the log keeps them: a number is the score; a list of
    class probabilities (multiclass) and a scorecard's points go to ``output``."""
    output: dict[str, Any] | None = None
    if isinstance(score, list):
        output, score = {"probabilities": score}, None
    if points is not None:
        output = {**(output or {}), "points": points}
    return score, output


def sampled() -> bool:
    """Whether this request is logged (``models-decision-log-sample-rate``; 1 logs every one)."""
    rate = float(config_get_local("models-decision-log-sample-rate"))
    return rate >= 1 or random.random() < rate  # noqa: S311 - sampling, not a secret


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _write(rows: list[tuple]) -> None:
    """Write rows on this thread's connection, all or none."""
    if connection.vendor == "postgresql":
        copy_rows(
            Decision,
            FIELDS,
            (tuple(_dump(v) if j in _JSON else v for j, v in enumerate(row)) for row in rows),
        )
        return
    with transaction.atomic():
        Decision.objects.bulk_create(
            [Decision(**dict(zip(FIELDS, row, strict=True))) for row in rows], batch_size=500
        )


_buffer = RowBuffer("decision log", _write, flush_rows=FLUSH_ROWS, max_rows=MAX_ROWS)


def decisions_record(rows: Sequence[tuple]) -> None:
    """Queue rows from ``decision_rows`` for the background writer (written now in a transaction)."""
    _buffer.add(rows)


def decisions_flush() -> int:
    """Write the decisions waiting in this process now; returns the rows written."""
    return _buffer.flush()


def decisions_shutdown(timeout: float = 5.0) -> int:
    """Stop this process's decision writer and write what is left."""
    return _buffer.shutdown(timeout)


def decisions_stats() -> dict[str, Any]:
    """This process's decision-log counters (buffered, written, dropped, failed writes)."""
    return _buffer.stats()


CSV_HEADER = (
    "id",
    "createdAt",
    "requestId",
    "position",
    "model",
    "version",
    "arm",
    "entityKey",
    "caller",
    "score",
    "output",
    "reasons",
    "inputs",
)


def decisions_csv(queryset: QuerySet[Decision], *, limit: int) -> tuple[str, bool]:
    """The decisions as CSV (formulas neutralised), at most ``limit`` rows; and whether
    there were more."""
    rows = list(queryset.select_related("model", "version")[: limit + 1])
    out = io.StringIO()
    write_rows(
        out,
        CSV_HEADER,
        (
            (
                d.pk,
                d.created_at.isoformat(),
                d.request_id,
                d.position,
                d.model.name,
                d.version.version,
                d.arm,
                d.entity_key,
                d.caller,
                d.score,
                _dump(d.output) or "",
                _dump(d.reasons) or "",
                _dump(d.inputs) or "",
            )
            for d in rows[:limit]
        ),
    )
    return out.getvalue(), len(rows) > limit


def decisions_write(rows: Iterable[Mapping[str, Any] | Sequence[Any]]) -> int:
    """Write decisions now on the caller's connection, in chunks; returns the rows written.

    Each row is a mapping with the ``FIELDS`` names (``position``, ``arm``, ``entity_key``,
    ``caller``, ``score``, ``output``, ``reasons`` may be left out) or a tuple in ``FIELDS``
    order. On PostgreSQL the months the rows fall in get their partitions first, so months
    of history do not pile up in the DEFAULT partition.
    """
    written = 0
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(_as_tuple(row))
        if len(chunk) >= WRITE_CHUNK:
            written += _write_chunk(chunk)
            chunk = []
    if chunk:
        written += _write_chunk(chunk)
    return written


_DEFAULTS = {
    "position": 0,
    "arm": "",
    "entity_key": "",
    "caller": "",
    "score": None,
    "output": None,
    "reasons": None,
}


def _as_tuple(row: Mapping[str, Any] | Sequence[Any]) -> tuple:
    if isinstance(row, Mapping):
        return tuple(row[name] if name in row else _DEFAULTS[name] for name in FIELDS)
    return tuple(row)


def _write_chunk(rows: list[tuple]) -> int:
    if is_partitioned():
        partitions_ensure({_month_of(row[0]) for row in rows})
    _write(rows)
    return len(rows)


# --- PostgreSQL partitions --------------------------------------------------------------

_LOCK = "omm-decision-partitions"


def _table() -> str:
    return Decision._meta.db_table


def is_partitioned() -> bool:
    """Whether the decision table is a partitioned PostgreSQL table (migration 0008 ran there)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [_table()])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def _month_of(moment: datetime) -> date:
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return date(local.year, local.month, 1)


def _add_months(month: date, n: int) -> date:
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def _start(month: date) -> datetime:
    """The first instant of ``month`` in the platform's time zone (months end at local midnight)."""
    return timezone.make_aware(datetime(month.year, month.month, 1))


def partition_name(month: date) -> str:
    return f"{_table()}_p{month.year:04d}{month.month:02d}"


def partitions() -> dict[str, date | None]:
    """The decision table's partitions: name -> month (None for the DEFAULT partition)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [_table()],
        )
        names = [r[0] for r in cursor.fetchall()]
    prefix = f"{_table()}_p"
    found: dict[str, date | None] = {}
    for name in names:
        tail = name[len(prefix) :]
        if name.startswith(prefix) and len(tail) == 6 and tail.isdigit():
            found[name] = date(int(tail[:4]), int(tail[4:]), 1)
        else:
            found[name] = None
    return found


def partitions_ensure(months: Iterable[date]) -> list[str]:
    """Create the monthly partitions missing among ``months``; returns the names created.

    Rows the DEFAULT partition holds for a new month move into it (ATTACH refuses a range
    the DEFAULT partition still has rows in). Safe to run twice or at once in two processes.
    """
    wanted = sorted(set(months))
    if not wanted:
        return []
    existing = partitions()
    missing = [m for m in wanted if partition_name(m) not in existing]
    if not missing:
        return []
    table, qn = _table(), connection.ops.quote_name
    default = f"{table}_default"
    created = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK])
        existing = partitions()  # another process may have created them meanwhile
        for month in missing:
            name = partition_name(month)
            if name in existing:
                continue
            low, high = _start(month), _start(_add_months(month, 1))
            cursor.execute(
                f"CREATE TABLE {qn(name)} (LIKE {qn(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
            if default in existing:
                cursor.execute(
                    f"WITH moved AS (DELETE FROM {qn(default)} WHERE created_at >= %s AND created_at < %s "  # noqa: S608 - names from model meta
                    f"RETURNING *) INSERT INTO {qn(name)} SELECT * FROM moved",
                    [low, high],
                )
            cursor.execute(
                f"ALTER TABLE {qn(table)} ATTACH PARTITION {qn(name)} FOR VALUES FROM (%s) TO (%s)",
                [low, high],
            )
            created.append(name)
    return created


def decision_log_maintain(*, now: datetime | None = None) -> dict[str, Any]:
    """The daily job: partitions for this month and the next ``MONTHS_AHEAD``, and retention
    (``models-decision-log-retention-months``): months before the cutoff are dropped (whole
    partitions on PostgreSQL, rows elsewhere). Running it again changes nothing."""
    now = now or timezone.now()
    months = int(config_get("models-decision-log-retention-months"))
    this_month = _month_of(now)
    cutoff_month = _add_months(this_month, -months)
    cutoff = _start(cutoff_month)
    result: dict[str, Any] = {"created": [], "dropped": [], "deleted": 0, "cutoff": cutoff.isoformat()}
    if not is_partitioned():
        result["deleted"] = Decision.objects.filter(created_at__lt=cutoff).delete()[0]
        return result
    result["created"] = partitions_ensure(_add_months(this_month, k) for k in range(MONTHS_AHEAD + 1))
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK])
        for name, month in sorted(partitions().items()):
            if month is not None and month < cutoff_month:
                cursor.execute(f"DROP TABLE IF EXISTS {qn(name)}")
                result["dropped"].append(name)
        # Rows of months that had no partition when written wait in DEFAULT.
        cursor.execute(f"DELETE FROM {qn(_table() + '_default')} WHERE created_at < %s", [cutoff])  # noqa: S608 - names from model meta
        result["deleted"] = cursor.rowcount
    return result


# Decisions counted at most this far: the log grows to millions, a page shows "10,000+".
COUNT_CAP = 10_000


def decisions_counted(version_id: int) -> dict[str, int | bool]:
    """How many decisions ``version_id`` made, counted up to ``COUNT_CAP`` (``more``: beyond)."""
    seen = Decision.objects.filter(version_id=version_id).values("pk")[: COUNT_CAP + 1].count()
    return {"count": min(seen, COUNT_CAP), "more": seen > COUNT_CAP}
