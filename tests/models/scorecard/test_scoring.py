"""Scoring with a card: points against the regression, the PDO scale, probability order,
per-feature points, reasons, rounding, the cache and single-row latency."""

from __future__ import annotations

import copy
import json
import math
import time

import numpy as np
import pytest

from apps.models.training import scorecard as S
from tests.models.scorecard.synthetic import SPECIAL


def _bin_of(f: dict, levels: list[str] | None, value: float) -> dict:
    """The bin a value falls in, read straight off the card's bins (independent of the engine)."""
    bins = f["bins"]
    if math.isnan(value):
        return bins[-1]
    if levels is not None:
        level = levels[int(value)] if 0 <= value < len(levels) else None
        return next((b for b in bins if level in b["values"] and b["kind"] != "missing"), bins[-1])
    special = [b for b in bins if b["kind"] == "special" and value in b["values"]]
    if special:
        return special[0]
    return next(
        b
        for b in bins
        if b["kind"] == "interval"
        and (b["lower"] is None or b["lower"] <= value)
        and (b["upper"] is None or value < b["upper"])
    )


def _woe(card: dict, X: np.ndarray) -> np.ndarray:
    """(rows, selected features) WOE, from the card's bins alone."""
    cols = []
    for f in card["features"]:
        levels = card["categoricalLevels"].get(f["name"]) if f["kind"] == "categorical" else None
        cols.append([_bin_of(f, levels, v)["woe"] for v in X[:, f["column"]]])
    return np.array(cols).T


def _logit(card: dict, X: np.ndarray) -> np.ndarray:
    """intercept + sum coef * WOE, from the card's numbers alone."""
    return card["intercept"] + _woe(card, X) @ np.array([f["coef"] for f in card["features"]])


def test_points_are_the_scaled_log_odds_of_the_regression(exact_card, data):
    X = data["Xh"][:400]
    logit = _logit(exact_card, X)
    s = exact_card["scaling"]
    assert s["factor"] == pytest.approx(20 / math.log(2))
    assert s["offset"] == pytest.approx(600 - 20 / math.log(2) * math.log(50))
    np.testing.assert_allclose(S.card_points(exact_card, X), s["offset"] - s["factor"] * logit, atol=1e-9)
    np.testing.assert_allclose(S.card_probability(exact_card, X), 1 / (1 + np.exp(-logit)), atol=1e-12)


def test_the_regression_is_the_plain_logistic_fit(exact_card, data):
    # At the unpenalised maximum likelihood the score equations hold: the residuals sum to
    # zero overall and against every WOE column (C = 1e6 leaves a negligible penalty).
    X, y = data["X"], data["y"]
    residual = y - S.card_probability(exact_card, X)
    assert abs(residual.sum()) < 1e-3
    np.testing.assert_allclose(residual @ _woe(exact_card, X), 0, atol=1e-2)
    assert all(f["coef"] < 0 for f in exact_card["features"])  # higher WOE (safer) lowers P(event)


def test_pdo_more_points_double_the_odds(exact_card, data):
    X = data["Xh"]
    points = S.card_points(exact_card, X)
    p = S.card_probability(exact_card, X)
    log2_odds = np.log2((1 - p) / p)
    # log2(good:bad odds) rises by exactly 1 every pdo points, and is log2(50) at 600 points.
    slope, intercept = np.polyfit(points, log2_odds, 1)
    assert slope == pytest.approx(1 / 20, rel=1e-9)
    assert intercept + 600 * slope == pytest.approx(math.log2(50), rel=1e-9)


