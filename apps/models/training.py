"""The training engine: validate a spec, split, preprocess, train, and score.

Pure module (no Django import). ``train`` takes a ``pyarrow.Table`` and a ``TrainingSpec``
and returns a ``TrainingResult`` whose ``model_bytes`` are LightGBM's text model or a
skops file, plus everything needed to score new data identically (``meta``) and to
trace the run (metrics, library versions, seed, row counts).

Data path: the feature columns are written once into one C-ordered float matrix whose
rows are already in (train, valid) order, so the train and validation sets are views of
it and LightGBM reads them without another copy.

Categorical columns become integer codes over a sorted list of levels saved in
``meta["categorical_levels"]``; at scoring time the same list is used and an unseen
level becomes missing. LightGBM uses those codes as native categoricals; the
scikit-learn models wrap them in a Pipeline (imputer + one-hot encoder for categories,
median imputer + scaler for numbers) that travels inside the skops file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sklearn
from sklearn import metrics as skm
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ALGORITHMS = ("lightgbm", "logistic_regression", "random_forest")
OBJECTIVES = ("binary", "multiclass", "regression")
SPLITS = ("random", "stratified", "time")

MIN_ROWS = 10
# A round log longer than this is thinned evenly (keeping the last round) so a
# 10,000-round training does not produce an oversized result.
MAX_ROUNDS_KEPT = 1000


@dataclass(frozen=True)
class _Rule:
    kind: str  # "int" | "float"
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    nullable: bool = False

    def describe(self) -> str:
        lo = "-inf" if self.lo is None else _fmt(self.lo)
        hi = "inf" if self.hi is None else _fmt(self.hi)
        left = "(" if self.lo_open or self.lo is None else "["
        text = f"{self.kind} in {left}{lo}, {hi}]"
        return text + " or null" if self.nullable else text


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


PARAM_RULES: dict[str, dict[str, _Rule]] = {
    "lightgbm": {
        "num_boost_round": _Rule("int", 1, 10000),
        "learning_rate": _Rule("float", 0, 1, lo_open=True),
        "num_leaves": _Rule("int", 2, 4096),
        "max_depth": _Rule("int", -1, 64),
        "min_data_in_leaf": _Rule("int", 1, 1_000_000),
        "min_gain_to_split": _Rule("float", 0, None),
        "feature_fraction": _Rule("float", 0, 1, lo_open=True),
        "bagging_fraction": _Rule("float", 0, 1, lo_open=True),
        "bagging_freq": _Rule("int", 0, 1000),
        "lambda_l1": _Rule("float", 0, None),
        "lambda_l2": _Rule("float", 0, None),
        "scale_pos_weight": _Rule("float", 0, 1_000_000, lo_open=True),
        "early_stopping_rounds": _Rule("int", 0, 1000),
    },
    "logistic_regression": {
        "C": _Rule("float", 0, None, lo_open=True),
        "max_iter": _Rule("int", 1, 10000),
        "tol": _Rule("float", 0, 1, lo_open=True),
    },
    "random_forest": {
        "n_estimators": _Rule("int", 1, 2000),
        "max_depth": _Rule("int", 1, 64, nullable=True),
        "min_samples_leaf": _Rule("int", 1, 1_000_000),
    },
}

DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "lightgbm": {
        "num_boost_round": 100,
        "learning_rate": 0.1,
        "num_leaves": 31,
        "max_depth": -1,
        "min_data_in_leaf": 20,
        "feature_fraction": 1.0,
        "bagging_fraction": 1.0,
        "bagging_freq": 0,
        "lambda_l1": 0.0,
        "lambda_l2": 0.0,
        "early_stopping_rounds": 0,
    },
    "logistic_regression": {"C": 1.0, "max_iter": 1000, "tol": 1e-4},
    "random_forest": {"n_estimators": 200, "max_depth": None, "min_samples_leaf": 1},
}

_LGB_METRICS = {
    "binary": ["binary_logloss", "auc"],
    "multiclass": ["multi_logloss", "multi_error"],
    "regression": ["l2", "l1"],
}


class SpecError(ValueError):
    """A training spec (or its data) that cannot be trained; ``problems`` lists why."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class Cancelled(Exception):  # the name reads as the outcome, like asyncio's
    """Training stopped because ``on_round`` returned False."""


