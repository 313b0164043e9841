"""Edits of a card's bins: every kind refits as asked, carries to later refits, and every bad
edit is refused with a message that names the bins."""

from __future__ import annotations

import numpy as np
import pytest

from apps.models.training import scorecard as S
from apps.models.training.scorecard.binning import interval_breaks
from apps.models.training.spec import SpecError
from tests.models.scorecard.synthetic import candidate, feature, interval_rates


def refit(data, base, edits, **params):
    return S.fit_scorecard(
        data["X"], data["y"], data["names"], data["levels"], params, edits=edits, base_card=base
    )


def labels(card, name):
    bins = feature(card, name)["bins"] if candidate(card, name)["selected"] else candidate(card, name)["bins"]
    return [b["label"] for b in bins]


def test_breaks_set_the_intervals_exactly(card, data):
    new = refit(data, card, [{"feature": "util", "breaks": [0.2, 0.45, 0.7]}])
    assert labels(new, "util")[:4] == ["(-inf, 0.2)", "[0.2, 0.45)", "[0.45, 0.7)", "[0.7, inf)"]
    assert new["params"] == card["params"] and new["edits"] == [
        {"feature": "util", "breaks": [0.2, 0.45, 0.7]}
    ]
    assert new["manual"]["bins"]["util"] == {"breaks": [0.2, 0.45, 0.7]}
    util = data["X"][:, 2]
    assert feature(new, "util")["bins"][1]["count"] == int(((util >= 0.2) & (util < 0.45)).sum())


def test_merge_removes_the_break_between_two_neighbours(card, data):
    before = interval_breaks(feature(card, "income")["bins"])
    new = refit(data, card, [{"feature": "income", "merge": [1, 2]}])
    after = interval_breaks((feature(new, "income") if candidate(new, "income")["selected"]
                             else candidate(new, "income"))["bins"])  # fmt: skip
    assert after == before[:1] + before[2:]


def test_split_adds_a_break_inside_the_bin(card, data):
    bins = [b for b in feature(card, "util")["bins"] if b["kind"] == "interval"]
    middle = bins[1]
    at = (middle["lower"] + middle["upper"]) / 2
    new = refit(data, card, [{"feature": "util", "split": {"bin": 1, "at": at}}])
    assert interval_breaks(feature(new, "util")["bins"]) == sorted([*interval_breaks(bins), at])


def test_groups_set_the_categories_and_the_rest_is_other(card, data):
    new = refit(data, card, [{"feature": "city", "groups": [["A", "E"], ["B", "C"]]}])
    bins = feature(new, "city")["bins"]
    assert [(b["kind"], b["values"]) for b in bins] == [
        ("categories", ["A", "E"]),
        ("categories", ["B", "C"]),
        ("other", ["D'x", "back\\slash"]),  # seen in training, named by no group
        ("missing", []),
    ]
    city = data["X"][:, 3]
    assert bins[2]["count"] == int(np.isin(city, [3, 6]).sum())


def test_include_forces_a_candidate_in_or_out(card, data):
    new = refit(data, card, [{"feature": "noise", "include": True}, {"feature": "util", "include": False}])
    assert candidate(new, "noise")["selected"] and candidate(new, "noise")["iv"] < 0.02
    assert candidate(new, "util")["reason"] == "excluded by an edit"
    assert "util" not in [f["name"] for f in new["features"]]


def test_analyst_bins_carry_over_to_the_next_refit(card, data):
    first = refit(
        data, card, [{"feature": "util", "breaks": [0.3, 0.6]}, {"feature": "noise", "include": True}]
    )
    second = refit(data, first, [{"feature": "city", "groups": [["A"], ["B", "C", "D'x", "E"]]}])
    assert interval_breaks(feature(second, "util")["bins"]) == [0.3, 0.6]
    assert candidate(second, "noise")["selected"]
    assert second["edits"] == [{"feature": "city", "groups": [["A"], ["B", "C", "D'x", "E"]]}]
    assert set(second["manual"]["bins"]) == {"util", "city"}
    third = refit(data, second, [{"feature": "util", "breaks": [0.5]}])  # a new edit replaces it
    assert interval_breaks(feature(third, "util")["bins"]) == [0.5]


def test_params_given_with_a_base_card_override_its_params(card, data):
    new = refit(data, card, [], pdo=40)
    assert new["scaling"]["pdo"] == 40 and new["params"]["special_values"] == card["params"]["special_values"]


