"""Monthly stability of 1,000,000 scored rows x 30 features (target <= 5 s).

    .venv/bin/python benchmarks/bench_stability.py            # --rows, --runs, --records
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/omm_bench_stability \
    .venv/bin/python benchmarks/bench_stability.py --log      # the whole period from the log

One period's figures as ``monitoring_run`` computes them (``apps.monitoring.figures``):
score PSI on the baseline's score bands, CSI of 30 features on the baseline's bins (24
numeric, 6 categorical of 5-40 levels, 2 % missing), the score-band distribution, realised
event rate / AUC / KS / Gini (half the rows labelled) and CBPE's estimated AUC and event
rate. The baseline (200,000 training rows) is built once beforehand, as it is stored once
per version. ``--records`` also times turning 1,000,000 decision-log ``inputs`` into columns,
the step the decision-log path adds: from the JSON texts the log is read as
(``columns.columns_from_json``, Arrow's JSON reader) and from parsed dicts
(``columns.columns_from_dicts``).

``--log`` writes the month's rows into the decision log (COPY, PostgreSQL) with outcomes for
the labelled half, and times what ``monitoring_run`` does for one period: cold (no day
sketched yet: the month's inputs read once, as JSON text parsed by Arrow, and each day's
sketch kept), one night's work (the day just over sketched), and the month report as it runs
each month end (its days' sketches added up and the labelled rows' scores joined in the
database).

Data (seed 7): features normal/categorical; the current month shifted on three features.
Best of ``--runs``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

TARGET_SECONDS = 5.0
N_NUMERIC, N_CATEGORICAL = 24, 6


def _data(rows: int, rng: np.random.Generator, shift: float) -> tuple[np.ndarray, dict]:
    cols: dict[str, np.ndarray] = {}
    for j in range(N_NUMERIC):
        x = rng.normal(shift if j < 3 else 0.0, 1.0, size=rows)
        x[rng.random(rows) < 0.02] = np.nan
        cols[f"num_{j:02d}"] = x
    for j in range(N_CATEGORICAL):
        levels = np.array([f"L{k}" for k in range(5 + 7 * j)], dtype=object)
        cols[f"cat_{j}"] = levels[rng.integers(0, levels.size, size=rows)]
    logit = -2.5 + 0.8 * np.nan_to_num(cols["num_00"]) + 0.5 * np.nan_to_num(cols["num_05"])
    return 1 / (1 + np.exp(-logit)), cols


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--records", action="store_true")
    parser.add_argument("--log", action="store_true", help="read the month from the decision log")
    args = parser.parse_args()

    from apps.monitoring import figures as fig

    rng = np.random.default_rng(7)
    base_scores, base_cols = _data(200_000, rng, 0.0)
    t0 = time.perf_counter()
    baseline = fig.baseline_from(base_scores, base_cols)
    baseline_s = time.perf_counter() - t0
    scores, cols = _data(args.rows, rng, 0.3)
    y = (rng.random(args.rows) < scores).astype(float)
    y[rng.random(args.rows) < 0.5] = np.nan

    best = float("inf")
    for _ in range(args.runs):
        t0 = time.perf_counter()
        out = fig.period_figures(baseline, scores, cols, y, min_rows=200)
        best = min(best, time.perf_counter() - t0)
    print(f"rows {args.rows:,} x {len(cols)} features (cpu {os.cpu_count()})")
    print(f"baseline (200,000 rows, once per version): {baseline_s:.3f} s")
    print(
        f"one period's figures: best of {args.runs}: {best:.3f} s "
        f"(target <= {TARGET_SECONDS} s: {'met' if best <= TARGET_SECONDS else 'MISSED'})"
    )
    print(
        f"  score PSI {out['score_psi']:.4f}, CSI max {out['csi_max']:.4f} ({out['csi_max_feature']}), "
        f"AUC {out['auc']:.4f} vs estimated {out['estimated_auc']:.4f}, "
        f"event rate {out['event_rate']:.4f} vs estimated {out['estimated_event_rate']:.4f}"
    )
    if args.log:
        _from_the_log(args, (base_scores, base_cols), baseline, scores, cols, y)
    if args.records:
        import json

        from apps.monitoring.columns import columns_from_dicts, columns_from_json

        names = list(cols)
        kinds = {n: baseline["features"][n].get("kind", "") for n in names}
        records = [
            dict(zip(names, vals, strict=True))
            for vals in zip(*(cols[n].tolist() for n in names), strict=True)
        ]
        # As the log holds them: a missing value is null (JSON has no NaN).
        texts = [json.dumps({k: (None if v != v else v) for k, v in r.items()}) for r in records]
        for label, step, data in (
            ("JSON texts", columns_from_json, texts),
            ("dicts", columns_from_dicts, records),
        ):
            t0 = time.perf_counter()
            step(data, kinds)
            print(f"decision-log inputs -> columns ({args.rows:,} {label}): {time.perf_counter() - t0:.3f} s")


def _from_the_log(args, base: tuple, baseline: dict, scores: np.ndarray, cols: dict, y: np.ndarray) -> None:
    from datetime import date, datetime, timedelta

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("--log needs DATABASE_URL (PostgreSQL), as production runs.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omm.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from apps.models.decisions import decisions_write
    from apps.models.models import Decision, ModelType, ModelVersion
    from apps.monitoring import services
    from apps.monitoring.models import MonitoringDay, Outcome
    from apps.monitoring.sources import DecisionSource
    from tests.factories import ModelVersionFactory

    call_command("migrate", verbosity=0)
    version = ModelVersion.objects.filter(model__name="bench-stability").first() or ModelVersionFactory(
        model__name="bench-stability", model__type=ModelType.CLASSIFICATION
    )
    baseline = services.baseline_store(version=version, scores=base[0], features=base[1]).figures
    start, end = date(2026, 10, 1), date(2026, 11, 1)
    names = list(cols)
    if not Decision.objects.filter(version_id=version.pk).exists():
        t0 = time.perf_counter()
        first = timezone.make_aware(datetime.combine(start, datetime.min.time()))
        step = (timezone.make_aware(datetime.combine(end, datetime.min.time())) - first) / args.rows
        values = [c.tolist() for c in cols.values()]
        decisions_write(
            {
                "model_id": version.model_id,
                "version_id": version.pk,
                "request_id": f"bench-{i}",
                "entity_key": f"e{i}",
                "inputs": {n: (None if v[i] != v[i] else v[i]) for n, v in zip(names, values, strict=True)},
                "score": float(scores[i]),
                "created_at": first + i * step,
            }
            for i in range(args.rows)
        )
        labelled = np.flatnonzero(~np.isnan(y))
        Outcome.objects.bulk_create(
            (
                Outcome(model_id=version.model_id, entity_key=f"e{i}", outcome=int(y[i]), outcome_at=first)
                for i in labelled
            ),
            batch_size=10_000,
        )
        print(
            f"log written: {args.rows:,} decisions, {labelled.size:,} outcomes "
            f"in {time.perf_counter() - t0:.1f} s"
        )
    min_rows = 200
    # Half the rows are labelled: the realised figures are computed once 40 % are (90 % by default).
    from apps.core.config import config_invalidate
    from apps.core.models import SystemConfig

    SystemConfig.objects.update_or_create(
        key="monitoring-min-labelled-share", defaults={"value": 0.4, "value_type": "number"}
    )
    config_invalidate("monitoring-min-labelled-share")

    def month() -> tuple[float, dict]:
        t0 = time.perf_counter()
        out = services.period_figures_of(DecisionSource(version), baseline, start, end, min_rows)
        return time.perf_counter() - t0, out

    cold, _out = month()  # no day kept yet: every day of the month is read from the log and kept
    print(f"one month, no day sketched yet (reads the month's inputs once): {cold:.2f} s")
    MonitoringDay.objects.filter(version=version, day=end - timedelta(days=1)).delete()
    t0 = time.perf_counter()
    DecisionSource(version).days_sketch(baseline, end)
    print(
        f"one night's work (the day just over, {args.rows // 31:,} rows, sketched and kept): "
        f"{time.perf_counter() - t0:.2f} s"
    )
    best = float("inf")
    for _ in range(args.runs):
        took, out = month()
        best = min(best, took)
    verdict = "met" if best <= TARGET_SECONDS else "missed"
    print(
        f"one month from the decision log (its days' sketches and the labelled rows' scores): best of "
        f"{args.runs}: {best:.2f} s (target <= 5 s: {verdict}); labelled {out['labelled']:,}, "
        f"PSI {out['score_psi']:.4f}, AUC {out['auc']:.4f}, cold/warm {cold / best:.1f}x"
    )


if __name__ == "__main__":
    main()
