"""apps/evaluations/metrics.py against scikit-learn, SciPy, toad and hand-computed figures.

Pure NumPy module: no database, no Django.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import toad
from scipy.stats import ks_2samp
from sklearn import metrics as skm

from apps.evaluations import metrics as M

ROOT = Path(__file__).resolve().parents[2]
TOL = 1e-9


def _strict_json(obj) -> str:
    return json.dumps(obj, allow_nan=False)


def _codes(notes) -> set[str]:
    return {n["code"] for n in notes}


def _cases():
    """(name, y, score): random, imbalanced, tie-heavy and adversarial arrays."""
    rng = np.random.default_rng(20240607)
    cases = []
    for n in (2, 7, 50, 1000, 20000):
        s = rng.random(n)
        y = (rng.random(n) < s).astype(np.int64)
        y[0], y[-1] = 0, 1  # both classes present
        cases.append((f"uniform-{n}", y, s))
    s = rng.normal(size=30000)
    cases.append(("rare-bads", (rng.random(30000) < 0.01 + 0.02 * (s > 1)).astype(int), s))
    s = np.round(rng.random(5000), 1)  # 11 distinct values: heavy ties
    cases.append(("ties-0.1", (rng.random(5000) < s).astype(int), s))
    s = rng.integers(0, 4, 3000).astype(float)  # 4 distinct values
    cases.append(("four-values", (rng.random(3000) < 0.3).astype(int), s))
    y = (rng.random(4000) < 0.5).astype(int)
    cases.append(("perfect", y, y + rng.random(4000) * 0.5))
    cases.append(("inverted", y, -(y + rng.random(4000) * 0.5)))
    s = rng.random(2000)
    cases.append(("scorecard-points", (rng.random(2000) < s).astype(bool), 300 + 600 * (1 - s)))
    s = np.concatenate((np.full(500, 0.5), rng.random(500)))
    cases.append(("half-tied", (rng.random(1000) < 0.4).astype(int), s))
    return cases


CASES = _cases()
CASE_IDS = [c[0] for c in CASES]


# --------------------------------------------------------------------------- rank metrics


@pytest.mark.parametrize(("name", "y", "s"), CASES, ids=CASE_IDS)
def test_auc_equals_sklearn_roc_auc_score(name, y, s):
    assert M.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=TOL)


@pytest.mark.parametrize(("name", "y", "s"), CASES, ids=CASE_IDS)
def test_ks_equals_scipy_ks_2samp_and_toad(name, y, s):
    yb = np.asarray(y).astype(bool)
    ks, threshold = M.ks_statistic(y, s)
    assert ks == pytest.approx(ks_2samp(s[yb], s[~yb]).statistic, abs=TOL)
    assert ks == pytest.approx(toad.metrics.KS(s, np.asarray(y, dtype=int)), abs=TOL)
    # The threshold reaches it: predict positive when score >= threshold.
    tpr = np.mean(s[yb] >= threshold)
    fpr = np.mean(s[~yb] >= threshold)
    assert abs(tpr - fpr) == pytest.approx(ks, abs=TOL)


@pytest.mark.parametrize(("name", "y", "s"), CASES, ids=CASE_IDS)
def test_full_roc_and_pr_curves_equal_sklearn(name, y, s):
    curve = M.rank_curve(y, s)
    assert curve.thresholds.shape[0] + 1 <= M.MAX_CURVE_POINTS  # every point is kept
    roc, pr = curve.display_curves(M.MAX_CURVE_POINTS)
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(roc["fpr"], fpr, atol=TOL, rtol=0)
    np.testing.assert_allclose(roc["tpr"], tpr, atol=TOL, rtol=0)
    assert roc["thresholds"][0] is None and np.isinf(thr[0])
    np.testing.assert_array_equal(roc["thresholds"][1:], thr[1:])
    precision, recall, pr_thr = skm.precision_recall_curve(y, s, drop_intermediate=False)
    # sklearn lists thresholds ascending and appends the (recall 0, precision 1) start point.
    np.testing.assert_allclose(pr["recall"], recall[::-1], atol=TOL, rtol=0)
    np.testing.assert_allclose(pr["precision"], precision[::-1], atol=TOL, rtol=0)
    np.testing.assert_array_equal(pr["thresholds"][1:], pr_thr[::-1])
    assert curve.average_precision() == pytest.approx(skm.average_precision_score(y, s), abs=TOL)


@pytest.mark.parametrize(("name", "y", "s"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("threshold", [0.5, 0.3, 1.0, -1e9])
def test_confusion_and_threshold_metrics_equal_sklearn(name, y, s, threshold):
    if name == "four-values":
        threshold = 2.0  # exactly a score value: ties at the threshold are predicted positive
    report = M.classification_report(y, s, threshold=threshold)
    predicted = (s >= threshold).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(y, predicted, labels=[0, 1]).ravel()
    assert report["confusion_matrix"] == {"tn": tn, "fp": fp, "fn": fn, "tp": tp}
    m = report["metrics"]
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted), abs=TOL)
    assert m["recall"] == pytest.approx(skm.recall_score(y, predicted), abs=TOL)
    assert m["f1"] == pytest.approx(skm.f1_score(y, predicted, zero_division=0.0), abs=TOL)
    if tp + fp:
        assert m["precision"] == pytest.approx(skm.precision_score(y, predicted), abs=TOL)
    else:
        assert m["precision"] is None
        assert "nothing_predicted_positive" in _codes(report["notes"])


@pytest.mark.parametrize(("name", "y", "s"), CASES, ids=CASE_IDS)
def test_gini_is_twice_auc_minus_one(name, y, s):
    m = M.classification_report(y, s)["metrics"]
    assert m["gini"] == pytest.approx(2 * m["auc"] - 1, abs=1e-15)


def test_log_loss_equals_sklearn_including_exact_zero_and_one():
    rng = np.random.default_rng(3)
    p = rng.random(5000)
    p[:10] = 0.0
    p[10:20] = 1.0
    y = (rng.random(5000) < p).astype(int)
    y[:5] = 1  # confidently wrong: clipping keeps the loss finite
    y[10:15] = 0
    report = M.classification_report(y, p)
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, p), abs=TOL)


def test_log_loss_is_none_for_scores_outside_unit_interval():
    y = np.array([0, 1, 0, 1])
    report = M.classification_report(y, np.array([300.0, 700.0, 680.0, 650.0]), threshold=500)
    assert report["metrics"]["log_loss"] is None
    assert "scores_not_probabilities" in _codes(report["notes"])
    assert report["metrics"]["auc"] == 0.75


def test_auc_counts_tied_pairs_one_half():
    # Pairs (bad, good): (0.5, 0.5) tied -> 1/2, (0.9, 0.5) -> 1, (0.5, 0.1) -> 1, (0.9, 0.1) -> 1.
    y = np.array([1, 0, 1, 0])
    s = np.array([0.5, 0.5, 0.9, 0.1])
    assert M.roc_auc(y, s) == pytest.approx(3.5 / 4, abs=1e-15)


# --------------------------------------------------------------------------- deciles


def _toad_bucket(y, s, bins):
    return toad.metrics.KS_bucket(s, np.asarray(y, dtype=int), bucket=bins)


@pytest.mark.parametrize(("name", "y", "s"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("bins", [10, 5, 20, 3])
def test_decile_counts_equal_toad_ks_bucket(name, y, s, bins):
    rows = M.rank_curve(y, s).deciles(bins)["rows"]
    ours = rows[::-1]  # toad lists buckets from the lowest scores up
    theirs = _toad_bucket(y, s, bins)
    assert len(ours) == len(theirs)
    np.testing.assert_array_equal([r["count"] for r in ours], theirs["total"])
    np.testing.assert_array_equal([r["bads"] for r in ours], theirs["bads"])
    np.testing.assert_array_equal([r["goods"] for r in ours], theirs["goods"])
    np.testing.assert_array_equal([r["min_score"] for r in ours], theirs["min"])
    np.testing.assert_array_equal([r["max_score"] for r in ours], theirs["max"])
    np.testing.assert_allclose([r["lift"] for r in ours], theirs["lift"], atol=TOL, rtol=0)
    # Our KS at the bottom of a row (cumulated from the top) is toad's at the top of the
    # row below it (cumulated from the bottom): the same cut, read from the other side.
    if len(ours) > 1:
        ks_top_down = [r["ks"] for r in rows[:-1]][::-1]
        np.testing.assert_allclose(ks_top_down, np.abs(theirs["ks"].to_numpy()[:-1]), atol=TOL, rtol=0)
    assert rows[-1]["ks"] == pytest.approx(0.0, abs=TOL)


def test_bucket_emptied_by_ties_is_omitted_as_toad_does():
    # Cut points 0.6, 1.0, 2.0, 2.8: the bucket [0.6, 1.0) holds no score.
    s = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 3, 3], dtype=float)
    y = np.array([1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 1])
    table = M.rank_curve(y, s).deciles(10)
    np.testing.assert_allclose(table["edges"], [0.6, 1.0, 2.0, 2.8])
    counts = [r["count"] for r in table["rows"]][::-1]
    assert counts == [4, 2, 5, 2] == _toad_bucket(y, s, 10)["total"].tolist()


def test_decile_table_columns_are_consistent():
    y, s = CASES[4][1], CASES[4][2]
    table = M.rank_curve(y, s).deciles(10)
    rows = table["rows"]
    assert [r["bucket"] for r in rows] == list(range(1, 11))
    assert all(a["min_score"] >= b["max_score"] for a, b in itertools.pairwise(rows))
    assert rows[-1]["cum_bad_share"] == pytest.approx(1.0)
    assert rows[-1]["cum_good_share"] == pytest.approx(1.0)
    assert rows[-1]["cum_population_share"] == pytest.approx(1.0)
    assert rows[-1]["cum_lift"] == pytest.approx(1.0)
    assert rows[0]["lift"] > 1 > rows[-1]["lift"]  # the top decile is the riskiest
    assert max(r["ks"] for r in rows) <= M.ks_statistic(y, s)[0] + TOL
    assert sum(r["count"] for r in rows) == len(s)


def test_sorted_quantiles_are_bitwise_numpy_quantile():
    rng = np.random.default_rng(11)
    q = np.arange(0, 1, 1 / 10)
    for n in (1, 2, 3, 10, 11, 999, 10007):
        for values in (rng.random(n), np.round(rng.normal(size=n), 1), rng.integers(0, 3, n) * 1.0):
            ordered = np.sort(values)
            np.testing.assert_array_equal(M._sorted_quantiles(ordered, q), np.quantile(values, q))


def test_edges_from_baseline_equal_toad_quantile_splits():
    rng = np.random.default_rng(5)
    base = rng.lognormal(size=7777)
    _, splits = toad.merge(base, method="quantile", n_bins=10, return_splits=True)
    np.testing.assert_array_equal(M.edges_from_baseline(base), splits)


# --------------------------------------------------------------------------- curve display


@pytest.mark.parametrize(("name", "y", "s"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("points", [3, 25, 200])
def test_display_curves_keep_endpoints_and_ks_point_and_are_monotone(name, y, s, points):
    report = M.classification_report(y, s, curve_points=points)
    roc, pr = report["roc_curve"], report["pr_curve"]
    fpr, tpr = np.array(roc["fpr"]), np.array(roc["tpr"])
    assert len(fpr) <= points and len(pr["recall"]) == len(fpr)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.all(np.diff(roc["population"]) > 0)
    assert roc["thresholds"][0] is None
    assert np.all(np.diff(roc["thresholds"][1:]) < 0)
    assert np.max(np.abs(tpr - fpr)) == pytest.approx(report["metrics"]["ks"], abs=TOL)
    assert report["metrics"]["ks_threshold"] in roc["thresholds"]
    recall = np.array(pr["recall"])
    assert recall[0] == 0.0 and recall[-1] == 1.0 and np.all(np.diff(recall) >= 0)
    assert pr["precision"][0] == 1.0
    assert pr["precision"][-1] == pytest.approx(report["base_rate"])


@pytest.mark.parametrize("points", [2, 3.5, M.MAX_CURVE_POINTS + 1])
def test_display_curve_rejects_a_bad_point_count(points):
    with pytest.raises(ValueError, match="curve_points"):
        M.classification_report([0, 1], [0.1, 0.9], curve_points=points)


# --------------------------------------------------------------------------- edge cases


def test_constant_score_gives_half_auc_zero_ks_and_one_bucket():
    y = np.array([0, 1] * 10)
    s = np.full(20, 0.3)
    report = M.classification_report(y, s)
    m = report["metrics"]
    assert m["auc"] == 0.5 == skm.roc_auc_score(y, s)
    assert m["gini"] == 0.0
    assert m["ks"] == 0.0 and m["ks_threshold"] is None
    assert {"constant_score", "no_separation"} <= _codes(report["notes"])
    rows = report["deciles"]["rows"]
    assert len(rows) == 1 == len(_toad_bucket(y, s, 10))
    assert rows[0]["count"] == 20 and rows[0]["bads"] == 10
    assert report["roc_curve"]["fpr"] == [0.0, 1.0]
    _strict_json(report)


@pytest.mark.parametrize("label", [0, 1])
def test_single_class_leaves_rank_metrics_undefined_with_a_note(label):
    rng = np.random.default_rng(2)
    s = rng.random(100)
    y = np.full(100, label)
    report = M.classification_report(y, s, baseline_score=rng.random(100))
    m = report["metrics"]
    assert m["auc"] is None and m["gini"] is None and m["ks"] is None and m["ks_threshold"] is None
    assert report["roc_curve"] is None
    assert "single_class" in _codes(report["notes"])
    if label == 1:  # precision and recall are still defined without negatives
        assert report["pr_curve"]["precision"][-1] == 1.0
        assert m["average_precision"] == pytest.approx(1.0)
        assert all(r["cum_good_share"] is None and r["ks"] is None for r in report["deciles"]["rows"])
    else:
        assert report["pr_curve"] is None and m["average_precision"] is None
        assert all(r["lift"] is None for r in report["deciles"]["rows"])
    assert report["psi"]["psi"] >= 0
    text = _strict_json(report)
    assert "NaN" not in text and "Infinity" not in text


def test_non_finite_scores_are_dropped_counted_and_noted():
    rng = np.random.default_rng(9)
    s = rng.random(1000)
    y = (rng.random(1000) < s).astype(int)
    dirty = s.copy()
    dirty[::10] = np.nan
    dirty[5] = np.inf
    dirty[7] = -np.inf
    keep = np.isfinite(dirty)
    report = M.classification_report(y, dirty)
    clean = M.classification_report(y[keep], s[keep])
    assert report["n_dropped"] == 102 and report["n"] == 898
    assert "non_finite_scores_dropped" in _codes(report["notes"])
    assert report["metrics"] == clean["metrics"]
    assert report["deciles"] == clean["deciles"]
    assert report["metrics"]["auc"] == pytest.approx(skm.roc_auc_score(y[keep], s[keep]), abs=TOL)


def test_all_scores_nan_is_a_value_error():
    with pytest.raises(ValueError, match="no finite score"):
        M.classification_report([0, 1], [np.nan, np.nan])


@pytest.mark.parametrize(
    ("y", "s", "message"),
    [
        ([], [], "empty"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "only 0 and 1"),
        ([0, np.nan], [0.1, 0.2], "only 0 and 1"),
        (["0", "1"], [0.1, 0.2], "0/1 labels"),
        ([0, 1], [0.1, 0.2, 0.3], "has 2 values"),
        ([0, 1], ["a", "b"], "numeric"),
        ([[0, 1]], [[0.1, 0.2]], "one-dimensional"),
    ],
)
def test_bad_binary_input_is_a_clear_value_error(y, s, message):
    with pytest.raises(ValueError, match=message):
        M.classification_report(y, s)


@pytest.mark.parametrize("threshold", [float("nan"), float("inf")])
def test_non_finite_threshold_is_rejected(threshold):
    with pytest.raises(ValueError, match="threshold"):
        M.classification_report([0, 1], [0.2, 0.8], threshold=threshold)


@pytest.mark.parametrize("bins", [0, 1001, 2.5, True])
def test_bins_out_of_range_are_rejected(bins):
    with pytest.raises(ValueError, match="bins"):
        M.classification_report([0, 1], [0.2, 0.8], bins=bins)


def test_report_is_strict_json_with_version_and_all_sections():
    rng = np.random.default_rng(4)
    s = rng.random(3000)
    y = (rng.random(3000) < s).astype(int)
    report = M.classification_report(y, s, baseline_score=rng.random(3000) ** 1.2)
    assert report["metrics_version"] == M.METRICS_VERSION
    for key in ("metrics", "confusion_matrix", "roc_curve", "pr_curve", "deciles", "psi", "notes"):
        assert report[key] is not None
    assert json.loads(_strict_json(report)) == report


def test_module_does_not_import_django_or_pandas():
    code = (
        "import sys, apps.evaluations.metrics\n"
        "bad = [m for m in ('django', 'pandas') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# --------------------------------------------------------------------------- stability


def test_psi_matches_hand_computed_example():
    # Baseline 1..10 with bins=2: np.quantile(base, [0, 0.5]) = [1, 5.5]; dropping the
    # minimum leaves one cut at 5.5, so bins are (-inf, 5.5) and [5.5, +inf).
    # Baseline shares: 5/10 = 0.5 and 0.5. Current: 2 of 10 values below 5.5 -> 0.2, 0.8.
    # PSI = (0.2 - 0.5)·ln(0.2/0.5) + (0.8 - 0.5)·ln(0.8/0.5)
    #     = 0.3·ln(2.5) + 0.3·ln(1.6) = 0.3·ln(4) = 0.41588830833596717
    base = np.arange(1, 11, dtype=float)
    current = np.array([1, 2, 7, 8, 9, 10, 11, 12, 13, 14], dtype=float)
    result = M.psi(base, current, bins=2)
    assert result["edges"] == [5.5]
    assert [r["baseline_share"] for r in result["rows"]] == [0.5, 0.5]
    assert [r["current_share"] for r in result["rows"]] == [0.2, 0.8]
    assert result["psi"] == pytest.approx(0.41588830833596717, abs=1e-15)
    assert result["psi"] == pytest.approx(0.3 * math.log(4), abs=1e-15)
    assert result["level"] == "significant"
    assert (result["rows"][0]["lower"], result["rows"][0]["upper"]) == (None, 5.5)
    assert (result["rows"][1]["lower"], result["rows"][1]["upper"]) == (5.5, None)


def test_psi_empty_bin_counts_as_epsilon():
    # Same bins; every current value is above 5.5: current shares 0 -> PSI_EPSILON and 1.
    # PSI = (1e-4 - 0.5)·ln(1e-4/0.5) + (1 - 0.5)·ln(1/0.5)
    #     = 0.4999·ln(5000) + 0.5·ln(2) = 4.257744876388981 + 0.34657359027997264
    #     = 4.604318466668954
    base = np.arange(1, 11, dtype=float)
    result = M.psi(base, np.full(5, 9.0), bins=2)
    assert M.PSI_EPSILON == 1e-4
    assert result["psi"] == pytest.approx(4.604318466668954, abs=1e-12)
    assert result["rows"][0]["current_share"] == 0.0  # reported as measured, not floored
    assert "empty_psi_bins" in _codes(result["notes"])


def test_psi_equals_toad_psi_on_the_same_frozen_bins():
    rng = np.random.default_rng(8)
    base = rng.normal(size=20000)
    current = rng.normal(0.3, 1.2, size=15000)
    result = M.psi(base, current)
    edges = np.asarray(M.edges_from_baseline(base))
    expected = toad.metrics.PSI(np.digitize(current, edges), np.digitize(base, edges))
    assert len(result["rows"]) == 10
    assert result["psi"] == pytest.approx(expected, abs=TOL)
    assert M.psi(base, base)["psi"] == 0.0


def test_stored_score_baseline_gives_the_same_psi():
    rng = np.random.default_rng(12)
    base = rng.beta(2, 5, 5000)
    base[:7] = np.nan
    current = rng.beta(2, 4, 4000)
    stored = json.loads(_strict_json(M.score_baseline(base)))
    assert stored["n"] == 4993 and stored["n_dropped"] == 7 and sum(stored["counts"]) == 4993
    assert M.psi(stored, current) == M.psi(base, current)
    report = M.classification_report((current > 0.4).astype(int), current, baseline_score=stored)
    assert report["psi"]["psi"] == pytest.approx(M.psi(base, current)["psi"], abs=1e-15)


def test_bin_counts_and_sorted_counts_agree_on_bin_edges():
    values = np.array([0.0, 1.0, 1.0, 2.0, 2.5, 3.0, np.nan])
    edges = [1.0, 2.0, 3.0]
    # Bins: (-inf, 1) -> 0.0; [1, 2) -> 1, 1; [2, 3) -> 2, 2.5; [3, inf) -> 3. NaN not counted.
    assert M.bin_counts(values, edges) == [1, 2, 2, 1]
    ordered = np.sort(values[~np.isnan(values)])
    assert M._counts_sorted(ordered, np.array(edges)).tolist() == [1, 2, 2, 1]
    with pytest.raises(ValueError, match="strictly increasing"):
        M.bin_counts(values, [2.0, 1.0])


def test_csi_numeric_column_is_the_psi_of_that_column_plus_a_missing_bin():
    rng = np.random.default_rng(13)
    base = rng.normal(size=3000)
    current = rng.normal(0.2, 1, size=2000)
    result = M.csi({"x": base}, {"x": current})["x"]
    assert result["kind"] == "numeric"
    assert result["psi"] == pytest.approx(M.psi(base, current)["psi"], abs=1e-15)
    current_missing = current.copy()
    current_missing[:200] = np.nan
    with_missing = M.csi({"x": base}, {"x": current_missing})["x"]
    assert with_missing["rows"][-1]["label"] == M.MISSING_CATEGORY
    assert with_missing["rows"][-1]["baseline_count"] == 0
    assert with_missing["rows"][-1]["current_count"] == 200


def test_csi_categorical_matches_hand_computed_example():
    # Baseline a:6, b:4 -> shares 0.6, 0.4; current a:5, b:3, c:2 (c unseen -> __other__,
    # baseline share 0 -> 1e-4) and one None (-> __missing__, baseline share 0 -> 1e-4).
    # Current shares over 11 rows: 5/11, 3/11, 2/11, 1/11.
    base = np.array(["a"] * 6 + ["b"] * 4, dtype=object)
    current = np.array(["a"] * 5 + ["b"] * 3 + ["c"] * 2 + [None], dtype=object)
    result = M.csi({"channel": base}, {"channel": current})["channel"]
    assert result["kind"] == "categorical"
    assert [r["label"] for r in result["rows"]] == ["a", "b", M.OTHER_CATEGORY, M.MISSING_CATEGORY]
    e = [0.6, 0.4, 1e-4, 1e-4]
    a = [5 / 11, 3 / 11, 2 / 11, 1 / 11]
    expected = sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e, strict=True))
    assert result["psi"] == pytest.approx(expected, abs=1e-12)
    same = M.csi({"flag": np.array([True, False, True])}, {"flag": np.array([False, True, True])})
    assert same["flag"]["psi"] == 0.0


def test_csi_rejects_a_feature_missing_from_current():
    with pytest.raises(ValueError, match="missing from the current"):
        M.csi({"x": [1.0, 2.0]}, {"y": [1.0, 2.0]})


# --------------------------------------------------------------------------- regression


def test_regression_report_equals_sklearn():
    rng = np.random.default_rng(21)
    y = rng.normal(10, 3, 5000)
    pred = y + rng.normal(0, 1, 5000)
    m = M.regression_report(y, pred)["metrics"]
    assert m["mse"] == pytest.approx(skm.mean_squared_error(y, pred), abs=TOL)
    assert m["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, pred)), abs=TOL)
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), abs=TOL)
    assert m["r2"] == pytest.approx(skm.r2_score(y, pred), abs=TOL)


def test_regression_edge_cases():
    report = M.regression_report([2.0, 2.0, 2.0], [1.0, 2.0, np.nan])
    assert report["n"] == 2 and report["n_dropped"] == 1
    assert report["metrics"]["r2"] is None
    assert {"constant_target", "non_finite_scores_dropped"} <= _codes(report["notes"])
    assert report["metrics"]["mse"] == 0.5
    _strict_json(report)
    with pytest.raises(ValueError, match="empty"):
        M.regression_report([], [])
    with pytest.raises(ValueError, match="finite"):
        M.regression_report([1.0, np.nan], [1.0, 2.0])


# --------------------------------------------------------------------------- multiclass


@pytest.mark.parametrize("classes", [[0, 1, 2], ["low", "mid", "high", "none"]])
def test_multiclass_report_equals_sklearn(classes):
    rng = np.random.default_rng(31)
    k = len(classes)
    n = 4000
    logits = rng.normal(size=(n, k))
    y_idx = np.argmax(logits + rng.normal(scale=1.5, size=(n, k)), axis=1)
    if k == 4:
        y_idx[y_idx == 3] = 0  # a class that never occurs
        logits[:, 3] = -10  # and is never predicted
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.asarray(classes)
    y = labels[y_idx]
    pred = labels[np.argmax(proba, axis=1)]
    report = M.multiclass_report(y, proba, classes)
    m = report["metrics"]
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=TOL)
    for avg in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(y, pred, labels=labels, average=avg, zero_division=0)
        assert m[f"{avg}_precision"] == pytest.approx(p, abs=TOL)
        assert m[f"{avg}_recall"] == pytest.approx(r, abs=TOL)
        assert m[f"{avg}_f1"] == pytest.approx(f, abs=TOL)
    lexical = np.argsort(labels)  # sklearn's log_loss reads proba columns in sorted label order
    expected_loss = skm.log_loss(y, proba[:, lexical], labels=labels[lexical])
    assert m["log_loss"] == pytest.approx(expected_loss, abs=TOL)
    assert report["confusion_matrix"] == skm.confusion_matrix(y, pred, labels=labels).tolist()
    assert report["classes"] == list(classes)
    assert ("undefined_class_ratios" in _codes(report["notes"])) == (k == 4)
    _strict_json(report)


def test_multiclass_bad_input():
    proba = np.array([[0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(ValueError, match="not in classes"):
        M.multiclass_report(["a", "z"], proba, ["a", "b"])
    with pytest.raises(ValueError, match="shape"):
        M.multiclass_report(["a", "b"], proba, ["a", "b", "c"])
    with pytest.raises(ValueError, match="distinct"):
        M.multiclass_report(["a", "a"], proba, ["a", "a"])
    nan_row = M.multiclass_report(["a", "b"], np.array([[np.nan, 1.0], [0.3, 0.7]]), ["a", "b"])
    assert nan_row["n"] == 1 and nan_row["n_dropped"] == 1 and nan_row["metrics"]["accuracy"] == 1.0


# --------------------------------------------------------------------------- importance


def _lightgbm_data(n=3000, seed=41):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    logit = 2.5 * X[:, 0] - 1.0 * X[:, 1]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def test_lightgbm_importance_gain_and_split_shares():
    import lightgbm as lgb

    X, y = _lightgbm_data()
    names = ["strong", "weak", "noise_a", "noise_b"]
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 1},
        lgb.Dataset(X, y, feature_name=names),
        num_boost_round=20,
    )
    rows = M.lightgbm_importance(booster)
    assert rows[0]["feature"] == "strong"
    assert sum(r["gain_share"] for r in rows) == pytest.approx(1.0)
    assert sum(r["split_share"] for r in rows) == pytest.approx(1.0)
    by_name = {r["feature"]: r for r in rows}
    gains = booster.feature_importance(importance_type="gain")
    splits = booster.feature_importance(importance_type="split")
    for i, name in enumerate(names):
        assert by_name[name]["gain"] == pytest.approx(gains[i])
        assert by_name[name]["split"] == splits[i]


def test_linear_importance_uses_standardised_coefficients():
    rows = M.linear_importance([2.0, -0.5, 0.0], ["a", "b", "c"], feature_std=[0.1, 4.0, 1.0])
    # |coef| x std: a 0.2, b 2.0, c 0.0 -> shares 0.2/2.2, 2.0/2.2, 0.
    assert [r["feature"] for r in rows] == ["b", "a", "c"]
    assert rows[0]["coefficient"] == -0.5
    assert rows[0]["importance_share"] == pytest.approx(2.0 / 2.2)
    multi = M.linear_importance([[1.0, -3.0], [-1.0, 1.0]], ["x", "y"])
    assert [(r["feature"], r["importance"]) for r in multi] == [("y", 2.0), ("x", 1.0)]
    with pytest.raises(ValueError, match="feature names"):
        M.linear_importance([1.0, 2.0], ["only_one"])


def test_permutation_importance_is_seeded_and_ranks_the_signal_first():
    X, y = _lightgbm_data(n=2000)
    weights = np.array([2.5, -1.0, 0.0, 0.0])

    def predict(data):
        return np.asarray(data, dtype=float) @ weights

    first = M.permutation_importance(predict, X, y, n_repeats=3, seed=7)
    again = M.permutation_importance(predict, X, y, n_repeats=3, seed=7)
    assert first == again
    assert [r["feature"] for r in first[:2]] == ["0", "1"]
    assert first[0]["importance"] > 0.1
    noise = [r for r in first if r["feature"] in ("2", "3")]
    assert all(r["importance"] == 0.0 for r in noise)  # the model ignores them exactly
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    from_frame = M.permutation_importance(predict, frame, y, n_repeats=3, seed=7)
    assert [r["importance"] for r in from_frame] == [r["importance"] for r in first]
    assert [r["feature"] for r in from_frame[:2]] == ["a", "b"]
    np.testing.assert_array_equal(frame.to_numpy(), X)  # the caller's data is untouched
