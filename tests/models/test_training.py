"""The pure training engine: splits, LightGBM and scikit-learn models, cancel, fallback, validation."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pyarrow as pa
import pytest

from apps.models import artifacts as A
from apps.models import training as T

KEY = b"k"


def binary_table(n: int = 3000, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    grade = rng.choice(["A", "B", "C"], size=n)
    x2[rng.random(n) < 0.05] = np.nan
    logit = 2.0 * x1 - 1.0 * np.nan_to_num(x2) + 1.5 * (grade == "A")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pa.table({"x1": x1, "x2": x2, "grade": grade, "y": y, "t": np.arange(n)})


def spec(**kw) -> T.TrainingSpec:
    base = {"algorithm": "lightgbm", "objective": "binary", "label": "y", "features": ["x1", "x2", "grade"]}
    base.update(kw)
    return T.TrainingSpec(**base)


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return binary_table()


def test_lightgbm_binary_learns_and_reports_every_round(table):
    seen = []
    result = T.train(
        spec(params={"num_boost_round": 40}), table, on_round=lambda info: seen.append(info) or True
    )
    assert result.model_format == "lightgbm-text"
    assert result.metrics["auc"] > 0.75
    assert set(result.metrics) == {"auc", "logloss", "ks", "accuracy"}
    assert [r.round for r in seen] == list(range(1, 41))
    assert all(r.total_rounds == 40 and r.train_loss is not None and r.valid_loss is not None for r in seen)
    assert "valid_auc" in seen[-1].metrics
    assert len(result.rounds) == 40 and result.rounds[0]["round"] == 1
    assert result.best_iteration == 40
    assert result.rows == {"train": 2400, "valid": 600, "dropped": 0}
    assert result.categorical_levels == {"grade": ["A", "B", "C"]}
    assert set(result.library_versions) == {"lightgbm", "scikit-learn", "numpy", "pyarrow"}
    assert result.fallback is None


def test_lightgbm_artifact_round_trip_scores_like_training(table):
    result = T.train(spec(params={"num_boost_round": 20}), table)
    art = A.unpack(A.pack(result.model_bytes, result.model_format, key=KEY, meta=result.meta), key=KEY)
    booster = A.load_model(art)
    scores = T.predict(art.format, booster, table, art.meta)
    assert scores.shape == (table.num_rows,)
    assert ((scores >= 0) & (scores <= 1)).all()


def test_early_stopping_stops_before_the_round_limit_on_noise():
    rng = np.random.default_rng(1)
    n = 3000
    noise = pa.table({"a": rng.normal(size=n), "b": rng.normal(size=n), "y": rng.integers(0, 2, size=n)})
    result = T.train(
        spec(features=["a", "b"], params={"num_boost_round": 500, "early_stopping_rounds": 10}), noise
    )
    assert result.best_iteration < 100
    assert len(result.rounds) < 500


def test_same_spec_data_and_seed_give_identical_model_bytes(table):
    s = spec(params={"num_boost_round": 30, "bagging_fraction": 0.8, "feature_fraction": 0.7}, seed=7)
    first, second = T.train(s, table), T.train(s, table)
    assert first.model_bytes == second.model_bytes
    assert first.metrics == second.metrics
    other = T.train(
        spec(params={"num_boost_round": 30, "bagging_fraction": 0.8, "feature_fraction": 0.7}, seed=8), table
    )
    assert other.model_bytes != first.model_bytes


def test_multiclass_lightgbm():
    rng = np.random.default_rng(2)
    n = 3000
    x = rng.normal(size=(n, 2))
    y = np.where(x[:, 0] > 0.5, "high", np.where(x[:, 0] < -0.5, "low", "mid"))
    tb = pa.table({"a": x[:, 0], "b": x[:, 1], "y": y})
    result = T.train(spec(objective="multiclass", features=["a", "b"], params={"num_boost_round": 30}), tb)
    assert set(result.metrics) == {"accuracy", "f1_macro", "logloss"}
    assert result.metrics["accuracy"] > 0.9
    assert result.meta["label_classes"] == ["high", "low", "mid"]
    booster = A.load_model(A.unpack(A.pack(result.model_bytes, "lightgbm-text", key=KEY, meta={}), key=KEY))
    assert T.predict("lightgbm-text", booster, tb, result.meta).shape == (n, 3)


def test_regression_lightgbm_and_random_forest():
    rng = np.random.default_rng(3)
    n = 3000
    x = rng.normal(size=(n, 2))
    tb = pa.table({"a": x[:, 0], "b": x[:, 1], "y": 3 * x[:, 0] + rng.normal(scale=0.1, size=n)})
    for algorithm in ("lightgbm", "random_forest"):
        result = T.train(
            spec(
                algorithm=algorithm,
                objective="regression",
                features=["a", "b"],
                params={"n_estimators": 20} if algorithm == "random_forest" else {},
            ),
            tb,
        )
        assert set(result.metrics) == {"rmse", "mae", "r2"}
        assert result.metrics["r2"] > 0.9, algorithm


@pytest.mark.parametrize(
    ("algorithm", "params"),
    [("logistic_regression", {"C": 0.5}), ("random_forest", {"n_estimators": 30, "max_depth": 6})],
)
def test_sklearn_models_round_trip_through_skops(table, algorithm, params):
    seen = []
    result = T.train(
        spec(algorithm=algorithm, params=params), table, on_round=lambda i: seen.append(i) or True
    )
    assert result.model_format == "skops"
    assert result.metrics["auc"] > 0.75
    assert len(seen) == 1
    art = A.unpack(A.pack(result.model_bytes, "skops", key=KEY, meta=result.meta), key=KEY)
    model = A.load_model(art)
    scores = T.predict("skops", model, table.slice(0, 100), art.meta)
    assert scores.shape == (100,)


@pytest.mark.parametrize("algorithm", ["lightgbm", "logistic_regression"])
def test_unseen_and_missing_categories_score_as_missing(table, algorithm):
    result = T.train(
        spec(algorithm=algorithm, params={"num_boost_round": 20} if algorithm == "lightgbm" else {}), table
    )
    art = A.unpack(A.pack(result.model_bytes, result.model_format, key=KEY, meta=result.meta), key=KEY)
    model = A.load_model(art)
    new = pa.table({"x1": [0.1, 0.1, 0.1], "x2": [0.0, 0.0, 0.0], "grade": ["Z", None, "A"]})
    scores = T.predict(result.model_format, model, new, art.meta)
    assert scores.shape == (3,)
    assert np.isfinite(scores).all()
    # Unseen "Z" and a null level are both "missing", so they score alike.
    assert scores[0] == pytest.approx(scores[1])


def test_predict_accepts_a_dataframe_and_dictionary_columns(table):
    result = T.train(spec(params={"num_boost_round": 10}), table)
    booster = lgb.Booster(model_str=result.model_bytes.decode())
    frame = table.slice(0, 50).to_pandas()
    frame["grade"] = frame["grade"].astype("category")
    from_frame = T.predict("lightgbm-text", booster, frame, result.meta)
    from_table = T.predict("lightgbm-text", booster, table.slice(0, 50), result.meta)
    np.testing.assert_array_equal(from_frame, from_table)


def test_time_split_holds_out_the_latest_rows(table, monkeypatch):
    shuffled = table.take(np.random.default_rng(5).permutation(table.num_rows))
    captured = {}
    real = T.fit._split_order

    def spy(*args, **kwargs):
        order, n_train = real(*args, **kwargs)
        captured["order"], captured["n_train"] = order, n_train
        return order, n_train

    monkeypatch.setattr(T.fit, "_split_order", spy)
    result = T.train(spec(split="time", time_column="t", params={"num_boost_round": 5}), shuffled)
    t = shuffled.column("t").to_numpy()
    order, n_train = captured["order"], captured["n_train"]
    assert result.rows["valid"] == 600
    assert t[order[n_train:]].min() > t[order[:n_train]].max()
    assert sorted(t[order[n_train:]]) == list(range(2400, 3000))


def test_stratified_split_keeps_the_class_share(table, monkeypatch):
    captured = {}
    real = T.fit._split_order
    monkeypatch.setattr(T.fit, "_split_order", lambda *a, **k: captured.setdefault("r", real(*a, **k)))
    T.train(spec(split="stratified", params={"num_boost_round": 5}), table)
    order, n_train = captured["r"]
    y = table.column("y").to_numpy()
    assert abs(y[order[n_train:]].mean() - y.mean()) < 0.01


def test_on_round_returning_false_cancels(table):
    rounds = []

    def stop_at_three(info):
        rounds.append(info.round)
        return info.round < 3

    with pytest.raises(T.Cancelled):
        T.train(spec(params={"num_boost_round": 50}), table, on_round=stop_at_three)
    assert rounds == [1, 2, 3]


def test_on_round_error_propagates_and_does_not_trigger_fallback(table):
    def broken(info):
        raise RuntimeError("log write failed")

    with pytest.raises(RuntimeError, match="log write failed"):
        T.train(spec(params={"num_boost_round": 5}), table, on_round=broken)


def test_lightgbm_failure_falls_back_to_logistic_regression(table, monkeypatch):
    def fail(*args, **kwargs):
        raise lgb.basic.LightGBMError("out of memory in the histogram")

    monkeypatch.setattr(T.lgb, "train", fail)
    result = T.train(spec(), table)
    assert result.model_format == "skops"
    assert result.algorithm == "logistic_regression"
    assert result.fallback["from"] == "lightgbm"
    assert "out of memory" in result.fallback["reason"]
    assert result.metrics["auc"] > 0.75
    model = A.load_model(A.unpack(A.pack(result.model_bytes, "skops", key=KEY, meta={}), key=KEY))
    assert type(model.named_steps["model"]).__name__ == "LogisticRegression"


def test_regression_fallback_is_a_random_forest(monkeypatch):
    rng = np.random.default_rng(4)
    tb = pa.table({"a": rng.normal(size=300), "y": rng.normal(size=300)})
    monkeypatch.setattr(
        T.lgb, "train", lambda *a, **k: (_ for _ in ()).throw(lgb.basic.LightGBMError("boom"))
    )
    result = T.train(spec(objective="regression", features=["a"]), tb)
    assert result.algorithm == "random_forest" and result.fallback["reason"].endswith("boom")


def test_rows_without_a_label_are_dropped(table):
    y = table.column("y").to_pylist()
    y[:100] = [None] * 100
    tb = table.set_column(table.schema.get_field_index("y"), "y", pa.array(y, pa.int64()))
    result = T.train(spec(params={"num_boost_round": 5}), tb)
    assert result.rows["dropped"] == 100
    assert result.rows["train"] + result.rows["valid"] == 2900


def test_round_log_is_capped(monkeypatch, table):
    monkeypatch.setattr(T.fit, "MAX_ROUNDS_KEPT", 10)
    result = T.train(spec(params={"num_boost_round": 50, "num_leaves": 4}), table)
    assert len(result.rounds) == 10
    assert result.rounds[0]["round"] == 1 and result.rounds[-1]["round"] == 50


COLUMNS = {"x1": "double", "x2": "double", "grade": "string", "y": "int64", "t": "timestamp[us]"}


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"algorithm": "xgboost"}, "unknown algorithm"),
        ({"objective": "ranking"}, "unknown objective"),
        ({"algorithm": "logistic_regression", "objective": "regression"}, "binary and multiclass"),
        ({"params": {"num_trees": 10}}, "unknown parameter 'num_trees'"),
        ({"params": {"num_boost_round": "100"}}, "wrong type"),
        ({"params": {"num_boost_round": True}}, "wrong type"),
        ({"params": {"num_boost_round": 2.5}}, "must be an integer"),
        ({"params": {"num_boost_round": 0}}, "out of range"),
        ({"params": {"num_boost_round": 10001}}, "out of range"),
        ({"params": {"learning_rate": 0}}, "out of range"),
        ({"params": {"learning_rate": 1.5}}, "out of range"),
        ({"params": {"num_leaves": 1}}, "out of range"),
        ({"params": {"max_depth": -2}}, "out of range"),
        ({"params": {"lambda_l2": -1}}, "out of range"),
        ({"params": {"early_stopping_rounds": 1001}}, "out of range"),
        ({"params": {"learning_rate": None}}, "must not be null"),
        ({"algorithm": "logistic_regression", "params": {"C": 0}}, "out of range"),
        ({"algorithm": "random_forest", "params": {"n_estimators": 2001}}, "out of range"),
        ({"algorithm": "random_forest", "params": {"max_depth": 65}}, "out of range"),
        ({"label": "target"}, "label column 'target' does not exist"),
        ({"features": ["x1", "nope"]}, "do not exist: nope"),
        ({"features": []}, "at least one feature"),
        ({"features": ["x1", "y"]}, "cannot also be a feature"),
        ({"features": ["x1", "t"]}, "unsupported type"),
        ({"categorical": ["x9"]}, "categorical columns are not features"),
        ({"split": "kfold"}, "unknown split"),
        ({"split": "time"}, "needs a time_column"),
        ({"split": "time", "time_column": "when"}, "time column 'when' does not exist"),
        ({"validation_share": 0.9}, "validation_share"),
        ({"seed": -1}, "seed"),
        ({"num_threads": 0}, "num_threads"),
        ({"num_threads": 65}, "num_threads"),
    ],
)
def test_validate_spec_catches_each_bad_input(changes, fragment):
    problems = T.validate_spec(spec(**changes), COLUMNS)
    assert any(fragment in p for p in problems), problems


def test_validate_spec_accepts_a_good_spec_and_rf_null_depth():
    assert T.validate_spec(spec(params={"num_boost_round": 200, "learning_rate": 0.05}), COLUMNS) == []
    assert T.validate_spec(spec(algorithm="random_forest", params={"max_depth": None}), COLUMNS) == []
    assert T.validate_spec(spec(split="time", time_column="t"), COLUMNS) == []


def test_validate_spec_catches_a_single_class_label():
    assert any("needs two" in p for p in T.validate_spec(spec(), COLUMNS, label_classes=1))
    assert any("exactly two" in p for p in T.validate_spec(spec(), COLUMNS, label_classes=3))


def test_train_raises_spec_error_with_problems(table):
    one_class = table.set_column(3, "y", pa.array(np.zeros(table.num_rows, dtype=np.int64)))
    with pytest.raises(T.SpecError) as err:
        T.train(spec(), one_class)
    assert any("class" in p for p in err.value.problems)
    with pytest.raises(T.SpecError) as err:
        T.train(spec(params={"bogus": 1}, label="nope"), table)
    assert len(err.value.problems) == 2
