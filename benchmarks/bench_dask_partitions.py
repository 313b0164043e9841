"""Batch scoring and the quality profile of one Parquet file: local engine against the dask
engine (issue #20: "batch prediction and data profiling ... over partitions on the cluster").

    .venv/bin/python -m benchmarks.bench_dask_partitions [--rows 2000000] [--features 20]
        [--row-group 1048576] [--workers 2] [--skip-score] [--skip-profile]

Data: ``rows`` x ``features`` float64 columns drawn from N(0, 1) (seed 21), two string
categories (``city``: 30 levels, ``channel``: 4), a string key ``id`` and a binary label ``y``,
written as Parquet (zstd) in row groups of ``row_group`` rows: 1,048,576 by default, the row
groups of a dataset version's Parquet copy (pyarrow's default, which the ingestion keeps). A
row group is a Dask partition.

Model: LightGBM trained on the first 200,000 rows (``training.train``, 50 rounds), scored
with TreeSHAP reason codes as a batch prediction does.

Scoring: ``partitions.score_file`` (the local engine: chunks of 200,000 rows in one process)
against ``partitions.score_cluster`` (the dask engine: each partition scored on a Dask
worker, the CSV parts written in file order by the client); the two CSV files are compared
byte for byte. Profile: ``profile_parquet`` against ``profile_parquet_dask``, reports
compared. Each local run is a fresh process (its peak RSS, VmHWM); each dask run a fresh
LocalCluster of ``workers`` single-threaded worker processes (their peak RSS, and the
client's). Timings are wall-clock seconds of one run each, on whatever else the machine does.
"""

from __future__ import annotations

import argparse
import datetime
import filecmp
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
TRAIN_ROWS = 200_000
NOW = datetime.datetime(2025, 1, 1)
CITIES = [f"city-{i:02d}" for i in range(30)]
CHANNELS = ["app", "web", "branch", "=partner"]  # one formula-looking level, neutralised


def write_data(path: Path, rows: int, features: int, row_group: int, seed: int = 21) -> None:
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(features)]
    schema = pa.schema(
        [
            pa.field("id", pa.string()),
            *(pa.field(n, pa.float64()) for n in names),
            pa.field("city", pa.string()),
            pa.field("channel", pa.string()),
            pa.field("y", pa.int8()),
        ]
    )
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for start in range(0, rows, row_group):  # one write, one row group
            n = min(row_group, rows - start)
            x = rng.normal(size=(n, features))
            x[rng.random((n, features)) < 0.02] = np.nan
            city = rng.integers(0, len(CITIES), n)
            channel = rng.integers(0, len(CHANNELS), n)
            logit = np.nan_to_num(x[:, 0] - x[:, 1] + 0.5 * x[:, 2]) + 0.03 * city - 0.4 * (channel == 3)
            y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
            table = pa.table(
                {
                    "id": pa.array([f"A{start + i:09d}" for i in range(n)]),
                    **{names[j]: x[:, j] for j in range(features)},
                    "city": pa.array(np.array(CITIES)[city]),
                    "channel": pa.array(np.array(CHANNELS)[channel]),
                    "y": y,
                },
                schema=schema,
            )
            writer.write_table(table)


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def train_job(path: Path, features: int) -> dict:
    from apps.models import training

    batches = pq.ParquetFile(path).iter_batches(batch_size=TRAIN_ROWS)
    table = pa.Table.from_batches([next(batches)])  # the first rows only: the client stays small
    spec = training.TrainingSpec(
        algorithm="lightgbm",
        objective="binary",
        label="y",
        features=[f"x{i}" for i in range(features)] + ["city", "channel"],
        params={"num_boost_round": 50},
        num_threads=2,
    )
    result = training.train(spec, table)
    return {
        "format": result.model_format,
        "payload": result.model_bytes,
        "trusted_types": [],
        "meta": result.meta,
        "keys": ["id"],
        "codes": {("x0", ""): "R00", ("city", ""): "R-CITY"},
    }


def _job_file(job: dict, directory: Path) -> Path:
    """The job for a child process (bytes and tuple keys as JSON-safe values)."""
    path = directory / "job.json"
    plain = {
        **job,
        "payload": job["payload"].decode("utf-8"),
        "codes": [[f, b, c] for (f, b), c in job["codes"].items()],
    }
    path.write_text(json.dumps(plain))
    return path


def _job_read(path: Path) -> dict:
    plain = json.loads(path.read_text())
    return {
        **plain,
        "payload": plain["payload"].encode("utf-8"),
        "codes": {(f, b): c for f, b, c in plain["codes"]},
    }