@dataclass
class TrainingSpec:
    """What to train: algorithm, objective, label, features, params, split and seed.

    ``categorical=None`` means: string, dictionary and other non-numeric feature columns.
    ``params`` are checked against ``PARAM_RULES`` and completed from ``DEFAULT_PARAMS``.
    """

    algorithm: str
    objective: str
    label: str
    features: list[str]
    categorical: list[str] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    split: str = "random"
    time_column: str | None = None
    validation_share: float = 0.2
    seed: int = 42
    num_threads: int = 2


@dataclass
class RoundInfo:
    """One boosting round (or one fit for scikit-learn models) as seen on the way."""

    round: int
    total_rounds: int
    train_loss: float | None
    valid_loss: float | None
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class TrainingResult:
    """A trained model and what it takes to score and trace it.

    ``meta`` is what ``predict`` needs (features, categorical levels, label classes,
    objective) and is meant to be stored in the artifact's meta.
    """

    model_format: str
    model_bytes: bytes
    best_iteration: int | None
    metrics: dict[str, float]
    feature_names: list[str]
    categorical_levels: dict[str, list[str]]
    fallback: dict[str, str] | None
    rounds: list[dict[str, Any]]
    library_versions: dict[str, str]
    rows: dict[str, int]
    seed: int
    algorithm: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- validation


def _dtype_kind(dtype: str) -> str:
    """Classify a column type string (Arrow or pandas spelling) as numeric/categorical/temporal/other."""
    d = dtype.lower().strip()
    if d.startswith(("timestamp", "date", "datetime", "time", "duration")):
        return "temporal"
    if d.startswith(("int", "uint", "float", "double", "halffloat", "decimal", "bool")):
        return "numeric"
    if d.startswith(
        ("string", "large_string", "utf8", "large_utf8", "str", "object", "category", "dictionary")
    ):
        return "categorical"
    return "other"


def _check_param(name: str, value: Any, rule: _Rule) -> str | None:
    if value is None:
        return None if rule.nullable else f"parameter {name!r} must not be null (expected {rule.describe()})"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"parameter {name!r} has the wrong type {type(value).__name__} (expected {rule.describe()})"
    if rule.kind == "int" and not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            return f"parameter {name!r} must be an integer (expected {rule.describe()})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"parameter {name!r} must be a finite number"
    too_low = rule.lo is not None and (value <= rule.lo if rule.lo_open else value < rule.lo)
    too_high = rule.hi is not None and value > rule.hi
    if too_low or too_high:
        return f"parameter {name!r} = {value} is out of range (expected {rule.describe()})"
    return None