def test_doubling_pdo_doubles_every_distance_from_the_base_score(exact_card, data):
    params = {"special_values": [SPECIAL], "rounding": None, "pdo": 40}
    wide = S.fit_scorecard(data["X"], data["y"], data["names"], data["levels"], params)
    X = data["Xh"]
    np.testing.assert_allclose(
        S.card_points(wide, X) - 600, 2 * (S.card_points(exact_card, X) - 600), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(S.card_probability(wide, X), S.card_probability(exact_card, X), atol=1e-8)


def test_rounding_gives_whole_or_decimal_points_per_bin(card, data):
    assert all(float(b["points"]).is_integer() for f in card["features"] for b in f["bins"])
    assert np.all(S.card_points(card, data["Xh"]) % 1 == 0)
    two = S.fit_scorecard(data["X"], data["y"], data["names"], data["levels"], {"rounding": 2})
    values = [b["points"] for f in two["features"] for b in f["bins"]]
    assert all(round(v, 2) == v for v in values) and not all(float(v).is_integer() for v in values)


def test_probability_ranks_rows_exactly_as_points(card, data):
    points = S.card_points(card, data["Xh"])
    prob = S.card_probability(card, data["Xh"])
    order = np.argsort(points, kind="stable")
    assert (np.diff(prob[order]) <= 0).all()
    same = points[:, None] == points[None, :]
    assert ((prob[:, None] == prob[None, :]) == same).all()
    assert len(np.unique(points)) > 20


def test_feature_points_add_up_to_the_points(card, data):
    per = S.card_feature_points(card, data["Xh"])
    assert per.shape == (len(data["Xh"]), len(card["features"]))
    np.testing.assert_array_equal(per.sum(axis=1), S.card_points(card, data["Xh"]))


def test_special_and_missing_values_score_their_bins(card):
    income = next(f for f in card["features"] if f["name"] == "income")
    k = card["features"].index(income)
    rows = np.array([[40.0, v, 0.3, 0.0, 0.0, 63.0, 7.0] for v in (SPECIAL, np.nan, 1e12, -np.inf)])
    got = S.card_feature_points(card, rows)[:, k]
    bins = income["bins"]
    assert list(got) == [bins[-2]["points"], bins[-1]["points"], bins[-3]["points"], bins[0]["points"]]


@pytest.mark.parametrize("k", [0, 1, 2, 4, 10])
def test_reasons_are_the_largest_point_losses_first(card, data, k):
    X = data["Xh"][:300]
    reasons = S.card_reasons(card, X, k=k)
    per = S.card_feature_points(card, X)
    names = [f["name"] for f in card["features"]]
    best = {f["name"]: max(b["points"] for b in f["bins"] if b["count"]) for f in card["features"]}
    assert len(reasons) == len(X)
    for row, got in zip(per, reasons, strict=True):
        lost_all = sorted((best[n] - row[j] for j, n in enumerate(names) if best[n] > row[j]), reverse=True)
        assert [r["lost"] for r in got] == lost_all[:k]
        for r in got:
            assert r["lost"] > 0 and r["points"] + r["lost"] == best[r["feature"]]
            assert r["points"] == row[names.index(r["feature"])]
            f = card["features"][names.index(r["feature"])]
            assert r["bin"] in [b["label"] for b in f["bins"] if b["points"] == r["points"]]
    if k:
        assert any(len(r) == min(k, len(names)) for r in reasons)


def test_a_row_in_every_best_bin_has_no_reason(card):
    row = np.zeros((1, len(card["columns"])))
    for f in card["features"]:
        top = max((b for b in f["bins"] if b["count"]), key=lambda b: b["points"])
        if f["kind"] == "categorical":
            row[0, f["column"]] = card["categoricalLevels"][f["name"]].index(top["values"][0])
        elif top["kind"] == "interval":
            lo, hi = top["lower"], top["upper"]
            row[0, f["column"]] = lo if lo is not None else (hi - 1 if hi is not None else 0)
        else:
            row[0, f["column"]] = top["values"][0] if top["kind"] == "special" else np.nan
    assert S.card_reasons(card, row) == [[]]
    assert S.card_points(card, row)[0] == sum(
        max(b["points"] for b in f["bins"] if b["count"]) for f in card["features"]
    )


def test_a_json_round_trip_scores_identically(card, data):
    again = json.loads(json.dumps(card))
    np.testing.assert_array_equal(S.card_points(again, data["Xh"]), S.card_points(card, data["Xh"]))


def test_the_cache_follows_the_card_object(card, data):
    compiled = S.compile_card(card)
    assert S.compile_card(card) is compiled
    changed = copy.deepcopy(card)
    for b in changed["features"][0]["bins"]:
        b["points"] += 10
    assert S.compile_card(changed) is not compiled
    np.testing.assert_array_equal(S.card_points(changed, data["Xh"]), S.card_points(card, data["Xh"]) + 10)


def test_one_row_scores_well_under_a_millisecond(card, data):
    row = data["Xh"][:1]
    S.card_probability(card, row)
    times = []
    for _ in range(300):
        start = time.perf_counter()
        S.card_probability(card, row)
        S.card_reasons(card, row)
        times.append(time.perf_counter() - start)
    assert np.median(times) < 1e-3, np.median(times)
