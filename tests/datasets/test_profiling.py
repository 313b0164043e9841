"""apps.datasets.profiling: exact numbers on small Parquet files (no database)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from apps.datasets.profiling import PROFILE_VERSION, Thresholds, column_kind, profile_parquet

NOW = datetime(2024, 3, 15, 12, 0)
AMOUNT = "授信额度\uff08元\uff09"  # full-width parentheses, as Chinese headers often have


def write(tmp_path: Path, columns: dict, name: str = "data.parquet", **kwargs) -> Path:
    path = tmp_path / name
    pq.write_table(pa.table(columns), path, **kwargs)
    return path


def col(report: dict, name: str) -> dict:
    return next(c for c in report["columns"] if c["name"] == name)


def codes(report: dict) -> set[str]:
    return {a["code"] for a in report["alerts"]}


def clean_columns(n: int = 2000, seed: int = 0) -> dict:
    """A dataset with nothing wrong: no missing, no duplicates, no gaps, balanced label."""
    rng = np.random.default_rng(seed)
    days = np.datetime64("2023-01-01") + (np.arange(n) % 365).astype("m8[D]")
    return {
        "id": pa.array(np.arange(n)),
        "amount": pa.array(rng.uniform(0, 1000, n)),
        "score": pa.array(rng.integers(300, 900, n)),
        "region": pa.array(rng.choice(["华北", "华东", "华南", "西部"], n)),
        "day": pa.array(days),
        "bad": pa.array((np.arange(n) % 5 == 0).astype(np.int64)),
    }


def profile_clean(tmp_path: Path, columns: dict, name: str = "data.parquet") -> dict:
    return profile_parquet(
        write(tmp_path, columns, name), label="bad", time_column="day", key_columns=["id"], now=NOW
    )


# --- report shape ------------------------------------------------------------------------


def test_report_is_strict_json_with_version_and_counts(tmp_path):
    report = profile_clean(tmp_path, clean_columns())

    assert report["profileVersion"] == PROFILE_VERSION == "1"
    assert report["rowCount"] == 2000
    assert report["columnCount"] == 6
    json.dumps(report, allow_nan=False, ensure_ascii=False)  # no NaN, no numpy scalars
    assert [c["kind"] for c in report["columns"]] == [
        "numerical",
        "numerical",
        "numerical",
        "categorical",
        "datetime",
        "numerical",
    ]


def test_memory_bytes_is_the_arrow_size_of_the_table(tmp_path):
    path = write(tmp_path, clean_columns())
    report = profile_parquet(path)
    expected = pq.read_table(path).nbytes
    assert abs(report["memoryBytes"] - expected) <= 0.01 * expected


def test_clean_data_scores_high_and_raises_no_alert(tmp_path):
    report = profile_clean(tmp_path, clean_columns())

    assert report["alerts"] == []
    assert report["score"] >= 95
    assert report["duplicateRows"] == {"count": 0, "share": 0.0}
    assert report["duplicateKeys"]["count"] == 0
    assert report["time"]["gapCount"] == 0
    assert report["time"]["futureCount"] == 0


def test_empty_dataset_scores_zero_with_an_alert(tmp_path):
    path = write(tmp_path, {"x": pa.array([], pa.float64()), "s": pa.array([], pa.string())})
    report = profile_parquet(path, label="x", time_column="s", key_columns=["s"], now=NOW)

    assert report["rowCount"] == 0
    assert report["score"] == 0
    assert codes(report) == {"empty_dataset"}
    assert col(report, "x")["count"] == 0
    assert col(report, "x")["quantiles"]["p50"] is None
    json.dumps(report, allow_nan=False)


def test_unknown_column_names_give_error_alerts_not_exceptions(tmp_path):
    report = profile_parquet(write(tmp_path, clean_columns(50)), label="nope", key_columns=["missing_key"])

    unknown = [a for a in report["alerts"] if a["code"] == "unknown_column"]
    assert {a["column"] for a in unknown} == {"nope", "missing_key"}
    assert all(a["level"] == "error" for a in unknown)
    assert report["label"] is None


# --- missing values ----------------------------------------------------------------------


def test_missing_counts_nulls_nan_and_infinities(tmp_path):
    path = write(
        tmp_path,
        {
            "f": pa.array([1.0, None, float("nan"), float("inf"), -float("inf"), 2.0, 3.0, 4.0]),
            "i": pa.array([1, 2, None, 4, None, 6, 7, 8]),
            "s": pa.array(["a", "", None, "b", "a", None, None, "a"]),
        },
    )
    report = profile_parquet(path)

    f = col(report, "f")
    assert (f["count"], f["missing"], f["infinite"]) == (4, 4, 2)
    assert f["missingShare"] == 0.5
    assert (f["min"], f["max"], f["mean"]) == (1.0, 4.0, 2.5)
    i = col(report, "i")
    assert (i["count"], i["missing"]) == (6, 2)
    s = col(report, "s")
    assert (s["count"], s["missing"]) == (5, 3)  # "" is a value, not a missing one


def test_high_missing_share_raises_a_column_alert(tmp_path):
    x = [None] * 3 + list(range(7))
    report = profile_parquet(write(tmp_path, {"x": pa.array(x, pa.float64())}))

    alert = next(a for a in report["alerts"] if a["code"] == "high_missing")
    assert alert["column"] == "x"
    assert alert["level"] == "warning"
    assert "high_missing" not in codes(
        profile_parquet(write(tmp_path, {"x": pa.array(x)}), thresholds=Thresholds(0.5))
    )


# --- duplicates --------------------------------------------------------------------------


def test_duplicate_rows_are_rows_equal_to_an_earlier_row(tmp_path):
    path = write(
        tmp_path,
        {
            "a": pa.array([1, 1, 1, 2, 2, 3, 1, None, None, 2]),
            "b": pa.array(["x", "x", "x", "y", "y", "y", "z", "n", "n", "x"]),
            "c": pa.array([0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 0.5, float("nan"), None, 1.0]),
        },
    )
    report = profile_parquet(path)

    # (1,x,.5) three times -> 2, (2,y,1) twice -> 1, (null,n,NaN)==(null,n,null) -> 1
    assert report["duplicateRows"] == {"count": 4, "share": 0.4}
    assert report["duplicateKeys"] is None


def test_duplicate_rows_depend_on_column_order_and_every_column(tmp_path):
    path = write(tmp_path, {"a": pa.array([1, 2, 1]), "b": pa.array([2, 1, 2]), "c": pa.array([0, 0, 1])})
    assert profile_parquet(path)["duplicateRows"]["count"] == 0


def test_duplicate_rows_across_row_groups_with_string_columns(tmp_path):
    # Each row group has its own string dictionary; equal strings must still compare equal.
    names = ["张三", "李四", "王五", "赵六"] * 25 + ["张三", "李四"]
    values = [*range(100), 0, 1]
    path = write(
        tmp_path, {"name": pa.array(names), "v": pa.array(values)}, row_group_size=7, use_dictionary=True
    )
    report = profile_parquet(path)

    assert report["duplicateRows"]["count"] == 2
    name = col(report, "name")
    assert name["distinct"] == 4
    assert name["topValues"][0] == {"value": "张三", "count": 26, "share": 26 / 102}


def test_duplicate_keys_count_and_examples(tmp_path):
    path = write(
        tmp_path,
        {
            "客户号": pa.array(["A", "A", "A", "B", "B", "C", "D", "D"]),
            "month": pa.array([1, 1, 1, 1, 2, 1, 5, 5]),
            "amount": pa.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]),
        },
    )
    report = profile_parquet(path, key_columns=["客户号", "month"])

    keys = report["duplicateKeys"]
    assert keys["columns"] == ["客户号", "month"]
    assert keys["count"] == 3  # (A,1) twice more, (D,5) once more
    assert keys["share"] == 3 / 8
    assert keys["examples"] == [
        {"key": {"客户号": "A", "month": 1}, "count": 3},
        {"key": {"客户号": "D", "month": 5}, "count": 2},
    ]
    assert report["duplicateRows"]["count"] == 0
    assert "duplicate_keys" in codes(report)


# --- numerical statistics ----------------------------------------------------------------


def test_quantiles_mean_std_match_numpy(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.lognormal(3, 1, 5001)
    x[::17] = np.nan
    report = profile_parquet(write(tmp_path, {"x": pa.array(x)}))
    finite = x[np.isfinite(x)]
    c = col(report, "x")

    qs = {"p1": 1, "p5": 5, "p25": 25, "p50": 50, "p75": 75, "p95": 95, "p99": 99}
    for key, q in qs.items():
        assert c["quantiles"][key] == pytest.approx(np.percentile(finite, q), rel=1e-12)
    assert c["mean"] == pytest.approx(finite.mean(), rel=1e-12)
    assert c["std"] == pytest.approx(finite.std(ddof=1), rel=1e-12)
    assert c["distinct"] == len(np.unique(finite))


def test_histogram_matches_numpy_and_sums_to_count(tmp_path):
    rng = np.random.default_rng(4)
    x = np.round(rng.normal(0, 1, 3000), 2)  # rounding puts values on bin edges too
    report = profile_parquet(write(tmp_path, {"x": pa.array(x)}), thresholds=Thresholds(histogram_bins=15))
    hist = col(report, "x")["histogram"]

    counts, edges = np.histogram(x, bins=15)
    assert hist["counts"] == counts.tolist()
    assert hist["edges"] == pytest.approx(edges.tolist())
    assert sum(hist["counts"]) == col(report, "x")["count"] == 3000


def test_iqr_and_zscore_outliers_on_known_data(tmp_path):
    x = np.concatenate([np.arange(1.0, 101.0), [1000.0, 250.0, -90.0]])
    report = profile_parquet(write(tmp_path, {"x": pa.array(x)}))
    out = col(report, "x")["outliers"]

    # p25 = 25.5, p75 = 76.5, IQR = 51: fences at -51 and 153, so all three planted values.
    assert out["iqr"]["lower"] == -51.0
    assert out["iqr"]["upper"] == 153.0
    assert out["iqr"]["count"] == 3
    assert out["iqr"]["share"] == 3 / 103
    # mean 60.3, sd 100.7: only 1000 (z = 9.3) is beyond 3; 250 has z = 1.9.
    z = np.abs((x - x.mean()) / x.std(ddof=1))
    assert out["zscore"]["count"] == int((z > 3).sum()) == 1
    assert out["zscore"]["share"] == 1 / 103
    assert out["zscore"]["threshold"] == 3.0


def test_zscore_counts_on_normal_data_with_planted_outliers(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(50, 5, 10_000)
    x[:40] = 500.0
    report = profile_parquet(write(tmp_path, {"x": pa.array(x)}))
    z = np.abs((x - x.mean()) / x.std(ddof=1))

    assert col(report, "x")["outliers"]["zscore"]["count"] == int((z > 3).sum())
    q1, q3 = np.percentile(x, [25, 75])
    iqr_count = int(((x < q1 - 1.5 * (q3 - q1)) | (x > q3 + 1.5 * (q3 - q1))).sum())
    assert col(report, "x")["outliers"]["iqr"]["count"] == iqr_count


def test_outlier_share_above_threshold_raises_an_alert(tmp_path):
    x = np.concatenate([np.linspace(0, 1, 90), np.full(10, 100.0)])
    report = profile_parquet(write(tmp_path, {"x": pa.array(x)}))

    assert col(report, "x")["outliers"]["iqr"]["count"] == 10
    alert = next(a for a in report["alerts"] if a["code"] == "outliers")
    assert alert["column"] == "x"


# --- categories, constants, kinds --------------------------------------------------------


def test_top_values_of_a_categorical_column(tmp_path):
    s = ["上海"] * 5 + ["北京"] * 3 + ["深圳"] * 2 + [None] * 2 + ["上海", "北京", "广州"] * 4
    report = profile_parquet(
        write(tmp_path, {"city": pa.array(s)}), thresholds=Thresholds(max_categories_listed=3)
    )
    c = col(report, "city")

    assert c["kind"] == "categorical"
    assert (c["count"], c["missing"], c["distinct"], c["cardinality"]) == (22, 2, 4, 4)
    assert c["topValues"] == [
        {"value": "上海", "count": 9, "share": 9 / 22},
        {"value": "北京", "count": 7, "share": 7 / 22},
        {"value": "广州", "count": 4, "share": 4 / 22},
    ]
    assert c["topValueShare"] == 9 / 22


def test_unique_strings_are_text(tmp_path):
    report = profile_parquet(write(tmp_path, {"memo": pa.array([f"备注{i}" for i in range(100)])}))
    c = col(report, "memo")
    assert c["kind"] == "text"
    assert c["distinct"] == 100
    assert len(c["topValues"]) == 20


def test_constant_and_near_constant_flags(tmp_path):
    near = ["a"] * 995 + ["b"] * 5
    path = write(
        tmp_path,
        {
            "const": pa.array([7] * 1000),
            "near": pa.array(near),
            "flag": pa.array([0] * 995 + [1] * 5),  # binary: flag nothing
            "varied": pa.array(np.arange(1000) % 10),
            "empty": pa.array([None] * 1000, pa.float64()),
        },
    )
    report = profile_parquet(path)

    assert col(report, "const")["constant"] is True
    assert col(report, "near")["constant"] is False
    assert col(report, "near")["nearConstant"] is True
    assert col(report, "near")["topValueShare"] == 0.995
    flag = col(report, "flag")
    assert flag["kind"] == "numerical"
    assert flag["binary"] is True
    assert flag["nearConstant"] is False
    assert flag["outliers"]["iqr"]["count"] == 0
    assert col(report, "varied")["constant"] is False
    assert col(report, "varied")["nearConstant"] is False
    assert col(report, "empty")["constant"] is True
    by_code = {(a["code"], a["column"]) for a in report["alerts"]}
    assert ("constant_column", "const") in by_code
    assert ("near_constant_column", "near") in by_code
    assert not any(column == "flag" for _, column in by_code)
    assert not any(column == "varied" for _, column in by_code)


def test_boolean_column(tmp_path):
    report = profile_parquet(write(tmp_path, {"b": pa.array([True, False, True, None, True])}))
    c = col(report, "b")
    assert c["kind"] == "boolean"
    assert (c["count"], c["missing"], c["distinct"]) == (4, 1, 2)
    assert c["topValues"][0] == {"value": True, "count": 3, "share": 0.75}


@pytest.mark.parametrize(
    ("arrow_type", "distinct", "count", "kind"),
    [
        (pa.int32(), 2, 100, "numerical"),
        (pa.float64(), 90, 100, "numerical"),
        (pa.decimal128(10, 2), 5, 100, "numerical"),
        (pa.bool_(), 2, 100, "boolean"),
        (pa.timestamp("us"), 100, 100, "datetime"),
        (pa.date32(), 3, 100, "datetime"),
        (pa.string(), 50, 100, "categorical"),
        (pa.string(), 51, 100, "text"),
        (pa.large_string(), 1001, 1_000_000, "text"),
        (pa.string(), 1000, 1_000_000, "categorical"),
        (pa.string(), 0, 0, "categorical"),
        (pa.dictionary(pa.int32(), pa.string()), 3, 100, "categorical"),
        (pa.list_(pa.int64()), 3, 100, "text"),
    ],
)
def test_column_kind(arrow_type, distinct, count, kind):
    assert column_kind(arrow_type, distinct, count) == kind


def test_timestamp_column_min_max_and_monthly_histogram(tmp_path):
    stamps = [datetime(2023, 1, 15, 8, 30), datetime(2023, 3, 2), datetime(2023, 3, 31), None]
    report = profile_parquet(write(tmp_path, {"t": pa.array(stamps, pa.timestamp("us"))}))
    c = col(report, "t")

    assert c["kind"] == "datetime"
    assert (c["min"], c["max"]) == ("2023-01-15T08:30:00", "2023-03-31T00:00:00")
    assert c["histogram"] == {
        "period": "month",
        "labels": ["2023-01", "2023-02", "2023-03"],
        "counts": [1, 0, 2],
    }


# --- time completeness -------------------------------------------------------------------


def daily_with_gaps() -> list[date]:
    """January 2024 minus the 10th, 11th and 20th, plus two dates after NOW, some doubled."""
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(31)]
    days = [d for d in days if d.day not in (10, 11, 20)]
    return days + days[:5] + [date(2024, 4, 1), date(2024, 5, 1)]


@pytest.mark.parametrize("as_type", ["date", "timestamp", "string", "yyyymmdd"])
def test_time_gaps_and_future_dates_on_a_daily_series(tmp_path, as_type):
    days = daily_with_gaps()
    values = {
        "date": pa.array(days, pa.date32()),
        "timestamp": pa.array([datetime(d.year, d.month, d.day) for d in days], pa.timestamp("ms")),
        "string": pa.array([d.isoformat() for d in days]),
        "yyyymmdd": pa.array([int(d.strftime("%Y%m%d")) for d in days]),
    }[as_type]
    report = profile_parquet(write(tmp_path, {"日期": values}), time_column="日期", now=NOW)
    time = report["time"]

    assert time["column"] == "日期"
    assert time["frequency"] == "day"
    assert time["expectedPeriods"] == 31
    assert time["presentPeriods"] == 28
    assert time["missingPeriods"] == 3
    assert time["gapCount"] == 2
    assert time["gaps"] == [
        {"from": "2024-01-10", "to": "2024-01-11", "missingPeriods": 2},
        {"from": "2024-01-20", "to": "2024-01-20", "missingPeriods": 1},
    ]
    assert time["futureCount"] == 2
    assert time["unparseable"] == 0
    assert time["min"].startswith("2024-01-01")
    assert time["max"].startswith("2024-05-01")
    assert {"time_gaps", "future_timestamps"} <= codes(report)
    assert next(a for a in report["alerts"] if a["code"] == "future_timestamps")["level"] == "error"


def test_string_time_column_reports_unparseable_values_and_chinese_dates(tmp_path):
    values = [
        "2024年1月1日",
        "2024-01-02",
        "2024/01/03",
        "20240104",
        "not a date",
        None,
        "2024-01-05 10:30:00",
    ]
    report = profile_parquet(write(tmp_path, {"d": pa.array(values)}), time_column="d", now=NOW)
    time = report["time"]

    assert time["unparseable"] == 1
    assert time["presentPeriods"] == 5
    assert time["gapCount"] == 0
    assert col(report, "d")["kind"] == "datetime"
    assert "unparseable_timestamps" in codes(report)


def test_monthly_series_is_recognised_with_month_end_dates(tmp_path):
    months = [date(2023, m, 28) for m in range(1, 13) if m != 6]
    report = profile_parquet(write(tmp_path, {"m": pa.array(months)}), time_column="m", now=NOW)
    time = report["time"]
    assert time["frequency"] == "month"
    assert time["gaps"] == [{"from": "2023-06-01", "to": "2023-06-01", "missingPeriods": 1}]


def test_future_is_relative_to_now_given_with_a_timezone(tmp_path):
    from datetime import UTC

    stamps = pa.array([datetime(2024, 1, 1, 10), datetime(2024, 1, 1, 12)], pa.timestamp("s"))
    path = write(tmp_path, {"t": stamps})
    report = profile_parquet(path, time_column="t", now=datetime(2024, 1, 1, 11, tzinfo=UTC))
    assert report["time"]["futureCount"] == 1


# --- label -------------------------------------------------------------------------------


def test_label_bad_rate_of_a_binary_label(tmp_path):
    y = [0] * 80 + [1] * 20
    report = profile_parquet(write(tmp_path, {"y": pa.array(y)}), label="y")
    label = report["label"]

    assert label["column"] == "y"
    assert label["badRate"] == 0.2
    assert label["classes"] == [
        {"value": 0, "count": 80, "share": 0.8},
        {"value": 1, "count": 20, "share": 0.2},
    ]
    assert label["imbalanced"] is False
    assert "label_imbalance" not in codes(report)


def test_label_bad_rate_is_the_positive_class_even_when_it_is_the_majority(tmp_path):
    report = profile_parquet(write(tmp_path, {"y": pa.array([1.0] * 7 + [0.0] * 3 + [None])}), label="y")
    assert report["label"]["badRate"] == 0.7
    assert report["label"]["missing"] == 1


def test_string_label_bad_rate_is_the_minority_class_and_imbalance_alerts(tmp_path):
    y = ["正常"] * 995 + ["逾期"] * 5
    report = profile_parquet(write(tmp_path, {"标签": pa.array(y)}), label="标签")
    label = report["label"]

    assert label["badRate"] == 0.005
    assert label["imbalanced"] is True
    assert "label_imbalance" in codes(report)
    assert report["scoreBreakdown"]["labelImbalance"] > 0


def test_single_class_label_is_an_error(tmp_path):
    report = profile_parquet(write(tmp_path, {"y": pa.array([0] * 10), "x": pa.array(range(10))}), label="y")
    assert report["label"]["badRate"] is None
    assert "label_single_class" in codes(report)


# --- score -------------------------------------------------------------------------------


def degrade(columns: dict, rows: np.ndarray, **replace: pa.Array) -> dict:
    out = {name: values.take(pa.array(rows)) for name, values in columns.items()}
    out.update(replace)
    return out


@pytest.mark.parametrize("problem", ["missing", "duplicates", "outliers", "future", "gaps", "constant"])
def test_score_decreases_monotonically_as_quality_worsens(tmp_path, problem):
    base = clean_columns(1000)
    n = 1000
    scores = []
    # Up to 20 %: beyond 25 % contamination the quartiles themselves are outliers.
    for step, share in enumerate([0.0, 0.05, 0.1, 0.2]):
        k = int(share * n)
        columns = dict(base)
        if problem == "missing":
            amount = np.asarray(base["amount"]).copy()
            amount[:k] = np.nan
            columns["amount"] = pa.array(amount)
        elif problem == "duplicates":
            rows = np.concatenate([np.arange(n - k), np.arange(k)])
            columns = degrade(base, rows)
        elif problem == "outliers":
            amount = np.asarray(base["amount"]).copy()
            amount[:k] = 1e7
            columns["amount"] = pa.array(amount)
        elif problem == "future":
            day = np.asarray(base["day"]).copy()
            day[: k // 10] = np.datetime64("2030-01-01")
            columns["day"] = pa.array(day)
        elif problem == "gaps":
            day = np.asarray(base["day"]).copy()
            start = np.datetime64("2023-03-01")
            lost = (day >= start) & (day < start + np.timedelta64(int(share * 365), "D"))
            day[lost] = np.datetime64("2023-01-01")
            columns["day"] = pa.array(day)
        elif problem == "constant":
            for i in range(int(share * 20)):
                columns[f"const{i}"] = pa.array(np.zeros(n))
        scores.append(profile_clean(tmp_path, columns, f"{problem}{step}.parquet")["score"])
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores), scores


def test_score_breakdown_adds_up_and_low_score_alerts(tmp_path):
    columns = clean_columns(500)
    amount = np.asarray(columns["amount"]).copy()
    amount[:400] = np.nan
    columns["amount"] = pa.array(amount)
    columns = degrade(columns, np.concatenate([np.arange(500), np.arange(300)]))
    report = profile_clean(tmp_path, columns)

    assert report["score"] == pytest.approx(100 - sum(report["scoreBreakdown"].values()), abs=0.01)
    assert report["score"] < 70
    assert {"low_quality_score", "duplicate_rows", "duplicate_keys", "high_missing"} <= codes(report)
    low = next(a for a in report["alerts"] if a["code"] == "low_quality_score")
    assert low["level"] == "error"
    assert low["column"] is None


# --- Chinese names and values -------------------------------------------------------------


def test_chinese_column_names_and_values_round_trip(tmp_path):
    path = write(
        tmp_path,
        {
            "省份": pa.array(["广东", "浙江", "广东", "四川"] * 10),
            AMOUNT: pa.array(np.arange(40) * 1000.0),
            "是否逾期": pa.array([0, 0, 0, 1] * 10),
            "观察日": pa.array([f"2024年1月{i % 28 + 1}日" for i in range(40)]),
        },
    )
    report = profile_parquet(path, label="是否逾期", time_column="观察日", now=NOW)
    text = json.dumps(report, ensure_ascii=False, allow_nan=False)

    assert "广东" in text
    assert AMOUNT in text
    assert [c["name"] for c in report["columns"]] == ["省份", AMOUNT, "是否逾期", "观察日"]
    assert col(report, "省份")["topValues"][0] == {"value": "广东", "count": 20, "share": 0.5}
    assert report["label"]["badRate"] == 0.25
    assert report["time"]["frequency"] == "day"
    assert report["time"]["unparseable"] == 0
    assert json.loads(text) == report


def test_integer_time_column_counts_values_that_are_not_yyyymmdd(tmp_path):
    path = write(
        tmp_path, {"dt": pa.array([20240101, 20240102, 20240102, 5, 20241399, None, 1e20, 20240101.5])}
    )
    report = profile_parquet(path, time_column="dt", now=NOW)
    assert report["time"]["unparseable"] == 4
    assert report["time"]["presentPeriods"] == 2
    assert col(report, "dt")["kind"] == "numerical"


def test_time_column_that_cannot_hold_dates_is_all_unparseable(tmp_path):
    report = profile_parquet(write(tmp_path, {"b": pa.array([True, False, None])}), time_column="b", now=NOW)
    assert report["time"]["unparseable"] == 2
    assert report["time"]["frequency"] is None
    assert "unparseable_timestamps" in codes(report)