def validate_spec(
    spec: TrainingSpec, columns: dict[str, str], *, label_classes: int | None = None
) -> list[str]:
    """Human-readable problems with ``spec`` against a table with ``columns`` (name -> type).

    ``label_classes``, when known, is the number of distinct label values; a classification
    label with fewer than two is a problem. An empty list means the spec is trainable.
    """
    problems: list[str] = []
    if spec.algorithm not in ALGORITHMS:
        problems.append(f"unknown algorithm {spec.algorithm!r}; expected one of {', '.join(ALGORITHMS)}")
    if spec.objective not in OBJECTIVES:
        problems.append(f"unknown objective {spec.objective!r}; expected one of {', '.join(OBJECTIVES)}")
    if spec.algorithm == "logistic_regression" and spec.objective == "regression":
        problems.append("logistic_regression supports the binary and multiclass objectives only")

    if not isinstance(spec.params, dict):
        problems.append("params must be an object")
    elif spec.algorithm in PARAM_RULES:
        rules = PARAM_RULES[spec.algorithm]
        for name, value in spec.params.items():
            if name not in rules:
                problems.append(
                    f"unknown parameter {name!r} for {spec.algorithm}; known: {', '.join(sorted(rules))}"
                )
                continue
            problem = _check_param(name, value, rules[name])
            if problem:
                problems.append(problem)

    if not isinstance(spec.label, str) or not spec.label:
        problems.append("a label column is required")
    elif spec.label not in columns:
        problems.append(f"label column {spec.label!r} does not exist")
    elif spec.objective == "regression" and _dtype_kind(columns[spec.label]) != "numeric":
        problems.append(f"label column {spec.label!r} must be numeric for regression")

    features = spec.features if isinstance(spec.features, list) else []
    if not features:
        problems.append("at least one feature column is required")
    missing = [f for f in features if f not in columns]
    if missing:
        problems.append(f"feature columns do not exist: {', '.join(map(str, missing))}")
    if len(set(features)) != len(features):
        problems.append("feature columns are listed more than once")
    if spec.label in features:
        problems.append(f"the label {spec.label!r} cannot also be a feature")
    for f in features:
        if f in columns and _dtype_kind(columns[f]) in ("temporal", "other"):
            problems.append(f"feature column {f!r} has unsupported type {columns[f]}")
    if spec.categorical is not None:
        stray = [c for c in spec.categorical if c not in features]
        if stray:
            problems.append(f"categorical columns are not features: {', '.join(map(str, stray))}")

    if spec.split not in SPLITS:
        problems.append(f"unknown split {spec.split!r}; expected one of {', '.join(SPLITS)}")
    if spec.split == "time":
        if not spec.time_column:
            problems.append("a time split needs a time_column")
        elif spec.time_column not in columns:
            problems.append(f"time column {spec.time_column!r} does not exist")
        elif spec.time_column in features:
            problems.append(f"the time column {spec.time_column!r} cannot also be a feature")
    if spec.split == "stratified" and spec.objective == "regression":
        problems.append("a stratified split needs a classification objective")
    share = spec.validation_share
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0.05 <= share <= 0.5:
        problems.append("validation_share must be a number in [0.05, 0.5]")
    if isinstance(spec.seed, bool) or not isinstance(spec.seed, int) or not 0 <= spec.seed < 2**31:
        problems.append("seed must be an integer in [0, 2147483647]")
    threads = spec.num_threads
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 64:
        problems.append("num_threads must be an integer in [1, 64]")

    if label_classes is not None and spec.objective in ("binary", "multiclass"):
        if label_classes < 2:
            problems.append(
                f"label column {spec.label!r} has {label_classes} class; classification needs two"
            )
        elif spec.objective == "binary" and label_classes != 2:
            problems.append(
                f"label column {spec.label!r} has {label_classes} classes; binary needs exactly two "
                "(use multiclass)"
            )
    return problems


def resolved_params(spec: TrainingSpec) -> dict[str, Any]:
    """The spec's params completed with defaults for its algorithm."""
    params = dict(DEFAULT_PARAMS.get(spec.algorithm, {}))
    params.update(spec.params or {})
    for name, rule in PARAM_RULES.get(spec.algorithm, {}).items():
        if rule.kind == "int" and isinstance(params.get(name), float):
            params[name] = int(params[name])
    return params


# --------------------------------------------------------------------------- data path


