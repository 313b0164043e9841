"""profile_parquet: the whole report, read column by column from a Parquet file.

Pure module: no Django import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from .columns import _profile_column
from .common import Thresholds, _, _alert, _is_string_like, _naive_utc, _share
from .hashing import _SEED, _duplicate_count, _duplicate_groups, _fold, _key_examples
from .score import _alerts, _score
from .times import _time_section

# One whole sentence per role, so each reads naturally once translated.
ROLE_MESSAGES = {
    "label": _("The label column '%(column)s' is not in the dataset."),
    "time": _("The time column '%(column)s' is not in the dataset."),
    "key": _("The key column '%(column)s' is not in the dataset."),
}

PROFILE_VERSION = "1"
MAX_KEY_EXAMPLES = 5


def profile_parquet(
    path: Path,
    *,
    label: str | None = None,
    time_column: str | None = None,
    key_columns: list[str] | None = None,
    now: datetime | None = None,
    thresholds: Thresholds = Thresholds(),  # noqa: B008 - frozen, so one shared default is safe
) -> dict:
    """Profile the Parquet file at ``path`` column by column (see the module docstring).

    ``label`` names the target column (class balance), ``time_column`` the date column
    (completeness, future timestamps; a string column is parsed with ``TIME_FORMATS`` and an
    integer column holding ``yyyymmdd`` values as dates), ``key_columns`` the columns that
    should identify a row. ``now`` (default: the current UTC time; an aware datetime is
    converted to UTC, naive timestamps in the file are taken as UTC) separates future
    timestamps. Unknown column names give an error alert, not an exception.
    """
    path = Path(path)
    schema = pq.read_schema(path)
    names = list(schema.names)
    # Strings are read straight as dictionaries: cheaper than materialising every string, and
    # the dictionary indices are exactly what counting and hashing need.
    string_columns = [f.name for f in schema if _is_string_like(f.type)]
    parquet = pq.ParquetFile(path, read_dictionary=string_columns)
    n = parquet.metadata.num_rows
    now_naive = _naive_utc(now if now is not None else datetime.now(UTC))

    alerts: list[dict] = []
    for role, wanted in (("label", [label]), ("time", [time_column]), ("key", key_columns or [])):
        for name in wanted:
            if name is not None and name not in names:
                alerts.append(_alert("error", "unknown_column", ROLE_MESSAGES[role], {"column": name}, name))
    keys = [k for k in (key_columns or []) if k in names]

    row_hash = np.full(n, _SEED, dtype=np.uint64)
    key_hash = np.full(n, _SEED, dtype=np.uint64) if keys else None
    columns: list[dict] = []
    label_section: dict | None = None
    time_section: dict | None = None
    memory_bytes = 0

    for fld in schema:
        data = parquet.read(columns=[fld.name], use_threads=True).column(0)
        result = _profile_column(
            fld.name,
            fld.type,
            data,
            n,
            thresholds,
            is_label=fld.name == label,
            is_time=fld.name == time_column,
            now=now_naive,
        )
        del data
        memory_bytes += result.memory_bytes
        columns.append(result.report)
        _fold(row_hash, result.row_keys)
        if key_hash is not None and fld.name in keys:
            _fold(key_hash, result.row_keys)
        if result.label is not None:
            label_section = result.label
        if result.time is not None:
            time_section = result.time

    if time_section is None and time_column in names:
        # A boolean or nested column cannot hold dates: every value is unparseable.
        time_section = _time_section(time_column, np.array([], "M8[s]"), 0, now_naive, is_date=False)
        time_section["unparseable"] = next(c["count"] for c in columns if c["name"] == time_column)

    duplicate_rows = _duplicate_count(row_hash)
    del row_hash
    duplicate_keys: dict | None = None
    if key_columns:
        duplicate_keys = {"columns": list(key_columns), "count": 0, "share": 0.0, "examples": []}
        if key_hash is not None:
            count, example_rows = _duplicate_groups(key_hash, MAX_KEY_EXAMPLES)
            duplicate_keys.update(
                count=count,
                share=_share(count, n),
                examples=_key_examples(parquet, keys, example_rows),
            )

    report: dict[str, Any] = {
        "profileVersion": PROFILE_VERSION,
        "rowCount": n,
        "columnCount": len(names),
        "memoryBytes": memory_bytes,
        "duplicateRows": {"count": duplicate_rows, "share": _share(duplicate_rows, n)},
        "duplicateKeys": duplicate_keys,
        "columns": columns,
        "label": label_section,
        "time": time_section,
    }
    report["score"], report["scoreBreakdown"] = _score(report, thresholds)
    report["alerts"] = alerts + _alerts(report, thresholds)
    return report
