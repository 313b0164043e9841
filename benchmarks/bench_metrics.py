"""Full binary evaluation report on 1,000,000 and 10,000,000 scores, side by side with toad + sklearn.

    .venv/bin/python benchmarks/bench_metrics.py            # --quick for 200,000 / 1,000,000

The report (apps/evaluations/metrics.py ``classification_report``) computes AUC, KS and its
threshold, Gini, PSI against a baseline on frozen decile bins, ROC and PR points (down-sampled
to 200), the decile lift table, the confusion matrix at 0.5, threshold metrics, average
precision and log loss. The peer computes the same headline figures the way a risk analyst
would with toad 0.1.7 and scikit-learn: ``toad.metrics.AUC``, ``KS``, ``KS_bucket`` (deciles),
``PSI`` on the baseline's quantile bins (``toad.merge(method="quantile")`` + ``np.digitize``),
``sklearn.metrics.roc_curve``, ``precision_recall_curve`` and ``confusion_matrix``. Both run on
the same arrays and must agree: AUC, KS, PSI to 1e-9, decile counts and the confusion matrix
exactly.

Data (seed 7): scores are logistic probabilities of a normal logit, labels drawn from them
(about 8 % bads); the baseline is another sample with a shifted logit. Each side runs in a
fresh process (``benchmarks/_child.py``), best of ``--runs``; the large run also reports the
child's peak RSS (``ru_maxrss``). Targets: 1M report <= 0.25 s and >= 5x faster than the
peer; 10M report <= 2.5 s; peak RSS far under the machine's 24 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `apps` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._child import peak_rss_bytes, run_child

TARGET_SECONDS_1M = 0.25
TARGET_SECONDS_10M = 2.5
TARGET_RATIO = 5.0
RSS_LIMIT_BYTES = 24 * 1024**3
BINS = 10
THRESHOLD = 0.5
CURVE_POINTS = 200


def make_data(n: int, seed: int = 7):
    import numpy as np

    rng = np.random.default_rng(seed)
    logit = rng.normal(-2.8, 1.2, n)
    score = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < score).astype(np.int8)
    baseline = 1 / (1 + np.exp(-rng.normal(-2.7, 1.1, n)))
    return y, score, baseline


def _child_ours(arg: str) -> dict:
    import time

    from apps.evaluations.metrics import classification_report

    n, runs = (int(v) for v in arg.split(":"))
    y, score, baseline = make_data(n)
    before = peak_rss_bytes()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        report = classification_report(
            y, score, threshold=THRESHOLD, baseline_score=baseline, bins=BINS, curve_points=CURVE_POINTS
        )
        times.append(time.perf_counter() - start)
    json.dumps(report, allow_nan=False)  # what the API stores must serialise
    rows = report["deciles"]["rows"][::-1]  # lowest scores first, as toad lists them
    return {
        "times": times,
        "peak_rss": peak_rss_bytes(),
        "rss_growth": peak_rss_bytes() - before,
        "auc": report["metrics"]["auc"],
        "ks": report["metrics"]["ks"],
        "gini": report["metrics"]["gini"],
        "psi": report["psi"]["psi"],
        "decile_totals": [r["count"] for r in rows],
        "decile_bads": [r["bads"] for r in rows],
        "confusion": report["confusion_matrix"],
        "roc_points": len(report["roc_curve"]["fpr"]),
    }


def _child_peer(arg: str) -> dict:
    import time
    import warnings

    import numpy as np
    import toad
    from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve

    warnings.simplefilter("ignore")
    n, runs = (int(v) for v in arg.split(":"))
    y, score, baseline = make_data(n)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        auc = toad.metrics.AUC(score, y)
        ks = toad.metrics.KS(score, y)
        buckets = toad.metrics.KS_bucket(score, y, bucket=BINS)
        _, splits = toad.merge(baseline, method="quantile", n_bins=BINS, return_splits=True)
        psi = toad.metrics.PSI(np.digitize(score, splits), np.digitize(baseline, splits))
        fpr, tpr, _ = roc_curve(y, score)
        precision_recall_curve(y, score)
        tn, fp, fn, tp = confusion_matrix(y, (score >= THRESHOLD).astype(np.int8)).ravel()
        times.append(time.perf_counter() - start)
    return {
        "times": times,
        "auc": float(auc),
        "ks": float(ks),
        "ks_from_roc": float(np.max(tpr - fpr)),
        "psi": float(psi),
        "decile_totals": buckets["total"].astype(int).tolist(),
        "decile_bads": buckets["bads"].astype(int).tolist(),
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
    }


def _agree(ours: dict, peer: dict) -> list[str]:
    """The figures that differ (empty when both sides agree)."""
    problems = []
    for key in ("auc", "ks", "psi"):
        if abs(ours[key] - peer[key]) > 1e-9:
            problems.append(f"{key}: {ours[key]!r} vs {peer[key]!r}")
    if abs(ours["ks"] - peer["ks_from_roc"]) > 1e-9:
        problems.append(f"ks vs sklearn ROC: {ours['ks']!r} vs {peer['ks_from_roc']!r}")
    for key in ("decile_totals", "decile_bads", "confusion"):
        if ours[key] != peer[key]:
            problems.append(f"{key}: {ours[key]} vs {peer[key]}")
    return problems


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 side by side, 1,000,000 large")
    parser.add_argument("--runs", type=int, default=5, help="repeats per side (best is reported)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    small, large = (200_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    module = "benchmarks.bench_metrics"

    ours = run_child(module, "ours", f"{small}:{args.runs}")
    peer = run_child(module, "peer", f"{small}:{max(2, args.runs // 2)}")
    big = run_child(module, "ours", f"{large}:{max(2, args.runs // 2)}")

    best, peer_best, big_best = min(ours["times"]), min(peer["times"]), min(big["times"])
    ratio = peer_best / best
    problems = _agree(ours, peer)
    mib = 1024 * 1024
    small_target = TARGET_SECONDS_1M * small / 1_000_000
    large_target = TARGET_SECONDS_10M * large / 10_000_000
    print(f"cores                   {os.cpu_count()}")
    print(f"scores                  {small:,} (side by side), {large:,} (large run)")
    print(
        f"omm report {small:>10,}  {best:7.3f} s best of {len(ours['times'])}"
        f"  (target <= {small_target:.3f} s: {_verdict(best <= small_target)})"
    )
    print(f"  runs                  {', '.join(f'{t:.3f}' for t in ours['times'])}")
    print(f"toad + sklearn          {peer_best:7.3f} s best of {len(peer['times'])}")
    print(
        f"  speed-up              {ratio:7.1f}x"
        f"  (target >= {TARGET_RATIO:.0f}x: {_verdict(ratio >= TARGET_RATIO)})"
    )
    print(
        f"  values                AUC {ours['auc']:.12f}  KS {ours['ks']:.12f}  PSI {ours['psi']:.12f}"
        f"  Gini {ours['gini']:.6f}"
    )
    print(f"  deciles (bads)        {ours['decile_bads']}")
    print(f"  agreement             {'all equal' if not problems else 'DIFFERENT: ' + '; '.join(problems)}")
    print(
        f"omm report {large:>10,}  {big_best:7.3f} s best of {len(big['times'])}"
        f"  (target <= {large_target:.2f} s: {_verdict(big_best <= large_target)})"
    )
    print(
        f"  peak RSS              {big['peak_rss'] / mib:7.0f} MiB (growth during the reports"
        f" {big['rss_growth'] / mib:,.0f} MiB; limit {RSS_LIMIT_BYTES / mib / 1024:.0f} GiB:"
        f" {_verdict(big['peak_rss'] < RSS_LIMIT_BYTES)})"
    )
    missed = (
        problems
        or best > small_target
        or ratio < TARGET_RATIO
        or big_best > large_target
        or big["peak_rss"] >= RSS_LIMIT_BYTES
    )
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child = {"ours": _child_ours, "peer": _child_peer}[sys.argv[2]]
        print(json.dumps(child(sys.argv[3])))
    else:
        sys.exit(main())