def _to_table(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a platform dependency
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise TypeError(f"expected a pyarrow.Table or pandas.DataFrame, got {type(data).__name__}")


def _is_categorical_type(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t)


def _as_strings(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return (
        col if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) else col.cast(pa.string())
    )


def _levels(col: pa.ChunkedArray) -> list[str]:
    values = pc.unique(_as_strings(col)).drop_null().to_pylist()
    return sorted(values)


def _codes(col: pa.ChunkedArray, levels: list[str]) -> np.ndarray:
    """Float codes of ``col`` over ``levels``; nulls and unseen levels become NaN."""
    idx = pc.index_in(_as_strings(col), value_set=pa.array(levels, pa.string()))
    return idx.to_numpy().astype(np.float64, copy=False)


def _numeric(col: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_boolean(col.type) or pa.types.is_decimal(col.type):
        col = col.cast(pa.float64())
    # Zero-copy for a single-chunk float column without nulls; one copy otherwise.
    return col.to_numpy()


def _matrix_dtype(table: pa.Table, features: list[str], categorical: set[str]) -> type:
    numeric_types = [table.schema.field(f).type for f in features if f not in categorical]
    if numeric_types and all(pa.types.is_float32(t) for t in numeric_types):
        # Codes up to 2**24 are exact in float32; a categorical with more levels would not be.
        return np.float32
    return np.float64


def _build_matrix(
    table: pa.Table,
    features: list[str],
    levels: dict[str, list[str]],
    dtype: Any,
    order: np.ndarray | None = None,
) -> np.ndarray:
    """The feature matrix (C order) with rows in ``order`` (all rows when None)."""
    n = table.num_rows if order is None else len(order)
    X = np.empty((n, len(features)), dtype=dtype)
    for j, name in enumerate(features):
        col = table.column(name)
        values = _codes(col, levels[name]) if name in levels else _numeric(col)
        X[:, j] = values if order is None else values[order]
    return X


def _label_values(table: pa.Table, label: str, objective: str) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """(encoded label, mask of rows with a label, classes) — classes empty for regression."""
    col = table.column(label)
    present = pc.is_valid(col).to_numpy(zero_copy_only=False)
    if objective == "regression":
        y = _numeric(col).astype(np.float64, copy=False)
        present &= np.isfinite(y)
        return y, present, []
    if pa.types.is_floating(col.type):
        present &= ~np.isnan(col.to_numpy())
    values = col.filter(pa.array(present)) if not present.all() else col
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    classes = sorted(pc.unique(values).to_pylist())
    plain = col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col
    encoded = pc.index_in(plain, value_set=pa.array(classes, values.type))
    y = encoded.to_numpy().astype(np.float64, copy=False)
    return y, present, classes


def _split_order(
    spec: TrainingSpec, table: pa.Table, rows: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, int]:
    """Row indices in (train, valid) order and the number of training rows."""
    n = len(rows)
    n_valid = max(1, round(n * spec.validation_share))
    n_train = n - n_valid
    if spec.split == "time":
        t = table.column(spec.time_column).take(pa.array(rows))
        # Stable sort, nulls first: an undated row counts as old, never as out-of-time.
        pos = pc.sort_indices(pa.table({"t": t}), sort_keys=[("t", "ascending", "at_start")])
        ordered = rows[pos.to_numpy()]
        return np.concatenate([np.sort(ordered[:n_train]), np.sort(ordered[n_train:])]), n_train
    if spec.split == "stratified":
        try:
            tr, va = train_test_split(rows, test_size=n_valid, stratify=y[rows], random_state=spec.seed)
        except ValueError as exc:
            raise SpecError([f"stratified split is not possible: {exc}"]) from exc
    else:
        perm = np.random.default_rng(spec.seed).permutation(rows)
        va, tr = perm[:n_valid], perm[n_valid:]
    # Sorted indices keep the gather cache-friendly and the order independent of the shuffle.
    return np.concatenate([np.sort(tr), np.sort(va)]), n_train


# --------------------------------------------------------------------------- models


def _sklearn_preprocessor(n_features: int, categorical_idx: list[int]) -> ColumnTransformer:
    numeric_idx = [i for i in range(n_features) if i not in set(categorical_idx)]
    transformers = []
    if numeric_idx:
        transformers.append(
            (
                "num",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                        ("scale", StandardScaler()),
                    ]
                ),
                numeric_idx,
            )
        )
    if categorical_idx:
        transformers.append(
            (
                "cat",
                Pipeline(
                    [
                        # Missing and unseen levels arrive as NaN and share the code -1.
                        (
                            "impute",
                            SimpleImputer(strategy="constant", fill_value=-1, keep_empty_features=True),
                        ),
                        ("onehot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                categorical_idx,
            )
        )
    return ColumnTransformer(transformers, remainder="drop")


def build_sklearn_pipeline(
    algorithm: str,
    objective: str,
    params: dict[str, Any],
    *,
    n_features: int,
    categorical_idx: list[int],
    seed: int,
    num_threads: int,
) -> Pipeline:
    """The scikit-learn Pipeline (preprocessing + estimator) for ``algorithm`` and ``objective``."""
    if algorithm == "logistic_regression":
        est: Any = LogisticRegression(
            C=params.get("C", 1.0),
            max_iter=params.get("max_iter", 1000),
            tol=params.get("tol", 1e-4),
            random_state=seed,
        )
    elif algorithm == "random_forest":
        cls = RandomForestRegressor if objective == "regression" else RandomForestClassifier
        est = cls(
            n_estimators=params.get("n_estimators", 200),
            max_depth=params.get("max_depth"),
            min_samples_leaf=params.get("min_samples_leaf", 1),
            random_state=seed,
            n_jobs=num_threads,
        )
    else:
        raise SpecError([f"{algorithm!r} is not a scikit-learn algorithm"])
    return Pipeline([("pre", _sklearn_preprocessor(n_features, categorical_idx)), ("model", est)])


def prototype_pipelines() -> list[Pipeline]:
    """Tiny fitted instances of every scikit-learn pipeline ``train`` can produce.

    ``artifacts.default_trusted_types`` derives the skops trust list from these.
    """
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=40), rng.integers(0, 3, size=40).astype(float)])
    X[0, 0] = np.nan
    X[1, 1] = np.nan
    y_bin = np.arange(40) % 2
    y_multi = np.arange(40) % 3
    y_reg = rng.normal(size=40)
    out = []
    for algorithm, objective, y in (
        ("logistic_regression", "binary", y_bin),
        ("logistic_regression", "multiclass", y_multi),
        ("random_forest", "binary", y_bin),
        ("random_forest", "multiclass", y_multi),
        ("random_forest", "regression", y_reg),
    ):
        pipe = build_sklearn_pipeline(
            algorithm,
            objective,
            {"n_estimators": 2, "max_iter": 50},
            n_features=2,
            categorical_idx=[1],
            seed=0,
            num_threads=1,
        )
        out.append(pipe.fit(X, y))
    return out


