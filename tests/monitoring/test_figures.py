"""Pure monitoring figures against cases computed by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from apps.evaluations.metrics import roc_auc
from apps.monitoring import figures as fig


def _rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_identical_distributions_have_zero_psi_and_csi():
    x = _rng().normal(size=5_000)
    cat = np.array(["a", "b", "c"] * 1000, dtype=object)
    base = fig.baseline_from(x, {"f": x, "c": cat})
    out = fig.period_figures(base, x, {"f": x, "c": cat})
    assert out["score_psi"] == pytest.approx(0.0, abs=1e-12)
    assert out["csi"]["f"] == pytest.approx(0.0, abs=1e-12)
    assert out["csi"]["c"] == pytest.approx(0.0, abs=1e-12)
    assert out["insufficient"] is False and out["rows"] == 5_000


def test_a_shifted_score_has_a_large_psi_and_a_shifted_feature_the_largest_csi():
    rng = _rng()
    x = rng.normal(size=5_000)
    other = rng.normal(size=5_000)
    base = fig.baseline_from(x, {"moved": x, "still": other})
    cur = rng.normal(size=5_000) + 1.0
    out = fig.period_figures(base, cur, {"moved": cur, "still": rng.normal(size=5_000)})
    assert out["score_psi"] > 0.25
    assert out["csi_max_feature"] == "moved" and out["csi_max"] > 0.25
    assert out["csi"]["still"] < 0.05


def test_psi_of_two_bands_by_hand():
    # Baseline 50/50 on the edge 0.5; current 80/20: PSI = 0.3 ln(0.8/0.5) + (-0.3) ln(0.2/0.5).
    base = {"score": {"edges": [0.5], "counts": [50, 50], "n": 100}, "features": {}}
    out = fig.period_figures(base, [0.1] * 80 + [0.9] * 20)
    expected = 0.3 * np.log(0.8 / 0.5) - 0.3 * np.log(0.2 / 0.5)
    assert out["score_psi"] == pytest.approx(expected)
    assert [b["share"] for b in out["bands"]] == pytest.approx([0.8, 0.2])
    assert [b["baseline_share"] for b in out["bands"]] == pytest.approx([0.5, 0.5])


def test_categories_unseen_in_training_and_missing_values_get_their_own_bins():
    base = fig.baseline_from(np.arange(100.0), {"c": np.array(["a", "b"] * 50, dtype=object)})
    cur = np.array(["a", "z", None, "b"] * 25, dtype=object)
    out = fig.period_figures(base, np.arange(100.0), {"c": cur})
    assert out["csi"]["c"] > 0.5  # half the rows fell out of the known categories


def test_a_period_with_too_few_rows_is_insufficient_not_drift():
    x = _rng().normal(size=1_000)
    base = fig.baseline_from(x)
    out = fig.period_figures(base, x[:50] + 3, min_rows=200)
    assert out["insufficient"] is True and out["rows"] == 50
    assert fig.period_figures(base, x[:300], min_rows=200)["insufficient"] is False


def test_realised_figures_match_the_platform_metrics_and_wait_for_outcomes():
    rng = _rng(3)
    s = rng.random(2_000)
    y = (rng.random(2_000) < s).astype(float)
    base = fig.baseline_from(s)
    none = fig.period_figures(base, s)
    assert none["auc"] is None and none["event_rate"] is None and none["labelled"] == 0
    y_part = y.copy()
    y_part[:500] = np.nan  # not known yet
    out = fig.period_figures(base, s, outcomes=y_part)
    assert out["labelled"] == 1_500
    assert out["auc"] == pytest.approx(roc_auc(y[500:].astype(int), s[500:]))
    assert out["gini"] == pytest.approx(2 * out["auc"] - 1)
    assert 0 < out["ks"] < 1
    assert out["event_rate"] == pytest.approx(y[500:].mean())
    rates = [b["event_rate"] for b in out["bands"]]
    assert rates[-1] > rates[0]  # the riskiest band has the most events


def test_cbpe_by_hand():
    assert fig.cbpe([1.0, 0.0])["estimated_auc"] == pytest.approx(1.0)
    assert fig.cbpe([0.5, 0.5])["estimated_auc"] == pytest.approx(0.5)
    assert fig.cbpe([0.2, 0.4])["estimated_event_rate"] == pytest.approx(0.3)
    assert fig.cbpe([])["estimated_auc"] is None


def test_cbpe_of_calibrated_scores_is_close_to_the_realised_auc():
    rng = _rng(11)
    p = rng.beta(1.2, 8.0, size=200_000)
    y = (rng.random(p.size) < p).astype(int)
    est = fig.cbpe(p)
    assert est["estimated_auc"] == pytest.approx(roc_auc(y, p), abs=0.01)
    assert est["estimated_event_rate"] == pytest.approx(y.mean(), abs=0.003)


def test_complete_periods_stop_before_the_running_one():
    months = fig.complete_periods(date(2026, 1, 15), date(2026, 4, 1), "month")
    assert months == [
        (date(2026, 1, 1), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 4, 1)),
    ]
    weeks = fig.complete_periods(date(2026, 12, 30), date(2027, 1, 10), "week")
    assert weeks == [(date(2026, 12, 28), date(2027, 1, 4))]  # Mondays
    assert fig.period_bounds(date(2026, 12, 5), "month") == (date(2026, 12, 1), date(2027, 1, 1))
    with pytest.raises(ValueError):
        fig.period_bounds(date(2026, 1, 1), "day")


def test_vintage_curves_count_events_by_months_on_book_and_hide_immature_points():
    orig = np.array(
        ["2026-01-10", "2026-01-20", "2026-01-25", "2026-01-30", "2026-03-05"], dtype="datetime64[s]"
    )
    when = np.array(["2026-02-02", "2026-04-01", "NaT", "2026-03-01", "NaT"], dtype="datetime64[s]")
    event = np.array([1, 1, 0, 0, 0])
    curves = fig.vintage_curves(orig, when, event, np.datetime64("2026-05-15"), max_months=6)
    jan, mar = curves
    assert jan["cohort"] == "2026-01" and jan["size"] == 4 and jan["age"] == 3
    # Month on book 1: one event of four; month 3: two of four; no point past the age.
    assert [p["event_rate"] for p in jan["points"]] == [0.25, 0.25, 0.5]
    assert mar["age"] == 1 and [p["mob"] for p in mar["points"]] == [1]


def test_realised_figures_wait_until_enough_outcomes_are_in():
    # Label delay: only the events are in so far; the realised event rate would read 1.0.
    s = np.linspace(0.01, 0.99, 1_000)
    y = np.full(1_000, np.nan)
    y[-50:] = 1
    base = fig.baseline_from(s)
    early = fig.period_figures(base, s, outcomes=y, min_labelled_share=0.9)
    assert early["outcomes_mature"] is False and early["labelled"] == 50
    assert early["event_rate"] is None and early["auc"] is None
    assert all(b["event_rate"] is None for b in early["bands"])
    assert early["estimated_event_rate"] == pytest.approx(0.5)
    y[:900] = 0
    late = fig.period_figures(base, s, outcomes=y, min_labelled_share=0.9)
    assert late["outcomes_mature"] is True and late["event_rate"] == pytest.approx(50 / 950)
