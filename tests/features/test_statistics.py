"""apps.features.statistics: exact WOE/IV, binning rules, labels, names (no database)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from apps.features.models import FEATURE_NAME_RE
from apps.features.statistics import (
    IV_VERSION,
    MISSING,
    OTHER,
    WOE_SMOOTHING,
    Binning,
    feature_statistics,
    infer_feature_type,
    iv_for_column,
    iv_strength,
    suggest_feature_name,
)

INCOME = "月收入\uff08元\uff09"  # full-width parentheses, as Chinese headers often have


def expected_woe_iv(goods: list[int], bads: list[int]) -> tuple[list[float], float]:
    """The documented definition, written out independently of the module."""
    s, k = WOE_SMOOTHING, len(goods)
    big_g, big_b = sum(goods), sum(bads)
    g = [(x + s) / (big_g + s * k) for x in goods]
    b = [(x + s) / (big_b + s * k) for x in bads]
    woe = [math.log(gi / bi) for gi, bi in zip(g, b, strict=True)]
    iv = sum((gi - bi) * w for gi, bi, w in zip(g, b, woe, strict=True))
    return woe, iv


def predictive(n: int, slope: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x ~ N(0, 1) and a label whose log-odds rise linearly with x."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1.0 / (1.0 + np.exp(-(slope * x - 2.0)))
    return x, (rng.random(n) < p).astype(np.int64)


# --- exact numbers -----------------------------------------------------------------------


def test_iv_of_small_numeric_example_matches_hand_computation():
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, np.nan, np.nan])
    y = np.array([0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0])

    result = iv_for_column(x, y, kind="numerical", max_bins=2, min_bin_share=0.0)

    # The median cut is the 5th smallest value (5); bins are right-closed.
    # (-inf, 5]: labels 0 0 1 0 0; (5, +inf): 1 1 0 1 1; missing: 1 0.
    goods, bads = [4, 1, 1], [1, 4, 1]
    woe, iv = expected_woe_iv(goods, bads)
    assert [b["bin"] for b in result["bins"]] == ["(-inf, 5]", "(5, +inf)", MISSING]
    assert [b["good"] for b in result["bins"]] == goods
    assert [b["bad"] for b in result["bins"]] == bads
    assert [b["count"] for b in result["bins"]] == [5, 5, 2]
    assert [b["badRate"] for b in result["bins"]] == [0.2, 0.8, 0.5]
    assert [b["woe"] for b in result["bins"]] == pytest.approx(woe, abs=1e-12)
    assert result["iv"] == pytest.approx(iv, abs=1e-12)
    assert result["iv"] == pytest.approx(0.8 * math.log(3), abs=1e-12)  # by hand: (0.4 + 0.4) ln 3
    assert sum(b["iv"] for b in result["bins"]) == pytest.approx(result["iv"], abs=1e-12)
    assert result["ivVersion"] == IV_VERSION
    assert result["strength"] == "suspicious"
    assert result["binning"] == {"method": "quantile", "edges": [None, 5.0, None], "hasMissingBin": True}


def test_woe_is_goods_over_bads_and_iv_is_symmetric_in_the_convention():
    x = np.array(["a"] * 6 + ["b"] * 4)
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 0])
    flipped = 1 - y

    result = iv_for_column(x, y, kind="categorical", min_bin_share=0.0)
    reverse = iv_for_column(x, flipped, kind="categorical", min_bin_share=0.0)

    a, b = result["bins"]
    assert (a["bin"], a["good"], a["bad"]) == ("a", 5, 1)
    assert a["woe"] > 0 > b["woe"]  # the mostly-good category has a positive WOE
    assert [r["woe"] for r in reverse["bins"]] == pytest.approx([-a["woe"], -b["woe"]])
    assert reverse["iv"] == pytest.approx(result["iv"])
    assert result["iv"] == pytest.approx(expected_woe_iv([5, 1], [1, 3])[1])


def test_empty_cells_give_finite_woe():
    x = np.array([1.0, 1.0, 2.0, 2.0])
    y = np.array([0, 0, 1, 1])

    result = iv_for_column(x, y, kind="numerical", max_bins=2, min_bin_share=0.0)

    assert all(math.isfinite(b["woe"]) for b in result["bins"])
    assert result["iv"] == pytest.approx(expected_woe_iv([2, 0], [0, 2])[1])
    json.dumps(result, allow_nan=False)


# --- statistical behaviour ---------------------------------------------------------------


def test_independent_feature_is_useless_and_predictive_one_is_strong():
    rng = np.random.default_rng(1)
    noise = rng.normal(size=50_000)
    x, y = predictive(50_000, slope=1.5, seed=2)

    independent = iv_for_column(noise, y, kind="numerical")
    strong = iv_for_column(x, y, kind="numerical")

    assert independent["iv"] < 0.02
    assert independent["strength"] == "useless"
    assert strong["iv"] > 0.3


def test_monotonic_feature_has_monotonic_bad_rate():
    x, y = predictive(50_000, slope=1.0, seed=3)

    result = iv_for_column(x, y, kind="numerical")

    rates = [b["badRate"] for b in result["bins"]]
    assert len(rates) == 10
    assert rates == sorted(rates)
    woe = [b["woe"] for b in result["bins"]]
    assert woe == sorted(woe, reverse=True)  # more bads, lower WOE (goods over bads)


def test_bin_counts_sum_to_rows_and_respect_max_bins():
    rng = np.random.default_rng(4)
    x = rng.exponential(size=20_000)
    x[rng.random(20_000) < 0.1] = np.nan
    y = (rng.random(20_000) < 0.2).astype(int)

    for max_bins in (1, 3, 10, 20):
        result = iv_for_column(x, y, kind="numerical", max_bins=max_bins)
        value_bins = [b for b in result["bins"] if b["bin"] != MISSING]
        assert sum(b["count"] for b in result["bins"]) == 20_000
        assert sum(b["bad"] for b in result["bins"]) == int(y.sum())
        assert len(value_bins) <= max_bins
        assert len(result["binning"]["edges"]) == len(value_bins) + 1


def test_small_bins_are_merged_into_neighbours():
    # 90 % zeros, then a thin tail: quantile cuts collapse onto 0 and the tail bins are tiny.
    x = np.concatenate([np.zeros(900), np.arange(1, 101)]).astype(float)
    y = np.zeros(1000, dtype=int)
    y[::7] = 1

    result = iv_for_column(x, y, kind="numerical", max_bins=20, min_bin_share=0.05)

    assert all(b["count"] >= 0.05 * 1000 for b in result["bins"])
    assert result["bins"][0]["bin"] == "(-inf, 0]"
    assert result["bins"][0]["count"] == 900
    assert sum(b["count"] for b in result["bins"]) == 1000


def test_missing_values_get_their_own_bin():
    x = np.array([1.0, 2.0, np.nan, np.inf, 3.0, 4.0, np.nan, 5.0] * 50)
    y = np.array([0, 1, 1, 1, 0, 0, 1, 0] * 50)

    numeric = iv_for_column(x, y, kind="numerical", max_bins=5, min_bin_share=0.0)
    as_arrow = iv_for_column(
        pa.array([None if not math.isfinite(v) else v for v in x]), y, kind="numerical", max_bins=5
    )

    last = numeric["bins"][-1]
    assert (last["bin"], last["count"], last["bad"]) == (MISSING, 150, 150)  # NaN and inf alike
    assert numeric["binning"]["hasMissingBin"] is True
    assert as_arrow["iv"] == pytest.approx(numeric["iv"])
    without = iv_for_column(np.arange(10.0), np.arange(10) % 2, kind="numerical")
    assert without["binning"]["hasMissingBin"] is False
    assert all(b["bin"] != MISSING for b in without["bins"])


def test_all_missing_column_has_zero_iv():
    result = iv_for_column(np.full(10, np.nan), np.arange(10) % 2, kind="numerical")

    assert [b["bin"] for b in result["bins"]] == [MISSING]
    assert result["iv"] == 0.0


def test_rare_categories_are_grouped_into_other():
    values = ["城市"] * 60 + ["乡村"] * 30 + ["海外"] * 4 + ["未知"] * 3 + [None] * 3
    y = np.array([i % 4 == 0 for i in range(100)])

    result = iv_for_column(np.array(values, dtype=object), y, kind="categorical", min_bin_share=0.05)

    assert [b["bin"] for b in result["bins"]] == ["城市", "乡村", OTHER, MISSING]
    assert [b["count"] for b in result["bins"]] == [60, 30, 7, 3]
    assert result["binning"] == {
        "method": "category",
        "categories": [["城市"], ["乡村"], [OTHER]],
        "hasMissingBin": True,
    }


def test_boolean_and_arrow_dictionary_categories():
    flags = np.array([True, False, True, True] * 25)
    y = np.array([1, 0, 0, 0] * 25)

    result = iv_for_column(flags, y, kind="boolean")
    encoded = iv_for_column(pa.array(["x", "y", "x", "x"] * 25).dictionary_encode(), y, kind="categorical")

    assert [b["bin"] for b in result["bins"]] == ["true", "false"]
    assert result["iv"] == pytest.approx(encoded["iv"])


# --- labels ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (np.array([0, 1, 2, 1]), "exactly two classes"),
        (np.array([1, 1, 1, 1]), "exactly two classes"),
        (np.array([np.nan] * 4), "it has 0"),
        (np.array(["a", "b", "c", None], dtype=object), "exactly two classes"),
    ],
)
def test_label_must_be_binary(label, message):
    with pytest.raises(ValueError, match=message):
        iv_for_column(np.arange(4.0), label, kind="numerical")


def test_label_length_kind_and_options_are_checked():
    with pytest.raises(ValueError, match="label has 3 rows but the values have 4"):
        iv_for_column(np.arange(4.0), np.array([0, 1, 0]), kind="numerical")
    with pytest.raises(ValueError, match="not 'datetime'"):
        iv_for_column(np.arange(4.0), np.array([0, 1, 0, 1]), kind="datetime")
    with pytest.raises(ValueError, match="max_bins"):
        iv_for_column(np.arange(4.0), np.array([0, 1, 0, 1]), kind="numerical", max_bins=0)
    with pytest.raises(ValueError, match="needs numbers"):
        iv_for_column(pa.array(["a", "b", "c", "d"]), np.array([0, 1, 0, 1]), kind="numerical")


def test_label_classes_map_one_or_minority_to_bad_and_missing_rows_are_dropped():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    as_ints = iv_for_column(x, np.array([1, 1, 1, 1, 0, 1]), kind="numerical", min_bin_share=0.0)
    as_bools = iv_for_column(x, np.array([True] * 4 + [False, True]), kind="numerical", min_bin_share=0.0)
    as_text = iv_for_column(x, np.array(["N", "N", "N", "N", "Y", "N"]), kind="numerical", min_bin_share=0.0)
    with_missing = iv_for_column(
        x, np.array([1.0, np.nan, 1.0, 1.0, 0.0, 1.0]), kind="numerical", min_bin_share=0.0
    )

    assert sum(b["bad"] for b in as_ints["bins"]) == 5  # 1 is bad even as the majority
    assert as_bools["bins"] == as_ints["bins"]
    assert sum(b["bad"] for b in as_text["bins"]) == 1  # "Y": the minority
    assert sum(b["count"] for b in with_missing["bins"]) == 5


# --- feature_statistics ------------------------------------------------------------------


def write(tmp_path: Path, columns: dict) -> Path:
    path = tmp_path / "features.parquet"
    pq.write_table(pa.table(columns), path)
    return path


def chinese_dataset(tmp_path: Path, n: int = 2000) -> Path:
    rng = np.random.default_rng(5)
    income = rng.lognormal(9, 0.5, n)
    income[::50] = np.nan
    bad = (rng.random(n) < 1 / (1 + income / 5000)).astype(np.int8)
    region = rng.choice(["华北", "华东", "华南", "西部"], n).astype(object)
    region[::40] = None
    return write(
        tmp_path,
        {
            INCOME: pa.array(income),
            "年龄": pa.array(rng.integers(18, 70, n)),
            "地区": pa.array(region, type=pa.string()),
            "是否有房": pa.array(rng.random(n) < 0.4),
            "申请日期": pa.array(np.datetime64("2024-01-01") + rng.integers(0, 90, n).astype("m8[D]")),
            "是否违约": pa.array(bad),
        },
    )


def test_feature_statistics_on_chinese_columns(tmp_path):
    path = chinese_dataset(tmp_path)

    stats = feature_statistics(path, label="是否违约")

    assert list(stats) == [INCOME, "年龄", "地区", "是否有房", "申请日期"]
    income = stats[INCOME]
    assert (income["kind"], income["dataType"]) == ("numerical", "double")
    assert (income["count"], income["missing"], income["missingShare"]) == (1960, 40, 0.02)
    assert set(income["quantiles"]) == {"p1", "p5", "p25", "p50", "p75", "p95", "p99"}
    assert income["min"] <= income["quantiles"]["p50"] <= income["max"]
    assert sum(income["histogram"]["counts"]) == 1960
    assert income["iv"]["strength"] != "useless"  # the label was drawn from the income
    assert sum(b["count"] for b in income["iv"]["bins"]) == 2000
    region = stats["地区"]
    assert region["kind"] == "categorical"
    assert {v["value"] for v in region["topValues"]} == {"华北", "华东", "华南", "西部"}
    assert [b["bin"] for b in region["iv"]["bins"]][-1] == MISSING
    assert stats["是否有房"]["kind"] == "boolean"
    assert {b["bin"] for b in stats["是否有房"]["iv"]["bins"]} == {"true", "false"}
    assert stats["申请日期"]["kind"] == "datetime"
    assert stats["申请日期"]["iv"] is None
    assert stats["申请日期"]["min"] >= "2024-01-01"
    json.dumps(stats, allow_nan=False)


def test_feature_statistics_matches_iv_for_column_and_selects_columns(tmp_path):
    path = chinese_dataset(tmp_path)
    table = pq.read_table(path)

    stats = feature_statistics(path, ["年龄", "地区", "是否违约"], label="是否违约", max_bins=5)
    plain = feature_statistics(path, ["年龄"])

    assert list(stats) == ["年龄", "地区", "是否违约"]
    assert stats["是否违约"]["iv"] is None  # the label against itself means nothing
    label = table.column("是否违约").to_numpy()
    direct = iv_for_column(table.column("年龄"), label, kind="numerical", max_bins=5)
    assert stats["年龄"]["iv"] == direct
    assert plain["年龄"]["iv"] is None
    assert plain["年龄"]["mean"] == stats["年龄"]["mean"]


def test_feature_statistics_rejects_unknown_columns_and_bad_labels(tmp_path):
    path = chinese_dataset(tmp_path)

    with pytest.raises(ValueError, match="Unknown columns: '收入'"):
        feature_statistics(path, ["收入"])
    with pytest.raises(ValueError, match="label column '违约'"):
        feature_statistics(path, label="违约")
    with pytest.raises(ValueError, match="exactly two classes"):
        feature_statistics(path, label="年龄")


# --- small helpers -----------------------------------------------------------------------


def test_binning_round_trips_through_json():
    binning = Binning(
        method="quantile", edges=[-math.inf, 1.5, 3.0, math.inf], categories=None, has_missing_bin=True
    )

    data = json.loads(json.dumps(binning.to_dict(), allow_nan=False))

    assert data["edges"] == [None, 1.5, 3.0, None]
    assert Binning.from_dict(data) == binning


@pytest.mark.parametrize(
    ("iv", "strength"),
    [
        (0.0, "useless"),
        (0.0199, "useless"),
        (0.02, "weak"),
        (0.1, "medium"),
        (0.3, "strong"),
        (0.5, "suspicious"),
    ],
)
def test_strength_cutoffs(iv, strength):
    assert iv_strength(iv) == strength


def test_infer_feature_type():
    assert infer_feature_type("numerical") == "numerical"
    assert infer_feature_type("boolean") == "categorical"
    assert infer_feature_type("categorical") == "categorical"
    assert infer_feature_type("text") == "text"
    assert infer_feature_type("datetime") == "datetime"
    with pytest.raises(ValueError, match="Unknown column kind"):
        infer_feature_type("image")


@pytest.mark.parametrize(
    ("column", "name"),
    [
        ("Transaction Amount", "transaction_amount"),
        ("  user--age (years) ", "user_age_years"),
        (INCOME, "月收入_元"),  # NFKC: the parentheses become ASCII punctuation
        ("客户 年龄", "客户_年龄"),
        ("30天逾期次数", "f_30天逾期次数"),
        ("__Score__", "score"),
        ("\uff21\uff22\uff23\uff11", "abc1"),  # full-width letters and digits
        ("", "feature"),
        ("%%%", "feature"),
        ("a" * 150, "a" * 100),
    ],
)
def test_suggest_feature_name(column, name):
    suggested = suggest_feature_name(column)

    assert suggested == name
    assert re.fullmatch(FEATURE_NAME_RE, suggested)