def _validation_metrics(objective: str, y: np.ndarray, pred: np.ndarray, n_classes: int) -> dict[str, float]:
    if objective == "binary":
        p = np.clip(pred, 1e-15, 1 - 1e-15)
        yi = y.astype(int)
        out = {
            "logloss": float(skm.log_loss(yi, p, labels=[0, 1])),
            "accuracy": float(np.mean((p >= 0.5) == yi)),
        }
        if len(np.unique(yi)) == 2:
            fpr, tpr, _ = skm.roc_curve(yi, p)
            out["auc"] = float(skm.roc_auc_score(yi, p))
            out["ks"] = float(np.max(np.abs(tpr - fpr)))
        return out
    if objective == "multiclass":
        yi = y.astype(int)
        labels = list(range(n_classes))
        return {
            "accuracy": float(skm.accuracy_score(yi, pred.argmax(axis=1))),
            "f1_macro": float(
                skm.f1_score(yi, pred.argmax(axis=1), average="macro", labels=labels, zero_division=0)
            ),
            "logloss": float(skm.log_loss(yi, np.clip(pred, 1e-15, 1), labels=labels)),
        }
    return {
        "rmse": float(math.sqrt(skm.mean_squared_error(y, pred))),
        "mae": float(skm.mean_absolute_error(y, pred)),
        "r2": float(skm.r2_score(y, pred)) if len(y) > 1 else float("nan"),
    }


