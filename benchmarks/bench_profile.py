"""Profile a 1,000,000 x 30 Parquet file: time and peak memory against the targets.

    .venv/bin/python -m benchmarks.bench_profile          # BENCH_ROWS=... to change the size

The file mixes 18 float columns (2 % NaN, 0.5 % outliers), 6 integer columns, 4 Chinese
categorical string columns, 1 daily date column and a binary label (5 % bad). Each
measurement runs in a fresh subprocess so that peak RSS (``ru_maxrss``) is the run's own:
growth = peak after the run - peak after the imports.

Targets: <= 8 s wall time (best of 2) and peak RSS growth <= 3x the table's in-memory Arrow
size (``pq.read_table(path).nbytes``). The peer baseline is what a pandas user would write:
``read_parquet`` + ``describe(include="all")`` + ``isna().sum()`` + ``duplicated().sum()``
(fewer statistics than the profile: no outliers, histograms, time gaps or score).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from benchmarks._child import peak_rss_bytes, run_child

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
RUNS = 2
TARGET_SECONDS = 8.0
TARGET_MEMORY_RATIO = 3.0


def generate(path: Path, rows: int, seed: int = 7) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for i in range(18):
        x = rng.normal(100.0 * i, 10.0 + i, rows)
        spikes = rng.random(rows) < 0.005
        x[spikes] *= 10.0  # gross outliers, as a mis-keyed amount
        x[rng.random(rows) < 0.02] = np.nan
        columns[f"f{i:02d}"] = pa.array(x)
    columns["age"] = pa.array(rng.integers(18, 80, rows))
    columns["months_on_book"] = pa.array(rng.integers(0, 240, rows))
    columns["n_accounts"] = pa.array(rng.poisson(3, rows))
    columns["overdue_days"] = pa.array(rng.integers(0, 5, rows) * rng.integers(0, 31, rows))
    columns["credit_limit"] = pa.array(rng.integers(1, 500, rows) * 1000)
    columns["customer_id"] = pa.array(rng.permutation(rows) + 10_000_000)
    provinces = np.array(["北京", "上海", "广东", "浙江", "江苏", "四川", "湖北", "山东", "河南", "福建"])
    products = np.array(["信用卡", "消费贷", "经营贷", "房贷", "车贷"])
    channels = np.array(["手机银行", "网点", "电话", "合作方"])
    branches = np.array([f"支行{i:03d}" for i in range(300)])
    for name, values in (
        ("province", provinces),
        ("product", products),
        ("channel", channels),
        ("branch", branches),
    ):
        picked = values[rng.integers(0, len(values), rows)].astype(object)
        picked[rng.random(rows) < 0.01] = None
        columns[name] = pa.array(picked, type=pa.string())
    days = np.datetime64("2021-01-01") + rng.integers(0, 3 * 365, rows).astype("m8[D]")
    columns["as_of_date"] = pa.array(days.astype("M8[D]"))
    columns["label"] = pa.array((rng.random(rows) < 0.05).astype(np.int8))
    pq.write_table(pa.table(columns), path)


def _child_profile(path: str) -> dict:
    import time

    from apps.datasets.profiling import profile_parquet

    before = peak_rss_bytes()
    start = time.perf_counter()
    report = profile_parquet(Path(path), label="label", time_column="as_of_date", key_columns=["customer_id"])
    seconds = time.perf_counter() - start
    after = peak_rss_bytes()
    json.dumps(report)  # the report must serialise as the API serves it
    return {
        "seconds": seconds,
        "rss_growth": after - before,
        "score": report["score"],
        "alerts": len(report["alerts"]),
        "duplicate_rows": report["duplicateRows"]["count"],
    }


def _child_pandas(path: str) -> dict:
    import time

    import pandas as pd

    before = peak_rss_bytes()
    start = time.perf_counter()
    df = pd.read_parquet(path)
    df.describe(include="all")
    df.isna().sum()
    duplicates = int(df.duplicated().sum())
    seconds = time.perf_counter() - start
    after = peak_rss_bytes()
    return {"seconds": seconds, "rss_growth": after - before, "duplicate_rows": duplicates}


def _run_child(kind: str, path: Path) -> dict:
    return run_child("benchmarks.bench_profile", kind, path)


def _child_generate(path: str) -> dict:
    import pyarrow.parquet as pq

    generate(Path(path), ROWS)
    table = pq.read_table(path)
    return {"nbytes": table.nbytes, "rows": table.num_rows, "columns": table.num_columns}


def main() -> None:
    # The parent stays small and imports nothing heavy: Linux carries a process's peak RSS
    # across fork+exec into ru_maxrss, so a large parent would mask the children's growth.
    with tempfile.TemporaryDirectory(prefix="omm-bench-profile-") as tmp:
        path = Path(tmp) / "bench.parquet"
        made = _run_child("generate", path)
        data_bytes = made["nbytes"]
        shape = (made["rows"], made["columns"])
        ours = [_run_child("profile", path) for _ in range(RUNS)]
        peer = [_run_child("pandas", path) for _ in range(RUNS)]

    best = min(r["seconds"] for r in ours)
    growth = max(r["rss_growth"] for r in ours)
    peer_best = min(r["seconds"] for r in peer)
    peer_growth = max(r["rss_growth"] for r in peer)
    mib = 1024 * 1024
    print(f"dataset            {shape[0]:,} rows x {shape[1]} columns, in memory {data_bytes / mib:,.0f} MiB")
    print(f"cores              {os.cpu_count()}")
    runs = ", ".join(f"{r['seconds']:.2f}" for r in ours)
    print(f"profile_parquet    {best:6.2f} s best of {RUNS}  ({runs})")
    memory_ok = "OK" if growth <= TARGET_MEMORY_RATIO * data_bytes else "MISS"
    print(
        f"  peak RSS growth  {growth / mib:6.0f} MiB = {growth / data_bytes:.2f}x data"
        f"  (target <= {TARGET_MEMORY_RATIO:.0f}x: {memory_ok})"
    )
    print(
        f"  time vs target   {best / TARGET_SECONDS:6.2f} of {TARGET_SECONDS:.0f} s"
        f"  ({'OK' if best <= TARGET_SECONDS else 'MISS'})"
    )
    print(
        f"  score {ours[0]['score']}, {ours[0]['alerts']} alerts, {ours[0]['duplicate_rows']} duplicate rows"
    )
    print(
        f"pandas baseline    {peer_best:6.2f} s best of {RUNS}, peak RSS growth {peer_growth / mib:,.0f} MiB"
    )
    print(f"  ours / pandas    {best / peer_best:6.2f}x time, {growth / peer_growth:.2f}x memory")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child = {"generate": _child_generate, "profile": _child_profile, "pandas": _child_pandas}[sys.argv[2]]
        print(json.dumps(child(sys.argv[3])))
    else:
        main()
