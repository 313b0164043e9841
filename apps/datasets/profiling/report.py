"""profile_parquet: the whole report, read column by column from a Parquet file.

The work is split so that a Dask cluster can share it (``cluster.profile_parquet_dask``):
``profile_columns`` profiles a run of adjacent columns and folds their row-hash keys,
``join_hashes`` chains the folds of two adjacent runs, and ``assemble_report`` builds the
report from the runs' column reports. Run here over all columns at once, it is the local
engine; the numbers are the same either way.

Pure module: no Django import.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from .columns import _profile_column
from .common import Thresholds, _, _alert, _is_string_like, _naive_utc, _share
from .hashing import _FOLD, _SEED, _duplicate_count, _duplicate_groups, _fold, _key_examples
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
_WORD = 1 << 64


@contextlib.contextmanager
def open_parquet(path: str | Path, storage_options: dict | None = None) -> Iterator[pq.ParquetFile]:
    """The Parquet file at ``path`` (a local path, or a URL fsspec opens with
    ``storage_options``), its string columns read straight as dictionaries: cheaper than
    materialising every string, and the indices are exactly what counting and hashing need."""
    with contextlib.ExitStack() as stack:
        source: Any = path
        if storage_options or "://" in str(path):
            import fsspec

            fs, inner = fsspec.core.url_to_fs(str(path), **(storage_options or {}))
            source = stack.enter_context(fs.open(inner, "rb"))
        schema = pq.read_schema(source)
        if hasattr(source, "seek"):
            source.seek(0)
        strings = [f.name for f in schema if _is_string_like(f.type)]
        parquet = pq.ParquetFile(source, read_dictionary=strings)
        stack.callback(parquet.close)
        yield parquet


@dataclass
class ColumnsPart:
    """The profile of a run of adjacent columns: their reports (in file order), the label or
    time section if the run holds that column, and the run's row-hash folds started from 0
    (``None`` once they were joined into another part)."""

    columns: list[dict]
    memory_bytes: int = 0
    label: dict | None = None
    time: dict | None = None
    width: int = 0  # columns folded into row_hash
    key_width: int = 0  # key columns folded into key_hash
    row_hash: np.ndarray | None = field(default=None, repr=False)
    key_hash: np.ndarray | None = field(default=None, repr=False)

    def summary(self) -> ColumnsPart:
        """This part without its hashes: what travels back to the caller."""
        return ColumnsPart(self.columns, self.memory_bytes, self.label, self.time, self.width, self.key_width)


def profile_columns(
    parquet: pq.ParquetFile,
    names: list[str],
    *,
    label: str | None,
    time_column: str | None,
    keys: list[str],
    now_naive: datetime,
    thresholds: Thresholds,
) -> ColumnsPart:
    """Profile the columns ``names`` (adjacent, in file order) one at a time; memory stays
    bounded by one column plus the two row-hash folds."""
    n = parquet.metadata.num_rows
    schema = parquet.schema.to_arrow_schema()  # the file's types (strings are read as dictionaries)
    row_hash = np.zeros(n, dtype=np.uint64)
    key_hash = np.zeros(n, dtype=np.uint64) if any(k in names for k in keys) else None
    part = ColumnsPart(columns=[], row_hash=row_hash, key_hash=key_hash)
    for name in names:
        fld = schema.field(name)
        data = parquet.read(columns=[name], use_threads=True).column(0)
        result = _profile_column(
            name,
            fld.type,
            data,
            n,
            thresholds,
            is_label=name == label,
            is_time=name == time_column,
            now=now_naive,
        )
        del data
        part.memory_bytes += result.memory_bytes
        part.columns.append(result.report)
        _fold(row_hash, result.row_keys)
        part.width += 1
        if key_hash is not None and name in keys:
            _fold(key_hash, result.row_keys)
            part.key_width += 1
        if result.label is not None:
            part.label = result.label
        if result.time is not None:
            part.time = result.time
    return part


def _power(width: int) -> np.uint64:
    """``_FOLD ** width`` modulo 2**64: what a fold over ``width`` more columns multiplies by."""
    return np.uint64(pow(int(_FOLD), width, _WORD))


def join_hashes(left: ColumnsPart, right: ColumnsPart) -> ColumnsPart:
    """The folds of two adjacent runs as one run's (``left`` comes first in the file).

    A fold is ``acc * P + keys`` column after column, so folding ``right`` after ``left``
    equals ``left * P**width(right) + right``: the hashes do not depend on how the columns
    were split between workers.
    """
    joined = ColumnsPart(
        columns=[], width=left.width + right.width, key_width=left.key_width + right.key_width
    )
    rows = left.row_hash * _power(right.width)
    rows += right.row_hash
    joined.row_hash = rows
    if right.key_hash is None:  # no key column on the right: nothing to shift
        joined.key_hash = left.key_hash
    elif left.key_hash is None:  # no key column on the left: it adds nothing
        joined.key_hash = right.key_hash
    else:
        keys = left.key_hash * _power(right.key_width)
        keys += right.key_hash
        joined.key_hash = keys
    return joined


def _seeded(folded: np.ndarray, width: int, *, in_place: bool) -> np.ndarray:
    """A fold started from 0 as if it had started from ``_SEED``."""
    seed = np.uint64(int(_SEED) * pow(int(_FOLD), width, _WORD) % _WORD)
    if not in_place:
        return folded + seed
    folded += seed
    return folded


def duplicates(
    part: ColumnsPart,
    parquet: pq.ParquetFile,
    key_columns: list[str] | None,
    keys: list[str],
    *,
    in_place: bool = False,
) -> tuple[int, dict | None]:
    """Duplicate rows, and the duplicate-keys section, from the folds of all the columns.

    ``in_place`` reuses (and drops) the part's folds, saving a copy of each; a Dask task must
    not change its inputs, so it leaves them alone."""
    n = parquet.metadata.num_rows
    row_hash = _seeded(part.row_hash, part.width, in_place=in_place)
    if in_place:
        part.row_hash = None
    duplicate_rows = _duplicate_count(row_hash)
    del row_hash
    duplicate_keys: dict | None = None
    if key_columns:
        duplicate_keys = {"columns": list(key_columns), "count": 0, "share": 0.0, "examples": []}
        if part.key_hash is not None:
            key_hash = _seeded(part.key_hash, part.key_width, in_place=in_place)
            if in_place:
                part.key_hash = None
            count, example_rows = _duplicate_groups(key_hash, MAX_KEY_EXAMPLES)
            duplicate_keys.update(
                count=count,
                share=_share(count, n),
                examples=_key_examples(parquet, keys, example_rows),
            )
    return duplicate_rows, duplicate_keys


def present_keys(names: list[str], key_columns: list[str] | None) -> list[str]:
    return [k for k in (key_columns or []) if k in names]


def assemble_report(
    *,
    n: int,
    names: list[str],
    parts: list[ColumnsPart],
    duplicate_rows: int,
    duplicate_keys: dict | None,
    label: str | None,
    time_column: str | None,
    key_columns: list[str] | None,
    now_naive: datetime,
    thresholds: Thresholds,
) -> dict:
    """The report from the parts (in file order) and the duplicate counts."""
    alerts: list[dict] = []
    for role, wanted in (("label", [label]), ("time", [time_column]), ("key", key_columns or [])):
        for name in wanted:
            if name is not None and name not in names:
                alerts.append(_alert("error", "unknown_column", ROLE_MESSAGES[role], {"column": name}, name))
    columns = [c for part in parts for c in part.columns]
    label_section = next((p.label for p in parts if p.label is not None), None)
    time_section = next((p.time for p in parts if p.time is not None), None)
    if time_section is None and time_column in names:
        # A boolean or nested column cannot hold dates: every value is unparseable.
        time_section = _time_section(time_column, np.array([], "M8[s]"), 0, now_naive, is_date=False)
        time_section["unparseable"] = next(c["count"] for c in columns if c["name"] == time_column)
    report: dict[str, Any] = {
        "profileVersion": PROFILE_VERSION,
        "rowCount": n,
        "columnCount": len(names),
        "memoryBytes": sum(p.memory_bytes for p in parts),
        "duplicateRows": {"count": duplicate_rows, "share": _share(duplicate_rows, n)},
        "duplicateKeys": duplicate_keys,
        "columns": columns,
        "label": label_section,
        "time": time_section,
    }
    report["score"], report["scoreBreakdown"] = _score(report, thresholds)
    report["alerts"] = alerts + _alerts(report, thresholds)
    return report


def profile_parquet(
    path: Path,
    *,
    label: str | None = None,
    time_column: str | None = None,
    key_columns: list[str] | None = None,
    now: datetime | None = None,
    thresholds: Thresholds = Thresholds(),  # noqa: B008 - frozen, so one shared default is safe
) -> dict:
    """Profile the Parquet file at ``path`` column by column (see the package docstring).

    ``label`` names the target column (class balance), ``time_column`` the date column
    (completeness, future timestamps; a string column is parsed with ``TIME_FORMATS`` and an
    integer column holding ``yyyymmdd`` values as dates), ``key_columns`` the columns that
    should identify a row. ``now`` (default: the current UTC time; an aware datetime is
    converted to UTC, naive timestamps in the file are taken as UTC) separates future
    timestamps. Unknown column names give an error alert, not an exception.
    """
    now_naive = _naive_utc(now if now is not None else datetime.now(UTC))
    with open_parquet(Path(path)) as parquet:
        names = list(parquet.schema.to_arrow_schema().names)
        keys = present_keys(names, key_columns)
        part = profile_columns(
            parquet,
            names,
            label=label,
            time_column=time_column,
            keys=keys,
            now_naive=now_naive,
            thresholds=thresholds,
        )
        duplicate_rows, duplicate_keys = duplicates(part, parquet, key_columns, keys, in_place=True)
        return assemble_report(
            n=parquet.metadata.num_rows,
            names=names,
            parts=[part],
            duplicate_rows=duplicate_rows,
            duplicate_keys=duplicate_keys,
            label=label,
            time_column=time_column,
            key_columns=key_columns,
            now_naive=now_naive,
            thresholds=thresholds,
        )
