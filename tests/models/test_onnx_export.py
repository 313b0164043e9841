"""ONNX exports: every exportable model agrees with its own scores, checked again here."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pyarrow as pa
import pytest

from apps.models import artifacts as A
from apps.models import training as T
from apps.models.exports import _trees
from apps.models.exports import onnx as E

KEY = b"k"


def make_table(n: int = 1500, seed: int = 3) -> pa.Table:
    """Numbers on very different scales, NaNs, a categorical string column with nulls."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    income = rng.lognormal(9, 1, size=n)
    income[rng.random(n) < 0.07] = np.nan
    grade = rng.choice(list("ABCDEFG"), size=n).astype(object)
    grade[rng.random(n) < 0.05] = None
    good = np.isin(grade, ["A", "C", "F"])
    logit = 1.5 * x1 - np.nan_to_num(np.log(income) - 9) + 1.2 * good
    return pa.table(
        {
            "x1": x1,
            "income": income,
            "grade": pa.array(list(grade), pa.string()),
            "y": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64),
            "tier": np.digitize(logit + rng.normal(size=n) * 0.3, [-0.5, 1.0]).astype(np.int64),
            "loss": 5000.0 * logit + rng.normal(size=n) * 300,
        }
    )


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return make_table()


def trained(table, algorithm: str, objective: str, **params):
    label = {"binary": "y", "multiclass": "tier", "regression": "loss"}[objective]
    spec = T.TrainingSpec(
        algorithm=algorithm,
        objective=objective,
        label=label,
        features=["x1", "income", "grade"],
        params=params,
    )
    result = T.train(spec, table)
    assert result.fallback is None
    art = A.unpack(A.pack(result.model_bytes, result.model_format, key=KEY, meta=result.meta), key=KEY)
    holdout = T.feature_matrix(T.holdout_table(spec, table), result.meta)
    return result.model_format, A.load_model(art), result.meta, holdout


CASES = [
    ("lightgbm", "binary", {"num_boost_round": 60}),
    ("lightgbm", "multiclass", {"num_boost_round": 30}),
    ("lightgbm", "regression", {"num_boost_round": 60}),
    ("logistic_regression", "binary", {}),
    ("logistic_regression", "multiclass", {}),
    ("random_forest", "binary", {"n_estimators": 20}),
    ("random_forest", "regression", {"n_estimators": 20}),
]


def with_edge_rows(X: np.ndarray) -> np.ndarray:
    """Add rows with a missing number, a missing category and an unseen category code."""
    edge = np.repeat(X[:3], 3, axis=0)
    edge[0:3, 1] = np.nan
    edge[3:6, 2] = np.nan
    edge[6:9, 2] = 99.0
    return np.vstack([X, edge])


def scores_of(out: np.ndarray, objective: str) -> np.ndarray:
    if objective == "binary":
        return out[:, 1]  # column 1 is the event class
    return out if objective == "multiclass" else out.reshape(-1)


