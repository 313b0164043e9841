"""Sketches: a period's figures from its days' counts are the figures from its rows."""

from __future__ import annotations

import numpy as np
import pytest

from apps.monitoring import figures as fig


def _data(rng: np.random.Generator, n: int, shift: float = 0.0) -> tuple[np.ndarray, dict]:
    x = rng.normal(shift, 1.0, size=n)
    x[rng.random(n) < 0.05] = np.nan
    cat = np.array(["a", "b", "c", "d", None], dtype=object)[rng.integers(0, 5, size=n)]
    scores = 1 / (1 + np.exp(-(np.nan_to_num(x) - 1.5)))
    return scores, {"x": x, "cat": cat}


def test_the_sum_of_day_sketches_gives_the_figures_of_the_rows():
    rng = np.random.default_rng(3)
    base_s, base_f = _data(rng, 5_000)
    baseline = fig.baseline_from(base_s, base_f)
    days = [_data(rng, int(rng.integers(50, 400)), shift=0.3) for _ in range(30)]
    scores = np.concatenate([s for s, _f in days])
    features = {k: np.concatenate([f[k] for _s, f in days]) for k in base_f}
    y = (rng.random(scores.size) < scores).astype(float)
    y[rng.random(scores.size) < 0.3] = np.nan

    whole = fig.period_figures(baseline, scores, features, y)
    # Each day through JSON, as the database keeps it, then added up.
    parts = [fig.sketch_from_json(fig.sketch_json(fig.sketch(baseline, s, f))) for s, f in days]
    summed = fig.sketches_sum(parts)
    assert summed["rows"] == scores.size
    by_sketch = fig.figures_from(baseline, summed, scores, y)
    for key in ("rows", "score_psi", "csi_max", "csi_max_feature", "labelled", "auc", "ks", "event_rate"):
        assert by_sketch[key] == whole[key], key
    assert by_sketch["csi"] == whole["csi"] and by_sketch["bands"] == whole["bands"]
    assert by_sketch["estimated_event_rate"] == pytest.approx(whole["estimated_event_rate"], rel=1e-12)


def test_the_histogram_estimate_stays_within_its_stated_bound_of_exact_cbpe():
    rng = np.random.default_rng(4)
    for low_risk in (False, True):  # a spread of probabilities, and most of them under 5 %
        z = rng.normal(size=50_000)
        p = 1 / (1 + np.exp(-(z - (4.0 if low_risk else 1.0))))
        exact = fig.cbpe(p)
        part = fig.sketch({"score": {"edges": [0.5], "counts": [1, 1]}, "features": {}}, p)
        approx = fig.cbpe_from_histogram(part["p_counts"], part["p_sums"])
        assert abs(approx["estimated_auc"] - exact["estimated_auc"]) <= 1 / (2 * fig.ESTIMATE_BINS)
        assert approx["estimated_event_rate"] == pytest.approx(exact["estimated_event_rate"], rel=1e-9)


def test_a_sketch_without_probabilities_gives_no_estimate_and_an_empty_period_no_figures():
    baseline = fig.baseline_from(np.arange(100.0), {"f": np.arange(100.0)})
    regression = fig.sketch(baseline, np.arange(50.0), {"f": np.arange(50.0)}, estimate=False)
    out = fig.figures_from(baseline, regression)
    assert out["estimated_auc"] is None and out["estimated_event_rate"] is None
    assert out["score_psi"] is not None and "f" in out["csi"]
    assert fig.sketches_sum([]) is None
    empty = fig.figures_from(baseline, fig.sketch(baseline, [], {}), min_rows=1)
    assert empty["rows"] == 0 and empty["insufficient"] is True and empty["score_psi"] is None
    assert empty["csi"] == {} and empty["estimated_auc"] is None


def test_the_json_of_a_sketch_keeps_only_the_filled_probability_bins():
    baseline = fig.baseline_from(np.linspace(0, 1, 100))
    part = fig.sketch(baseline, [0.1, 0.1, 0.9])
    stored = fig.sketch_json(part)
    assert stored["p_at"] == [100, 900] and stored["p_counts"] == [2, 1]
    back = fig.sketch_from_json(stored)
    assert back["p_counts"].sum() == 3 and back["p_sums"][100] == pytest.approx(0.2)
