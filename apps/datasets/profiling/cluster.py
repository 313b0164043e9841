"""profile_parquet_dask: the same report as ``profile_parquet``, computed on a Dask cluster.

The columns are cut into runs of adjacent columns of about equal size (from the Parquet
footer); each run is profiled by one task that reads only its own columns, one at a time,
so a worker holds one column and a few row-hash folds (8 bytes a row each), never the
table. The folds of adjacent runs are joined pairwise on the workers (``join_hashes``) and
one task counts the duplicates; only the column reports come back to the client. The report is the one the
local engine computes: the same functions on the same columns, and the same hashes.

Functions shipped to the workers are pickled by value, so a Dask worker needs the pinned
libraries, not OMM's code.

Pure module: no Django import.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .common import Thresholds, _naive_utc
from .report import (
    ColumnsPart,
    assemble_report,
    duplicates,
    join_hashes,
    open_parquet,
    present_keys,
    profile_columns,
)

# Runs per worker thread: more than one, so a slow run (free text) does not idle the rest.
RUNS_PER_THREAD = 2


def _shipped(fn: Callable) -> Any:
    """``fn`` pickled with this package's code: the workers need not have OMM's code."""
    from apps.core.shipping import by_value

    from .. import profiling

    return by_value(fn, profiling)


def column_runs(sizes: list[int], count: int) -> list[tuple[int, int]]:
    """``count`` (at most) runs ``[start, stop)`` of adjacent columns of about equal total
    ``sizes`` (each run holds at least one column)."""
    m = len(sizes)
    count = max(1, min(count, m))
    total = sum(max(s, 1) for s in sizes)
    runs: list[tuple[int, int]] = []
    start, acc = 0, 0
    for j, size in enumerate(sizes):
        acc += max(size, 1)
        left_runs = count - len(runs) - 1
        # Close the run at its share of the total, keeping a column for each run still to come.
        if left_runs > 0 and acc >= total * (len(runs) + 1) / count and m - (j + 1) >= left_runs:
            runs.append((start, j + 1))
            start = j + 1
    runs.append((start, m))
    return [r for r in runs if r[0] < r[1]]


def _column_sizes(parquet: Any) -> list[int]:
    meta = parquet.metadata
    sizes = [0] * meta.num_columns
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for j in range(group.num_columns):
            sizes[j] += group.column(j).total_uncompressed_size
    return sizes


def _profile_run(path: str, storage_options: dict | None, names: list[str], options: dict) -> ColumnsPart:
    # Thresholds travel as a dict: a graph's arguments are pickled by reference.
    options = {**options, "thresholds": Thresholds(**options["thresholds"])}
    with open_parquet(path, storage_options) as parquet:
        return profile_columns(parquet, names, **options)


def _summary(part: ColumnsPart) -> ColumnsPart:
    return part.summary()


def _duplicates(
    part: ColumnsPart, path: str, storage_options: dict | None, key_columns: list[str] | None, keys: list[str]
) -> tuple[int, dict | None]:
    with open_parquet(path, storage_options) as parquet:
        return duplicates(part, parquet, key_columns, keys)


def profile_parquet_dask(
    client: Any,
    path: str,
    *,
    storage_options: dict | None = None,
    label: str | None = None,
    time_column: str | None = None,
    key_columns: list[str] | None = None,
    now: datetime | None = None,
    thresholds: Thresholds = Thresholds(),  # noqa: B008 - frozen, so one shared default is safe
    progress: Callable[[float], None] | None = None,
) -> dict:
    """``profile_parquet`` of the file at ``path`` (a path every worker reaches, or a URL
    fsspec opens with ``storage_options``) on the cluster of ``client``.

    ``progress`` gets the share of the runs done (0..1) as they finish; an exception it raises
    (a cancel) stops the work, the client's futures being released with it.
    """
    from distributed import as_completed

    profile_run, summary, join, count = map(_shipped, (_profile_run, _summary, join_hashes, _duplicates))
    now_naive = _naive_utc(now if now is not None else datetime.now(UTC))
    with open_parquet(path, storage_options) as parquet:
        names = list(parquet.schema.to_arrow_schema().names)
        n = parquet.metadata.num_rows
        sizes = _column_sizes(parquet)
    keys = present_keys(names, key_columns)
    threads = sum(client.nthreads().values()) or 1
    options = {
        "label": label,
        "time_column": time_column,
        "keys": keys,
        "now_naive": now_naive,
        "thresholds": dataclasses.asdict(thresholds),
    }
    runs = [
        client.submit(profile_run, path, storage_options, names[start:stop], options, pure=False)
        for start, stop in column_runs(sizes, threads * RUNS_PER_THREAD)
    ]
    summaries = [client.submit(summary, run, pure=False) for run in runs]
    for done, _future in enumerate(as_completed(summaries, loop=client.loop), start=1):
        if progress is not None:
            progress(done / len(summaries))
    parts = client.gather(summaries)
    # Adjacent folds joined pairwise on the workers: log2(runs) rounds, two folds per task;
    # a run's folds are let go of once joined.
    level, runs = runs, []
    while len(level) > 1:
        level = [
            client.submit(join, level[i], level[i + 1], pure=False) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    duplicate_rows, duplicate_keys = client.submit(
        count, level[0], path, storage_options, key_columns, keys, pure=False
    ).result()
    return assemble_report(
        n=n,
        names=names,
        parts=parts,
        duplicate_rows=duplicate_rows,
        duplicate_keys=duplicate_keys,
        label=label,
        time_column=time_column,
        key_columns=key_columns,
        now_naive=now_naive,
        thresholds=thresholds,
    )