def local_child(mode: str, data: str, job_path: str, out: str) -> None:
    """Run in a fresh process: the local engine's scoring or profile."""
    started = time.monotonic()
    if mode == "score":
        from apps.models.training import partitions

        job = _job_read(Path(job_path))
        model = partitions.model_load(job["format"], job["payload"])
        with open(out, "wb") as fh:
            rows = partitions.score_file(data, fh, job, model, lambda done, total: None)
        result = {"rows": rows}
    else:
        from apps.datasets import profiling

        report = profiling.profile_parquet(Path(data), label="y", key_columns=["id"], now=NOW)
        Path(out).write_text(json.dumps(report))
        result = {"score": report["score"]}
    print(json.dumps({**result, "seconds": time.monotonic() - started, "peak_mb": _peak_rss_mb()}))


def _local(mode: str, data: Path, job_path: Path, out: Path) -> dict:
    command = [
        sys.executable,
        "-m",
        "benchmarks.bench_dask_partitions",
        "--child",
        mode,
        str(data),
        str(job_path),
        str(out),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cluster(workers: int):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=0,  # measured, not limited
        dashboard_address=":0",
    )
    return cluster, Client(cluster)


def _dask(mode: str, data: Path, job: dict, out: Path, workers: int) -> dict:
    cluster, client = _cluster(workers)
    try:
        client_before = _peak_rss_mb()
        started = time.monotonic()
        if mode == "score":
            from apps.models.training import partitions

            with open(out, "wb") as fh:
                rows = partitions.score_cluster(client, str(data), fh, job, lambda done, total: None)
            result = {"rows": rows}
        else:
            from apps.datasets.profiling.cluster import profile_parquet_dask

            report = profile_parquet_dask(client, str(data), label="y", key_columns=["id"], now=NOW)
            out.write_text(json.dumps(report))
            result = {"score": report["score"]}
        return {
            **result,
            "seconds": time.monotonic() - started,
            "worker_peak_mb": sorted(client.run(_peak_rss_mb).values()),
            "client_peak_mb": _peak_rss_mb(),
            "client_peak_before_mb": client_before,
        }
    finally:
        client.close()
        cluster.close()


def _same_report(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same_report(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same_report, a, b))
    return a == b


def _mb(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--row-group", type=int, default=1 << 20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-score", action="store_true")
    parser.add_argument("--skip-profile", action="store_true")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        local_child(*args.child)
        return
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="omm-bench-partitions-") as tmp:
        tmp_path = Path(tmp)
        data = tmp_path / "data.parquet"
        t0 = time.monotonic()
        write_data(data, args.rows, args.features, args.row_group)
        groups = pq.ParquetFile(data).metadata.num_row_groups
        print(
            f"data: {args.rows:,} rows x {args.features + 4} columns, {data.stat().st_size / 2**20:,.0f} MiB "
            f"Parquet in {groups} row groups of up to {args.row_group:,} rows "
            f"({time.monotonic() - t0:.0f} s to write); {args.workers} Dask workers x 1 thread"
        )
        if not args.skip_score:
            job = train_job(data, args.features)
            job_path = _job_file(job, tmp_path)
            local = _local("score", data, job_path, tmp_path / "local.csv")
            dask = _dask("score", data, job, tmp_path / "dask.csv", args.workers)
            same = filecmp.cmp(tmp_path / "local.csv", tmp_path / "dask.csv", shallow=False)
            size = (tmp_path / "local.csv").stat().st_size / 2**20
            print(f"batch scoring ({local['rows']:,} rows, CSV {size:,.0f} MiB, files identical: {same})")
            print(f"  local: {local['seconds']:7.1f} s, peak RSS {local['peak_mb']:,.0f} MiB")
            print(
                f"  dask:  {dask['seconds']:7.1f} s, workers' peak RSS {_mb(dask['worker_peak_mb'])} MiB, "
                f"client {dask['client_peak_mb']:,.0f} MiB (before: {dask['client_peak_before_mb']:,.0f})"
            )
        if not args.skip_profile:
            local = _local("profile", data, tmp_path / "none", tmp_path / "local.json")
            dask = _dask("profile", data, {}, tmp_path / "dask.json", args.workers)
            same = _same_report(
                json.loads((tmp_path / "local.json").read_text()),
                json.loads((tmp_path / "dask.json").read_text()),
            )
            print(f"profile (reports equal: {same})")
            print(f"  local: {local['seconds']:7.1f} s, peak RSS {local['peak_mb']:,.0f} MiB")
            print(
                f"  dask:  {dask['seconds']:7.1f} s, workers' peak RSS {_mb(dask['worker_peak_mb'])} MiB, "
                f"client {dask['client_peak_mb']:,.0f} MiB"
            )


if __name__ == "__main__":
    main()
