"""Fitting a scorecard: bins, trends, bin sizes, special and missing bins, categories,
selection by IV and correlation, params and bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from apps.models.training import scorecard as S
from apps.models.training.spec import SpecError
from tests.models.scorecard.synthetic import SPECIAL, candidate, credit_data, feature, interval_rates


def fit(data, **params):
    return S.fit_scorecard(data["X"], data["y"], data["names"], data["levels"], params)


def test_card_is_plain_json_with_the_documented_blocks(card):
    again = json.loads(json.dumps(card, allow_nan=False))
    assert again == card
    assert (card["format"], card["formatVersion"]) == ("omm-scorecard", 1)
    assert set(card) >= {"params", "scaling", "intercept", "features", "candidates", "columns", "totals"}
    assert card["columns"] == ["age", "income", "util", "city", "noise", "age_copy", "const"]
    assert card["totals"]["count"] == 5600 and 0 < card["totals"]["events"] < 5600
    for f in card["features"]:
        assert card["columns"][f["column"]] == f["name"]
        assert sum(b["count"] for b in f["bins"]) == card["totals"]["count"]
        assert sum(b["events"] for b in f["bins"]) == card["totals"]["events"]
        assert f["iv"] == pytest.approx(sum(b["iv"] for b in f["bins"]))


def test_signal_features_are_selected_and_noise_dropped_by_iv(card):
    selected = {f["name"] for f in card["features"]}
    assert {"income", "util", "city"} <= selected
    assert candidate(card, "noise")["reason"] == "iv below min_iv"
    assert candidate(card, "noise")["iv"] < 0.02 <= min(f["iv"] for f in card["features"])
    assert all(c["selected"] == (c["reason"] == "") for c in card["candidates"])


def test_a_duplicated_feature_is_dropped_as_correlated(card):
    kept, dropped = sorted(["age", "age_copy"], key=lambda n: -candidate(card, n)["iv"])
    assert candidate(card, kept)["selected"]
    assert candidate(card, dropped)["reason"] == f"correlated with {kept} (r=1.00)"
    assert candidate(card, dropped)["bins"], "a dropped feature keeps its bins for the analyst"


def test_max_correlation_one_keeps_both_copies_and_max_features_caps(data):
    both = fit(data, max_correlation=1.0)
    assert {"age", "age_copy"} <= {f["name"] for f in both["features"]}
    capped = fit(data, max_features=2)
    ivs = sorted((c["iv"] for c in capped["candidates"] if c["reason"] != "single value"), reverse=True)
    assert [f["iv"] for f in sorted(capped["features"], key=lambda f: -f["iv"])] == ivs[:2]
    assert any(c["reason"] == "beyond max_features (2)" for c in capped["candidates"])


def test_default_trend_is_monotone_and_resolved(card):
    for name in ("income", "util"):
        f = feature(card, name)
        rates = interval_rates(f["bins"])
        assert f["trend"] in ("ascending", "descending")
        steps = np.diff(rates)
        assert (steps >= 0).all() if f["trend"] == "ascending" else (steps <= 0).all()
    assert feature(card, "util")["trend"] == "ascending"  # riskier with utilisation
    assert feature(card, "income")["trend"] == "descending"


def test_requested_trends_are_honoured(data):
    card = fit(data, monotonic_trend="descending", trends={"util": "ascending", "noise": "peak"}, min_iv=0)
    assert (np.diff(interval_rates(feature(card, "util")["bins"])) >= 0).all()
    assert (np.diff(interval_rates(feature(card, "income")["bins"])) <= 0).all()
    assert card["params"]["trends"] == {"util": "ascending", "noise": "peak"}


def test_min_bin_share_and_max_bins_are_honoured(data):
    card = fit(data, min_bin_share=0.15, max_n_bins=3, min_iv=0, max_correlation=1.0)
    n = card["totals"]["count"]
    for f in card["features"]:
        grouped = [b for b in f["bins"] if b["kind"] in ("interval", "categories")]
        assert len(grouped) <= 3
        assert all(b["count"] >= 0.15 * n for b in grouped), f["name"]


def test_special_values_and_missing_get_their_own_bins(card, data):
    bins = feature(card, "income")["bins"]
    kinds = [b["kind"] for b in bins]
    assert kinds[-2:] == ["special", "missing"] and set(kinds[:-2]) == {"interval"}
    income = data["X"][:, 1]
    special, missing = bins[-2], bins[-1]
    assert special["values"] == [SPECIAL]
    assert special["count"] == int((income == SPECIAL).sum()) > 0
    assert missing["count"] == int(np.isnan(income).sum()) > 0
    assert special["eventRate"] > card["totals"]["events"] / card["totals"]["count"]  # the code is riskier
    # An interval starts at -inf: the special value is taken out before the intervals.
    assert bins[0]["lower"] is None and bins[0]["count"] == int(
        ((income != SPECIAL) & (income < bins[0]["upper"])).sum()
    )
    # util has no special value in the data: its special bin is empty and scores as WOE 0.
    util_special = next(b for b in feature(card, "util")["bins"] if b["kind"] == "special")
    assert util_special["count"] == 0 and util_special["woe"] == 0


def test_categorical_levels_are_grouped_and_unseen_levels_score_as_missing(card):
    bins = feature(card, "city")["bins"]
    assert feature(card, "city")["kind"] == "categorical"
    named = [v for b in bins if b["kind"] == "categories" for v in b["values"]]
    assert sorted(named) == ["A", "B", "C", "D'x", "E", "back\\slash"]  # "Z" has no training row
    assert bins[-1]["kind"] == "missing" and bins[-1]["count"] > 0
    assert card["categoricalLevels"]["city"][5] == "Z"
    missing_points = bins[-1]["points"]
    rows = np.array([[40.0, 9000.0, 0.3, code, 0.0, 63.0, 7.0] for code in (5.0, np.nan, 42.0)])
    city_col = [f["name"] for f in card["features"]].index("city")
    assert (S.card_feature_points(card, rows)[:, city_col] == missing_points).all()


def test_rare_categories_are_pooled_as_other(data):
    card = fit(data, categorical_cutoff=0.15)
    bins = feature(card, "city")["bins"]
    other = [b for b in bins if b["kind"] == "other"]
    assert other and sorted(other[0]["values"]) == ["D'x", "E", "back\\slash"]
    assert other[0]["count"] == int(np.isin(data["X"][:, 3], [3, 4, 6]).sum())


def test_single_value_feature_is_a_dropped_candidate(card):
    const = candidate(card, "const")
    assert (const["selected"], const["reason"], const["iv"]) == (False, "single value", 0.0)
    assert "bins" not in const


def test_no_surviving_feature_is_a_spec_error(data):
    with pytest.raises(SpecError, match="no feature survives selection") as err:
        fit(data, min_iv=50)
    assert "noise: iv below min_iv" in str(err.value) and "const: single value" in str(err.value)


@pytest.mark.parametrize(
    "y, message",
    [
        (lambda y: np.where(y == 1, 2.0, 0.0), "0/1 label"),
        (lambda y: np.zeros_like(y), "both classes"),
        (lambda y: np.where(np.arange(len(y)) == 3, np.nan, y), "0/1 label"),
    ],
)
def test_the_label_must_be_zero_one_with_both_classes(data, y, message):
    with pytest.raises(SpecError, match=message):
        S.fit_scorecard(data["X"], y(data["y"]), data["names"], data["levels"], {})


def test_shape_and_level_mismatches_are_spec_errors(data):
    with pytest.raises(SpecError, match="feature names"):
        S.fit_scorecard(data["X"], data["y"], data["names"][:-1], data["levels"], {})
    with pytest.raises(SpecError, match="the label has"):
        S.fit_scorecard(data["X"], data["y"][:-1], data["names"], data["levels"], {})
    with pytest.raises(SpecError, match="unknown features: town"):
        S.fit_scorecard(data["X"], data["y"], data["names"], {"town": ["a"]}, {})


def test_float32_matrix_fits():
    X, y, names, levels = credit_data(n=3000, seed=5)
    card = S.fit_scorecard(X.astype(np.float32), y, names, levels, {"special_values": [SPECIAL]})
    assert np.isfinite(S.card_points(card, X.astype(np.float32))).all()


def test_defaults_are_documented_and_valid():
    assert S.scorecard_param_problems(dict(S.SCORECARD_PARAM_DEFAULTS), ["a"]) == []
    assert S.SCORECARD_PARAM_DEFAULTS["pdo"] == 20 and S.SCORECARD_PARAM_DEFAULTS["base_odds"] == 50
    assert S.SCORECARD_PARAM_DEFAULTS["base_score"] == 600 and S.SCORECARD_PARAM_DEFAULTS["rounding"] == 0


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"pdo": 0}, "'pdo' = 0 is out of range"),
        ({"pdo": "20"}, "'pdo' has the wrong type str"),
        ({"base_odds": -1}, "'base_odds' = -1 is out of range"),
        ({"rounding": 5}, "'rounding' = 5 is out of range"),
        ({"rounding": 1.5}, "'rounding' must be an integer"),
        ({"max_n_bins": 1}, "'max_n_bins' = 1 is out of range"),
        ({"max_n_bins": 21}, "'max_n_bins' = 21 is out of range"),
        ({"min_bin_share": 0}, "'min_bin_share' = 0 is out of range"),
        ({"min_bin_share": 0.6}, "'min_bin_share' = 0.6 is out of range"),
        ({"min_iv": -0.1}, "'min_iv' = -0.1 is out of range"),
        ({"max_correlation": 0}, "'max_correlation' = 0 is out of range"),
        ({"max_correlation": 1.2}, "'max_correlation' = 1.2 is out of range"),
        ({"max_features": 0}, "'max_features' = 0 is out of range"),
        ({"C": 0}, "'C' = 0 is out of range"),
        ({"C": None}, "'C' must not be null"),
        ({"C": float("nan")}, "'C' must be a finite number"),
        ({"monotonic_trend": "up"}, "'monotonic_trend' = 'up' is not a trend"),
        ({"trends": {"a": "down"}}, "'trends[a]' = 'down' is not a trend"),
        ({"trends": {"zz": "ascending"}}, "features that are not in the model: zz"),
        ({"trends": ["a"]}, "'trends' must be an object"),
        ({"special_values": [-999, "x"]}, "'special_values' must be a list of finite numbers"),
        ({"special_values": [float("inf")]}, "'special_values' must be a list of finite numbers"),
        ({"special_values": [1, 1]}, "lists a value more than once"),
        ({"categorical_cutoff": 0.9}, "'categorical_cutoff' = 0.9 is out of range"),
        ({"depth": 3}, "unknown scorecard parameter 'depth'"),
    ],
)
def test_bad_params_are_named(params, expected):
    problems = S.scorecard_param_problems(params, ["a"])
    assert len(problems) == 1 and expected in problems[0], problems


def test_good_params_and_nulls_pass():
    ok = {"rounding": None, "max_features": None, "categorical_cutoff": None, "pdo": 40, "base_score": 0,
          "trends": {"a": "valley"}, "special_values": [-999, -998.5], "C": 1.0}  # fmt: skip
    assert S.scorecard_param_problems(ok, ["a"]) == []
    assert S.scorecard_param_problems("x", ["a"]) == ["scorecard params must be an object"]


def test_bad_params_stop_the_fit(data):
    with pytest.raises(SpecError, match="'pdo'"):
        fit(data, pdo=-5)