@pytest.mark.parametrize(("algorithm", "objective", "params"), CASES)
def test_export_agrees_with_the_model_within_1e_6(table, algorithm, objective, params):
    model_format, model, meta, X = trained(table, algorithm, objective, **params)
    X = with_edge_rows(X)
    export = E.onnx_export(model_format, model, meta, X)

    assert export.max_abs_diff <= 1e-6
    assert export.rows_checked == len(X)
    assert export.input_name == "features"
    assert export.opset["ai.onnx"] >= 13 and "onnxruntime" in export.library_versions

    # The check again, independently: onnxruntime on the exported bytes, read by hand.
    session = ort.InferenceSession(export.onnx_bytes, providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["features"]
    (out,) = session.run([export.output_name], {"features": X.astype(np.float64)})
    expected = T.score_matrix(model_format, model, X, objective)
    got = scores_of(out, objective)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= 1e-6
    if objective != "regression":
        assert np.allclose(out.sum(axis=1), 1.0)


def test_lightgbm_categorical_splits_are_native_set_membership(table):
    model_format, model, meta, X = trained(table, "lightgbm", "binary", num_boost_round=40)
    dump = model.dump_model()
    categorical_splits = []

    def walk(node):
        if "split_feature" in node:
            if node["decision_type"] == "==":
                categorical_splits.append(node)
            walk(node["left_child"])
            walk(node["right_child"])

    for tree in dump["tree_info"]:
        walk(tree["tree_structure"])
    assert categorical_splits, "the model should split on the categorical column"
    ens = _trees.lightgbm_ensemble(dump)
    assert ens.modes.count(_trees.BRANCH_MEMBER) == len(categorical_splits)
    assert E.onnx_export(model_format, model, meta, with_edge_rows(X)).max_abs_diff <= 1e-6


def test_check_rows_are_capped(table, monkeypatch):
    model_format, model, meta, X = trained(table, "logistic_regression", "binary")
    monkeypatch.setattr(E, "MAX_CHECK_ROWS", 50)
    assert E.onnx_export(model_format, model, meta, X).rows_checked == 50


@pytest.mark.parametrize("model_format", ["omm-scorecard", "pickle", ""])
def test_formats_without_a_converter_are_refused_with_the_exportable_ones_named(model_format):
    meta = {"objective": "binary", "features": ["a"]}
    with pytest.raises(E.ExportUnsupported) as info:
        E.onnx_export(model_format, object(), meta, np.zeros((3, 1)))
    assert "lightgbm-text" in str(info.value) and "skops" in str(info.value)
    assert isinstance(info.value, E.ExportError) and isinstance(info.value, ValueError)
    assert info.value.template.startswith("models stored as")


def test_a_corrupted_graph_is_caught_by_the_check(table, monkeypatch):
    """A converter step that writes one wrong leaf: the verification refuses the export."""
    model_format, model, meta, X = trained(table, "lightgbm", "binary", num_boost_round=20)
    real = _trees.lightgbm_ensemble

    def one_leaf_off(dump):
        ens = real(dump)
        ens.leaf_weights[0] += 0.05
        return ens

    monkeypatch.setattr(_trees, "lightgbm_ensemble", one_leaf_off)
    with pytest.raises(E.ExportError, match="disagrees with the trained model") as info:
        E.onnx_export(model_format, model, meta, X)
    assert not isinstance(info.value, E.ExportUnsupported)
    assert float(info.value.params["diff"]) > 1e-6


def test_a_graph_onnxruntime_cannot_run_is_an_export_error(table, monkeypatch):
    model_format, model, meta, X = trained(table, "lightgbm", "binary", num_boost_round=5)
    real = _trees.lightgbm_ensemble

    def bad_feature(dump):
        ens = real(dump)
        ens.features[0] = 99  # a column the input does not have
        return ens

    monkeypatch.setattr(_trees, "lightgbm_ensemble", bad_feature)
    with pytest.raises(E.ExportError, match="could not be built or run"):
        E.onnx_export(model_format, model, meta, X)


def test_an_imputer_filling_the_wrong_value_is_caught(table, monkeypatch):
    """The skops path is checked the same way: a median imputer converted with another fill
    value changes the scores of the rows with a missing income."""
    model_format, model, meta, X = trained(table, "logistic_regression", "binary")
    imputer = model.named_steps["pre"].named_transformers_["num"].named_steps["impute"]
    monkeypatch.setattr(imputer, "statistics_", imputer.statistics_ + 1.0)
    expected = T.score_matrix(model_format, model, X, "binary")  # the model with the new fill
    monkeypatch.undo()
    assert np.isnan(X[:, 1]).any()
    real = E._convert_imputer

    def wrong_fill(scope, operator, container):
        original = operator.raw_operator.statistics_
        operator.raw_operator.statistics_ = original + 1.0
        try:
            real(scope, operator, container)
        finally:
            operator.raw_operator.statistics_ = original

    monkeypatch.setattr(E, "_convert_imputer", wrong_fill)
    with pytest.raises(E.ExportError, match="disagrees"):
        E.onnx_export(model_format, model, meta, X)
    assert not np.allclose(expected, T.score_matrix(model_format, model, X, "binary"))


def test_meta_that_does_not_match_the_model_is_refused(table):
    model_format, model, meta, X = trained(table, "lightgbm", "binary", num_boost_round=10)
    wrong = dict(meta, features=["x1", "income"])
    with pytest.raises(E.ExportError, match="reads 3 features but its meta lists 2"):
        E.onnx_export(model_format, model, wrong, X[:, :2])
    with pytest.raises(E.ExportUnsupported, match="objective"):
        E.onnx_export(model_format, model, dict(meta, objective="regression"), X)


@pytest.mark.parametrize("bad", [np.zeros((0, 3)), np.zeros((5, 2)), np.zeros(3)])
def test_bad_check_rows_are_refused(table, bad):
    model_format, model, meta, __ = trained(table, "lightgbm", "binary", num_boost_round=5)
    with pytest.raises(E.ExportError, match="check rows"):
        E.onnx_export(model_format, model, meta, bad)


def test_export_schema_tells_how_to_feed_and_read_the_model(table):
    __, __, meta, __ = trained(table, "lightgbm", "binary", num_boost_round=5)
    schema = E.export_schema(meta)
    assert schema["input"] == {"name": "features", "dtype": "float64", "shape": ["n", 3]}
    assert [f["name"] for f in schema["features"]] == ["x1", "income", "grade"]
    grade = schema["features"][2]
    assert grade["kind"] == "categorical" and grade["levels"] == list("ABCDEFG")
    assert "NaN" in grade["encoding"]
    assert schema["output"]["name"] == "probabilities" and schema["output"]["score_column"] == 1
    assert schema["output"]["columns"][1] == f"probability of event class {meta['label_classes'][1]}"

    __, __, meta_r, __ = trained(table, "lightgbm", "regression", num_boost_round=5)
    out = E.export_schema(meta_r)["output"]
    assert out["name"] == "variable" and out["columns"] == ["predicted value of loss"]
