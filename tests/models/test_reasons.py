"""Reason codes: contributions add up to the model's own score, and the riskiest features lead."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from apps.models import artifacts as A
from apps.models import training as T

KEY = b"k"
FEATURES = ["x1", "income", "grade"]


def make_table(n: int = 2000, seed: int = 5) -> pa.Table:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    income = rng.lognormal(9, 1, size=n)
    income[rng.random(n) < 0.07] = np.nan
    grade = rng.choice(list("ABCDE"), size=n).astype(object)
    grade[rng.random(n) < 0.05] = None
    # The event (y = 1) grows with x1, falls with income, and is likelier in grade E.
    logit = 1.5 * x1 - np.nan_to_num(np.log(income) - 9) + 1.5 * (grade == "E") - 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pa.table({"x1": x1, "income": income, "grade": pa.array(list(grade), pa.string()), "y": y,
                     "v": 100 * logit + rng.normal(size=n)})  # fmt: skip


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return make_table()


def trained(table, algorithm: str, objective: str = "binary", **params):
    label = "v" if objective == "regression" else "y"
    result = T.train(
        T.TrainingSpec(
            algorithm=algorithm, objective=objective, label=label, features=FEATURES, params=params
        ),
        table,
    )
    art = A.unpack(A.pack(result.model_bytes, result.model_format, key=KEY, meta=result.meta), key=KEY)
    X = T.feature_matrix(table, result.meta)
    return result.model_format, A.load_model(art), result.meta, X


@pytest.fixture(scope="module")
def lgb_binary(table):
    return trained(table, "lightgbm", num_boost_round=50)


@pytest.fixture(scope="module")
def lr_binary(table):
    return trained(table, "logistic_regression")


@pytest.mark.parametrize("objective", ["binary", "regression"])
def test_lightgbm_contributions_and_expected_value_give_the_raw_score(table, objective):
    fmt, booster, __, X = trained(table, "lightgbm", objective, num_boost_round=50)
    contrib = T.reason_contributions(fmt, booster, X, objective, FEATURES, None)
    assert contrib.shape == (len(X), 3)
    expected_value = T.contributions(fmt, booster, X, objective)[:, -1]
    raw = booster.predict(X, raw_score=True)  # log-odds for binary
    assert np.max(np.abs(contrib.sum(axis=1) + expected_value - raw)) <= 1e-9
    assert T.reasons_reference(fmt, booster, X, objective) is None


def test_lr_contributions_sum_to_the_logit_minus_the_logit_at_the_reference(lr_binary):
    fmt, pipe, __, X = lr_binary
    reference = T.reasons_reference(fmt, pipe, X, "binary")
    json.dumps(reference)  # stored in the artifact meta
    Z = pipe.named_steps["pre"].transform(X)
    Z = Z.toarray() if hasattr(Z, "toarray") else Z
    assert np.allclose(reference["mean"], Z.mean(axis=0), atol=1e-12)

    rows = X[:200]
    contrib = T.reason_contributions(fmt, pipe, rows, "binary", FEATURES, reference)
    lr = pipe.named_steps["model"]
    p = T.score_matrix(fmt, pipe, rows, "binary")
    logit = np.log(p) - np.log1p(-p)
    at_reference = lr.intercept_[0] + lr.coef_[0] @ np.asarray(reference["mean"])
    assert np.max(np.abs(contrib.sum(axis=1) - (logit - at_reference))) <= 1e-9


def test_categorical_one_hot_columns_sum_onto_their_feature(lr_binary):
    fmt, pipe, __, X = lr_binary
    reference = T.reasons_reference(fmt, pipe, X, "binary")
    pre, lr = pipe.named_steps["pre"], pipe.named_steps["model"]
    rows = X[:50].copy()
    rows[0, 2] = np.nan  # missing grade
    rows[1, 2] = 42.0  # unseen grade code
    Z = pre.transform(rows)
    Z = Z.toarray() if hasattr(Z, "toarray") else Z
    cat = pre.output_indices_["cat"]
    assert cat.stop - cat.start > 1  # several one-hot columns ...
    by_hand = ((Z - reference["mean"]) * lr.coef_[0])[:, cat].sum(axis=1)
    contrib = T.reason_contributions(fmt, pipe, rows, "binary", FEATURES, reference)
    assert contrib.shape == (50, 3)  # ... one feature
    assert np.allclose(contrib[:, 2], by_hand, atol=1e-12)


@pytest.mark.parametrize("which", ["lgb_binary", "lr_binary"])
def test_a_riskier_value_moves_the_feature_up_the_reasons(which, request):
    fmt, model, __, X = request.getfixturevalue(which)
    reference = T.reasons_reference(fmt, model, X, "binary")
    compiled = T.compile_reasons(fmt, model, "binary", 3, reference)
    row = X[[int(np.argmin(np.abs(X[:, 0])))]].copy()  # x1 near its mean
    row[0, 0] = -1.5  # x1 low: lowers the risk
    calm = compiled.contributions(row)[0]
    row[0, 0] = 3.0  # x1 high: the event is likelier
    risky = compiled.contributions(row)[0]
    assert risky[0] > calm[0] and risky[0] > 0
    reasons = T.top_reasons(risky, FEATURES, ["3.0", "?", "?"], k=3)
    assert reasons[0]["feature"] == "x1" and reasons[0]["value"] == "3.0"
    assert all(r["feature"] != "x1" for r in T.top_reasons(calm, FEATURES, [None] * 3, k=3))
    assert T.score_matrix(fmt, model, row, "binary")[0] > 0.5


def test_compiled_reasons_match_the_one_call_form(lgb_binary, lr_binary):
    for fmt, model, __, X in (lgb_binary, lr_binary):
        reference = T.reasons_reference(fmt, model, X, "binary")
        compiled = T.compile_reasons(fmt, model, "binary", 3, reference)
        one_call = T.reason_contributions(fmt, model, X[:30], "binary", FEATURES, reference)
        assert np.array_equal(compiled.contributions(X[:30]), one_call)
        with pytest.raises(ValueError, match="3 feature columns"):
            compiled.contributions(X[:3, :2])


def test_lr_reasons_need_their_own_reference(lr_binary, table):
    fmt, pipe, __, X = lr_binary
    assert T.reason_contributions(fmt, pipe, X[:5], "binary", FEATURES, None) is None
    other = T.reasons_reference(fmt, pipe, X, "binary")
    with pytest.raises(ValueError, match="does not belong"):
        T.compile_reasons(fmt, pipe, "binary", 3, dict(other, mean=other["mean"][:-1]))
    with pytest.raises(ValueError, match="at least one row"):
        T.reasons_reference(fmt, pipe, X[:0], "binary")


def test_models_without_an_additive_decomposition_give_none(table):
    fmt, rf, __, X = trained(table, "random_forest", n_estimators=10)
    assert T.reasons_reference(fmt, rf, X, "binary") is None
    assert T.reason_contributions(fmt, rf, X[:5], "binary", FEATURES, None) is None
    rng = np.random.default_rng(0)
    multi = table.append_column("m", pa.array(rng.integers(0, 3, size=table.num_rows)))
    for algorithm, params in (("lightgbm", {"num_boost_round": 5}), ("logistic_regression", {})):
        result = T.train(
            T.TrainingSpec(
                algorithm=algorithm, objective="multiclass", label="m", features=FEATURES, params=params
            ),
            multi,
        )
        art = A.unpack(A.pack(result.model_bytes, result.model_format, key=KEY, meta=result.meta), key=KEY)
        model = A.load_model(art)
        ref = T.reasons_reference(result.model_format, model, X, "multiclass")
        assert ref is None
        assert T.reason_contributions(result.model_format, model, X[:5], "multiclass", FEATURES, ref) is None


def test_top_reasons_keeps_k_positive_largest_first_ties_in_feature_order():
    features = ["a", "b", "c", "d", "e"]
    values = [1, "x", None, 4.5, 0]
    row = np.array([0.5, 2.0, 2.0, -1.0, 0.0])
    top = T.top_reasons(row, features, values)
    assert [r["feature"] for r in top] == ["b", "c", "a"]  # zero and negative are no reasons
    assert top[0] == {"feature": "b", "value": "x", "contribution": 2.0}
    assert [r["feature"] for r in T.top_reasons(row, features, values, k=2)] == ["b", "c"]
    assert [r["feature"] for r in T.top_reasons(row[::-1], features, values, k=1)] == ["c"]
    assert T.top_reasons(row, features, values, k=0) == []
    assert T.top_reasons(-np.abs(row), features, values) == []
    with pytest.raises(ValueError, match="same length"):
        T.top_reasons(row[:4], features, values)
