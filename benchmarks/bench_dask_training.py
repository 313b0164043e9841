"""The dask engine of a training against one process, and against ``lightgbm.dask`` called
directly, on the same Parquet file.

    .venv/bin/python -m benchmarks.bench_dask_training [--rows 5000000] [--features 50] [--rounds 100]
    .venv/bin/python -m benchmarks.bench_dask_training --rows 1000000 --overhead

Data: ``rows`` x ``features`` float64 columns drawn from N(0, 1) (seed 20), a binary label
``y ~ Bernoulli(sigmoid(x0 - x1 + 0.5 x2 x3))``, written as Parquet in row groups of 250,000
rows. The generator was fixed before any run.

Memory (issue #20's target: each Dask worker's peak RSS <= 60 % of the single-process run):
1. local: ``training.train`` in a fresh process (reads the table, as a local training
   task does); its peak RSS (VmHWM);
2. dask: ``training.distributed.train_dask`` on a fresh cluster of two single-threaded
   worker processes; each worker's peak RSS, and the client's.

Overhead (``--overhead``): the same cluster trains the same rows with ``lightgbm.dask``
called directly (``dd.read_parquet`` -> ``DaskLGBMClassifier.fit``, no validation set), then
with OMM's dask path (the local engine's split drawn on the client, encoding on the
workers, a validation set scored on the workers): seconds of each, and the ratio.
Both sides train the same rounds with the same parameters.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
ROW_GROUP = 250_000


def write_data(path: Path, rows: int, features: int, seed: int = 20) -> None:
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(features)]
    schema = pa.schema([*(pa.field(n, pa.float64()) for n in names), pa.field("y", pa.int8())])
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for start in range(0, rows, ROW_GROUP):
            n = min(ROW_GROUP, rows - start)
            x = rng.normal(size=(n, features))
            logit = x[:, 0] - x[:, 1] + 0.5 * x[:, 2] * x[:, 3]
            y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
            writer.write_table(
                pa.table({**{names[j]: x[:, j] for j in range(features)}, "y": y}, schema=schema)
            )


def _spec(features: int, rounds: int):
    from apps.models.training import TrainingSpec

    return TrainingSpec(
        algorithm="lightgbm",
        objective="binary",
        label="y",
        features=[f"x{i}" for i in range(features)],
        params={"num_boost_round": rounds},
        num_threads=2,
    )


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def local_child(path: str, features: int, rounds: int) -> None:
    """Run in a fresh process: read and train as a local training task does."""
    from apps.models import training

    started = time.monotonic()
    table = pq.read_table(path)
    result = training.train(_spec(features, rounds), table)
    print(
        json.dumps(
            {
                "seconds": time.monotonic() - started,
                "peak_mb": _peak_rss_mb(),
                "auc": result.metrics["auc"],
                "rows": result.rows,
            }
        )
    )


def _cluster(workers: int = 2):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=0,  # measured, not limited: no spilling or pausing
        dashboard_address=None,
    )
    return cluster, Client(cluster)


def _worker_peaks(client) -> dict[str, float]:
    return client.run(_peak_rss_mb)


def run_dask(path: str, features: int, rounds: int) -> dict:
    from apps.models.training import distributed

    cluster, client = _cluster()
    try:
        started = time.monotonic()
        result = distributed.train_dask(_spec(features, rounds), client, path)
        seconds = time.monotonic() - started
        return {
            "seconds": seconds,
            "auc": result.metrics["auc"],
            "rows": result.rows,
            "held": result.engine["workers"],
            "worker_peak_mb": _worker_peaks(client),
            "client_peak_mb": _peak_rss_mb(),
        }
    finally:
        client.close()
        cluster.close()


def run_direct(path: str, features: int, rounds: int) -> dict:
    import dask.dataframe as dd
    import lightgbm.dask as lgbd

    cluster, client = _cluster()
    try:
        started = time.monotonic()
        # Persisted whole, as lightgbm.dask's examples do: X and y then share partitions (a
        # projection of "y" alone would be read in fused, larger partitions).
        frame = dd.read_parquet(path, split_row_groups=True).persist()
        names = [f"x{i}" for i in range(features)]
        model = lgbd.DaskLGBMClassifier(
            client=client,
            n_estimators=rounds,
            learning_rate=0.1,
            num_leaves=31,
            deterministic=True,
            force_col_wise=True,
            verbosity=-1,
            random_state=42,
        )
        model.fit(frame[names], frame["y"])
        return {"seconds": time.monotonic() - started, "worker_peak_mb": _worker_peaks(client)}
    finally:
        client.close()
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--overhead", action="store_true", help="dask path vs lightgbm.dask directly")
    parser.add_argument("--local-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.local_child:
        local_child(args.local_child, args.features, args.rounds)
        return
    with tempfile.TemporaryDirectory(prefix="omm-bench-dask-") as tmp:
        path = Path(tmp) / "data.parquet"
        t0 = time.monotonic()
        write_data(path, args.rows, args.features)
        size = path.stat().st_size / 2**20
        print(
            f"data: {args.rows:,} rows x {args.features} features, {size:,.0f} MiB Parquet "
            f"({time.monotonic() - t0:.0f} s to write); {args.rounds} rounds"
        )
        if args.overhead:
            direct = run_direct(str(path), args.features, args.rounds)
            ours = run_dask(str(path), args.features, args.rounds)
            print(f"lightgbm.dask directly: {direct['seconds']:.1f} s")
            print(
                f"OMM dask path:          {ours['seconds']:.1f} s (AUC {ours['auc']:.4f}, "
                f"workers hold {ours['held']})"
            )
            print(f"overhead ratio OMM / direct: {ours['seconds'] / direct['seconds']:.2f}x")
            return
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.bench_dask_training",
                "--local-child",
                str(path),
                "--features",
                str(args.features),
                "--rounds",
                str(args.rounds),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        local = json.loads(child.stdout.strip().splitlines()[-1])
        ours = run_dask(str(path), args.features, args.rounds)
        print(
            f"local engine (one process): {local['seconds']:.1f} s, peak RSS {local['peak_mb']:,.0f} MiB, "
            f"AUC {local['auc']:.4f}"
        )
        print(
            f"dask engine (2 workers):    {ours['seconds']:.1f} s, AUC {ours['auc']:.4f} "
            f"(difference {abs(ours['auc'] - local['auc']):.4f}); "
            f"client peak {ours['client_peak_mb']:,.0f} MiB"
        )
        for worker, peak in sorted(ours["worker_peak_mb"].items()):
            rows = ours["held"].get(worker, 0)
            print(
                f"  worker {worker}: {rows:,} training rows, peak RSS {peak:,.0f} MiB = "
                f"{peak / local['peak_mb']:.0%} of the single process (target <= 60 %)"
            )


if __name__ == "__main__":
    multiprocessing.freeze_support()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