def _loss(objective: str, y: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    if objective == "regression":
        return float(skm.mean_squared_error(y, pred))
    labels = list(range(n_classes))
    if objective == "binary":
        return float(skm.log_loss(y.astype(int), np.clip(pred, 1e-15, 1 - 1e-15), labels=labels))
    return float(skm.log_loss(y.astype(int), np.clip(pred, 1e-15, 1), labels=labels))


class _CallbackFailed(Exception):
    """Wraps an exception raised by ``on_round`` so it is not mistaken for a LightGBM failure."""

    def __init__(self, original: BaseException):
        super().__init__(str(original))
        self.original = original


def _round_recorder(total: int, on_round: Callable[[RoundInfo], bool] | None, log: list[RoundInfo]):
    loss_name = None

    def callback(env: Any) -> None:
        nonlocal loss_name
        train_loss = valid_loss = None
        metrics: dict[str, float] = {}
        for item in env.evaluation_result_list:
            data_name, metric_name, value = item[0], item[1], float(item[2])
            if loss_name is None:
                loss_name = metric_name
            if metric_name == loss_name:
                if data_name == "training":
                    train_loss = value
                else:
                    valid_loss = value
            metrics[f"{'train' if data_name == 'training' else 'valid'}_{metric_name}"] = value
        info = RoundInfo(env.iteration + 1, total, train_loss, valid_loss, metrics)
        log.append(info)
        if on_round is not None:
            try:
                keep_going = on_round(info)
            except Exception as exc:  # re-raised unchanged by train()
                raise _CallbackFailed(exc) from exc
            if keep_going is False:
                raise Cancelled(f"training cancelled at round {info.round} of {total}")

    # After LightGBM's evaluation logging (10/20), before early stopping (30) so the
    # round that triggers the stop is still reported.
    callback.order = 25
    return callback


def _train_lightgbm(
    spec, params, X_train, y_train, X_valid, y_valid, feature_names, cat_names, n_classes, on_round
):
    total = params["num_boost_round"]
    lgb_params: dict[str, Any] = {
        "objective": spec.objective,
        "metric": _LGB_METRICS[spec.objective],
        "learning_rate": params["learning_rate"],
        "num_leaves": params["num_leaves"],
        "max_depth": params["max_depth"],
        "min_data_in_leaf": params["min_data_in_leaf"],
        "feature_fraction": params["feature_fraction"],
        "bagging_fraction": params["bagging_fraction"],
        # A bagging fraction below 1 does nothing unless bagging happens every k rounds.
        "bagging_freq": params["bagging_freq"] or (1 if params["bagging_fraction"] < 1 else 0),
        "lambda_l1": params["lambda_l1"],
        "lambda_l2": params["lambda_l2"],
        "seed": spec.seed,
        "num_threads": spec.num_threads,
        "deterministic": True,
        # The automatic row/col-wise choice is timed, so it can differ between runs.
        "force_col_wise": True,
        "verbosity": -1,
    }
    for key in ("min_gain_to_split", "scale_pos_weight"):
        if key in params:
            lgb_params[key] = params[key]
    if spec.objective == "multiclass":
        lgb_params["num_class"] = n_classes
    train_set = lgb.Dataset(
        X_train,
        label=y_train,
        feature_name=feature_names,
        categorical_feature=cat_names or "auto",
        free_raw_data=True,
        params={"verbosity": -1},
    )
    valid_set = lgb.Dataset(X_valid, label=y_valid, reference=train_set, free_raw_data=True)
    log: list[RoundInfo] = []
    callbacks = [_round_recorder(total, on_round, log)]
    if params["early_stopping_rounds"] > 0:
        callbacks.append(
            lgb.early_stopping(params["early_stopping_rounds"], first_metric_only=True, verbose=False)
        )
    booster = lgb.train(
        lgb_params,
        train_set,
        num_boost_round=total,
        valid_sets=[train_set, valid_set],
        valid_names=["training", "valid"],
        callbacks=callbacks,
    )
    best = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
    pred = booster.predict(X_valid, num_iteration=best)
    return booster.model_to_string(num_iteration=best).encode("utf-8"), best, pred, log


def _train_sklearn(
    algorithm, spec, params, X_train, y_train, X_valid, y_valid, categorical_idx, n_classes, on_round
):
    import skops.io as sio

    pipe = build_sklearn_pipeline(
        algorithm,
        spec.objective,
        params,
        n_features=X_train.shape[1],
        categorical_idx=categorical_idx,
        seed=spec.seed,
        num_threads=spec.num_threads,
    )
    pipe.fit(X_train, y_train.astype(int) if spec.objective != "regression" else y_train)
    pred_train = _sk_predict(pipe, X_train, spec.objective)
    pred = _sk_predict(pipe, X_valid, spec.objective)
    metrics = {
        f"valid_{k}": v for k, v in _validation_metrics(spec.objective, y_valid, pred, n_classes).items()
    }
    info = RoundInfo(
        1,
        1,
        _loss(spec.objective, y_train, pred_train, n_classes),
        _loss(spec.objective, y_valid, pred, n_classes),
        metrics,
    )
    if on_round is not None and on_round(info) is False:
        raise Cancelled("training cancelled after fitting")
    return sio.dumps(pipe), None, pred, [info]


def _sk_predict(model: Any, X: np.ndarray, objective: str) -> np.ndarray:
    if objective == "regression":
        return model.predict(X)
    proba = model.predict_proba(X)
    return proba[:, 1] if objective == "binary" else proba


def _thin(rounds: list[RoundInfo]) -> list[dict[str, Any]]:
    if len(rounds) > MAX_ROUNDS_KEPT:
        keep = np.unique(np.linspace(0, len(rounds) - 1, MAX_ROUNDS_KEPT).round().astype(int))
        rounds = [rounds[i] for i in keep]
    return [asdict(r) for r in rounds]


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a trained model."""
    return {
        "lightgbm": lgb.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pyarrow": pa.__version__,
    }


def train(
    spec: TrainingSpec, table: pa.Table, *, on_round: Callable[[RoundInfo], bool] | None = None
) -> TrainingResult:
    """Train ``spec`` on ``table`` and return the model with its metrics and scoring meta.

    ``on_round`` is called with a ``RoundInfo`` after every boosting round (once for
    scikit-learn models); returning False raises ``Cancelled``. If LightGBM fails to
    train, logistic regression (random forest for regression) is trained instead and
    ``fallback`` says why. Raises ``SpecError`` for a spec or data that cannot be trained.
    """
    table = _to_table(table)
    columns = {f.name: str(f.type) for f in table.schema}
    problems = validate_spec(spec, columns)
    if problems:
        raise SpecError(problems)

    y_all, present, classes = _label_values(table, spec.label, spec.objective)
    n_classes = len(classes)
    if spec.objective != "regression":
        problems = validate_spec(spec, columns, label_classes=n_classes)
        if problems:
            raise SpecError(problems)
    rows = np.flatnonzero(present)
    if len(rows) < MIN_ROWS:
        raise SpecError([f"only {len(rows)} rows have a label; at least {MIN_ROWS} are needed"])

    features = list(spec.features)
    if spec.categorical is None:
        categorical = [f for f in features if _is_categorical_type(table.schema.field(f).type)]
    else:
        categorical = [f for f in features if f in set(spec.categorical)]
    levels = {name: _levels(table.column(name)) for name in categorical}
    dtype = _matrix_dtype(table, features, set(categorical))

    order, n_train = _split_order(spec, table, rows, y_all)
    X = _build_matrix(table, features, levels, dtype, order)
    y = y_all[order]
    X_train, X_valid, y_train, y_valid = X[:n_train], X[n_train:], y[:n_train], y[n_train:]
    if spec.objective != "regression" and len(np.unique(y_train)) < 2:
        raise SpecError(["the training rows hold a single class; use a stratified split or more data"])

    params = resolved_params(spec)
    categorical_idx = [features.index(c) for c in categorical]
    fallback = None
    algorithm = spec.algorithm
    try:
        if algorithm == "lightgbm":
            try:
                model_bytes, best, pred, log = _train_lightgbm(
                    spec,
                    params,
                    X_train,
                    y_train,
                    X_valid,
                    y_valid,
                    features,
                    categorical,
                    n_classes,
                    on_round,
                )
                model_format = "lightgbm-text"
            except (Cancelled, _CallbackFailed):
                raise
            except Exception as exc:  # noqa: BLE001 - any LightGBM failure triggers the fallback
                algorithm = "random_forest" if spec.objective == "regression" else "logistic_regression"
                fallback = {"from": "lightgbm", "to": algorithm, "reason": f"{type(exc).__name__}: {exc}"}
                params = dict(DEFAULT_PARAMS[algorithm])
        if algorithm != "lightgbm":
            model_bytes, best, pred, log = _train_sklearn(
                algorithm,
                spec,
                params,
                X_train,
                y_train,
                X_valid,
                y_valid,
                categorical_idx,
                n_classes,
                on_round,
            )
            model_format = "skops"
    except _CallbackFailed as wrapped:
        raise wrapped.original from None

    meta = {
        "algorithm": algorithm,
        "objective": spec.objective,
        "features": features,
        "categorical_levels": levels,
        "label": spec.label,
        "label_classes": classes,
        "dtype": np.dtype(dtype).name,
    }
    return TrainingResult(
        model_format=model_format,
        model_bytes=model_bytes,
        best_iteration=best,
        metrics=_validation_metrics(spec.objective, y_valid, pred, n_classes),
        feature_names=features,
        categorical_levels=levels,
        fallback=fallback,
        rounds=_thin(log),
        library_versions=library_versions(),
        rows={
            "train": int(n_train),
            "valid": int(len(order) - n_train),
            "dropped": int(table.num_rows - len(rows)),
        },
        seed=spec.seed,
        algorithm=algorithm,
        params=params,
        meta=meta,
    )


def predict(model_format: str, model: Any, table_or_frame: Any, meta: dict[str, Any]) -> np.ndarray:
    """Scores for new data, preprocessed exactly as in training.

    Binary: probability of the second class in ``meta["label_classes"]``; multiclass: an
    (n, classes) probability matrix; regression: the predicted value.
    """
    table = _to_table(table_or_frame)
    features = list(meta["features"])
    missing = [f for f in features if f not in table.column_names]
    if missing:
        raise SpecError([f"columns missing for scoring: {', '.join(missing)}"])
    X = _build_matrix(
        table, features, meta.get("categorical_levels") or {}, np.dtype(meta.get("dtype", "float64"))
    )
    return score_matrix(model_format, model, X, meta["objective"])


def score_matrix(
    model_format: str, model: Any, X: np.ndarray, objective: str, num_threads: int = 0
) -> np.ndarray:
    """Scores of a feature matrix built like the training one (see ``predict``).

    ``num_threads`` > 0 caps LightGBM's threads: a web process scoring a few rows gains
    nothing from a thread pool and loses latency to waking it.
    """
    if model_format == "lightgbm-text":
        if num_threads:
            return np.asarray(model.predict(X, num_threads=num_threads))
        return np.asarray(model.predict(X))
    if model_format == "skops":
        return _sk_predict(model, X, objective)
    raise ValueError(f"unknown model format {model_format!r}")


def records_matrix(
    records: Sequence[dict[str, Any]],
    features: Sequence[str],
    level_codes: dict[str, dict[str, int]],
    dtype: Any = np.float64,
) -> np.ndarray:
    """The feature matrix of already-checked records (dicts), encoded as in training.

    Numbers go in as they are, ``None`` as NaN; a categorical value becomes its index in
    the training levels (``level_codes[name]``: level -> index), NaN when unseen or null,
    exactly as ``_codes`` does for columns.
    """
    X = np.empty((len(records), len(features)), dtype=dtype)
    nan = float("nan")
    for j, name in enumerate(features):
        codes = level_codes.get(name)
        if codes is None:
            X[:, j] = [nan if (v := r[name]) is None else v for r in records]
        else:
            X[:, j] = [codes.get(r[name], nan) for r in records]
    return X


def holdout_metrics(
    spec: TrainingSpec, table: Any, model_format: str, model: Any, meta: dict[str, Any]
) -> dict[str, float]:
    """Metrics of another model on the validation rows ``train(spec, table)`` held out.

    The champion/challenger gate scores the champion on the challenger's own holdout, so
    both are judged on the same rows. Raises SpecError when the model cannot be scored
    on this table (missing columns, different objective or label classes).
    """
    table = _to_table(table)
    if meta.get("objective") != spec.objective:
        raise SpecError([f"the model's objective is {meta.get('objective')}, not {spec.objective}"])
    y_all, present, classes = _label_values(table, spec.label, spec.objective)
    if spec.objective != "regression" and list(meta.get("label_classes") or []) != list(classes):
        raise SpecError(["the model was trained on different label classes"])
    rows = np.flatnonzero(present)
    order, n_train = _split_order(spec, table, rows, y_all)
    valid = order[n_train:]
    pred = predict(model_format, model, table.take(pa.array(valid)), meta)
    return _validation_metrics(spec.objective, y_all[valid], pred, len(classes))