@pytest.mark.parametrize(
    "edit, expected",
    [
        ({"feature": "town", "breaks": [1]}, "edit 1 names an unknown feature town"),
        ({"feature": "util", "merge": [1, 3]}, "bins [B1] and [B3] of util are not adjacent"),
        ({"feature": "util", "merge": [2, 1]}, "bins [B2] and [B1] of util are not adjacent"),
        (
            {"feature": "util", "merge": [3, 9]},
            "bin 9 of util is not an interval bin; its interval bins are 0 = [B0]",
        ),
        ({"feature": "util", "merge": [-1, 0]}, "bin -1 of util is not an interval bin"),
        ({"feature": "util", "merge": [0]}, "merge of util must be two bin indexes [i, i+1]"),
        ({"feature": "util", "split": {"bin": 1, "at": 5.0}}, "5.0 is not inside bin [B1] of util"),
        (
            {"feature": "util", "split": {"bin": 0, "at": "x"}},
            'split of util must be {"bin": index, "at": number}',
        ),
        ({"feature": "util", "split": {"bin": 12, "at": 0.5}}, "bin 12 of util is not an interval bin"),
        (
            {"feature": "util", "breaks": [0.5, 0.2]},
            "breaks of util must be finite numbers in increasing order",
        ),
        (
            {"feature": "util", "breaks": [0.2, 0.2]},
            "breaks of util must be finite numbers in increasing order",
        ),
        ({"feature": "util", "breaks": [0.2, float("inf")]}, "breaks of util must be finite"),
        ({"feature": "util", "breaks": [float("nan")]}, "breaks of util must be finite"),
        ({"feature": "util", "breaks": []}, "breaks of util must be finite"),
        ({"feature": "city", "breaks": [1.0]}, "city is categorical: give its bins as groups"),
        ({"feature": "city", "merge": [0, 1]}, "city is categorical: merge applies to interval bins"),
        ({"feature": "util", "groups": [["A"]]}, "util is numeric: set its bins with breaks"),
        ({"feature": "city", "groups": [["A", "Q"], ["R"]]}, "groups of city name unknown levels: 'Q', 'R'"),
        (
            {"feature": "city", "groups": [["A", "B"], ["B"]]},
            "groups of city name levels more than once: 'B'",
        ),
        ({"feature": "city", "groups": [[]]}, "groups of city must be non-empty lists of level names"),
        ({"feature": "util", "include": "yes"}, "include of util must be true or false"),
        ({"feature": "const", "include": True}, "const cannot be included: single value"),
        ({"feature": "util", "breaks": [0.5], "include": True}, "edit 1 of util must have exactly one of"),
        ({"feature": "util", "widen": 2}, "edit 1 of util must have exactly one of"),
        ({"breaks": [1]}, "edit 1 must be an object naming a feature"),
    ],
)
def test_bad_edits_are_refused_with_the_bins_named(card, data, edit, expected):
    bins = [b["label"] for b in feature(card, "util")["bins"] if b["kind"] == "interval"]
    for i, label in enumerate(bins):
        expected = expected.replace(f"[B{i}]", label)
    problems = S.card_edit_problems(card, [edit])
    assert len(problems) == 1 and expected in problems[0], problems
    with pytest.raises(SpecError) as err:
        refit(data, card, [edit])
    assert expected in str(err.value)


def test_two_bin_edits_of_one_feature_are_refused(card):
    edits = [{"feature": "util", "breaks": [0.5]}, {"feature": "util", "merge": [0, 1]}]
    assert S.card_edit_problems(card, edits) == [
        "util is edited more than once; give its bins in one edit (one breaks list)"
    ]
    assert S.card_edit_problems(card, "util") == ["edits must be a list of objects"]


def test_merge_and_split_need_a_base_card(data):
    with pytest.raises(SpecError, match="merge of util needs the bins of a base card"):
        S.fit_scorecard(
            data["X"],
            data["y"],
            data["names"],
            data["levels"],
            {},
            edits=[{"feature": "util", "merge": [0, 1]}],
        )


def test_edits_against_an_asked_trend_are_refused_with_rates(card, data):
    # util's event rate rises; asking it to be descending and cutting it by hand breaks that.
    with pytest.raises(SpecError) as err:
        refit(data, card, [{"feature": "util", "breaks": [0.25, 0.5]}], trends={"util": "descending"})
    text = str(err.value)
    assert (
        "bins (-inf, 0.25) and [0.25, 0.5) of util break the descending event-rate order that was asked for"
        in text
    )
    util, y = data["X"][:, 2], data["y"]
    low, mid = y[util < 0.25].mean(), y[(util >= 0.25) & (util < 0.5)].mean()
    assert f"({100 * low:.1f} % then {100 * mid:.1f} %)" in text


def test_edits_that_keep_the_asked_trend_pass(card, data):
    new = refit(data, card, [{"feature": "util", "breaks": [0.25, 0.5]}], trends={"util": "ascending"})
    assert (np.diff(interval_rates(feature(new, "util")["bins"])) >= 0).all()
    # Under the default (auto) trend an analyst may cut bins in any order.
    free = refit(data, card, [{"feature": "income", "breaks": [5000.0, 9000.0, 12000.0, 20000.0]}])
    assert candidate(free, "income")["iv"] > 0
