"""What reason codes add to a one-record prediction.

    .venv/bin/python benchmarks/bench_reasons.py            # --calls N (default 5,000)

Two models trained with ``training.train`` on 20,000 synthetic rows with 20 features (18
numbers with 5 % missing, 2 categorical string columns): LightGBM with 100 trees and
logistic regression. A call is what the predict endpoint does for one record: build the
matrix (``records_matrix``) and score it (``score_matrix``, one thread); "+ reasons" also
computes the contributions with the model's ``compile_reasons`` object (compiled once, as the
serving cache would keep it) and the top 4 reasons. Both forms alternate in one loop so
they see the same machine state; p50/p99 in microseconds, the added time and the ratio.
Target: reasons add <= 1 ms at p99.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `apps` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pyarrow as pa

from apps.models import artifacts as A
from apps.models import training as T

N_ROWS = 20_000
N_NUMERIC = 18
TARGET_ADDED_P99_US = 1000.0
KEY = b"bench"


def make_table(seed: int = 11) -> pa.Table:
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    logit = np.full(N_ROWS, -1.5)
    for j in range(N_NUMERIC):
        x = rng.normal(size=N_ROWS)
        logit += x * rng.normal(0, 0.4)
        x[rng.random(N_ROWS) < 0.05] = np.nan
        cols[f"n{j:02d}"] = x
    for name, k in (("region", 12), ("product", 5)):
        codes = rng.integers(0, k, size=N_ROWS)
        logit += rng.normal(0, 0.5, size=k)[codes]
        cols[name] = pa.array([f"{name}_{c}" for c in codes], pa.string())
    cols["y"] = (rng.random(N_ROWS) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pa.table(cols)


def load(table: pa.Table, algorithm: str, params: dict):
    features = [c for c in table.column_names if c != "y"]
    spec = T.TrainingSpec(
        algorithm=algorithm, objective="binary", label="y", features=features, params=params
    )
    result = T.train(spec, table)
    model = A.load_model(A.unpack(A.pack(result.model_bytes, result.model_format, key=KEY, meta={}), key=KEY))
    meta = result.meta
    X_train = T.feature_matrix(table, meta)
    reference = T.reasons_reference(result.model_format, model, X_train, "binary")
    compiled = T.compile_reasons(result.model_format, model, "binary", len(features), reference)
    level_codes = {name: {v: i for i, v in enumerate(lv)} for name, lv in meta["categorical_levels"].items()}
    records = table.drop(["y"]).slice(0, 200).to_pylist()
    return result, model, features, level_codes, compiled, records


def measure(table: pa.Table, algorithm: str, params: dict, calls: int) -> dict:
    result, model, features, level_codes, compiled, records = load(table, algorithm, params)
    fmt = result.model_format

    def score(record):
        X = T.records_matrix([record], features, level_codes)
        return X, T.score_matrix(fmt, model, X, "binary", num_threads=1)

    def score_and_reasons(record):
        X, s = score(record)
        contrib = compiled.contributions(X)[0]
        return s, T.top_reasons(contrib, features, [record[f] for f in features], k=4)

    for record in records[:50]:  # warm-up
        score_and_reasons(record)
    plain, full = np.empty(calls), np.empty(calls)
    clock = time.perf_counter_ns
    for i in range(calls):
        record = records[i % len(records)]
        t0 = clock()
        score(record)
        t1 = clock()
        score_and_reasons(record)
        t2 = clock()
        plain[i], full[i] = (t1 - t0) / 1e3, (t2 - t1) / 1e3
    p = {name: np.percentile(v, [50, 99]) for name, v in (("plain", plain), ("full", full))}
    return {
        "model": f"{algorithm} ({result.best_iteration or 1} {'trees' if fmt == 'lightgbm-text' else 'fit'})",
        "p50": p["plain"][0],
        "p99": p["plain"][1],
        "p50_r": p["full"][0],
        "p99_r": p["full"][1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    table = make_table()
    rows = [
        measure(table, "lightgbm", {"num_boost_round": 100, "early_stopping_rounds": 0}, args.calls),
        measure(table, "logistic_regression", {}, args.calls),
    ]
    print(f"1-row predict, {args.calls} calls each, microseconds (20 features)")
    head = f"{'model':<28}{'score p50':>10}{'p99':>8}{'+reasons p50':>14}{'p99':>8}"
    print(head + f"{'added p50':>11}{'added p99':>11}{'ratio p50':>11}{'ratio p99':>11}")
    ok = True
    for r in rows:
        added50, added99 = r["p50_r"] - r["p50"], r["p99_r"] - r["p99"]
        ok &= added99 <= TARGET_ADDED_P99_US
        print(
            f"{r['model']:<28}{r['p50']:>10.0f}{r['p99']:>8.0f}{r['p50_r']:>14.0f}{r['p99_r']:>8.0f}"
            f"{added50:>11.0f}{added99:>11.0f}{r['p50_r'] / r['p50']:>11.2f}{r['p99_r'] / r['p99']:>11.2f}"
        )
    print(f"target: reasons add <= {TARGET_ADDED_P99_US:.0f} us at p99: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
