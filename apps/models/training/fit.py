"""Fitting: LightGBM with a callback per round, the scikit-learn models, the fallback from a
failed LightGBM run, and ``train``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import lightgbm as lgb
import numpy as np
import pyarrow as pa
import sklearn
from sklearn import metrics as skm

from . import scorecard
from .data import (
    _build_matrix,
    _is_categorical_type,
    _label_values,
    _levels,
    _matrix_dtype,
    _split_order,
    _to_table,
)
from .pipelines import build_sklearn_pipeline
from .reasons import reasons_reference
from .scoring import _sk_predict, _validation_metrics
from .spec import (
    DEFAULT_PARAMS,
    Cancelled,
    Problem,
    RoundInfo,
    SpecError,
    TrainingResult,
    TrainingSpec,
    _,
    resolved_params,
    validate_spec,
)

MIN_ROWS = 10
# A round log longer than this is thinned evenly (keeping the last round) so a
# 10,000-round training does not produce an oversized result.
MAX_ROUNDS_KEPT = 1000


_LGB_METRICS = {
    "binary": ["binary_logloss", "auc"],
    "multiclass": ["multi_logloss", "multi_error"],
    "regression": ["l2", "l1"],
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
    X_reference=None,
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
    # Reasons of a linear model compare each record with the training rows' average.
    reference = reasons_reference(
        "skops", pipe, X_reference if X_reference is not None else X_train, spec.objective
    )
    return sio.dumps(pipe), None, pred, [info], reference


def _train_scorecard(spec, params, X_train, y_train, X_valid, y_valid, features, levels, on_round):
    card = scorecard.fit_scorecard(
        X_train, y_train, features, levels, params, edits=spec.edits, base_card=spec.base_card
    )
    pred_train = scorecard.card_probability(card, X_train)
    pred = scorecard.card_probability(card, X_valid)
    metrics = {f"valid_{k}": v for k, v in _validation_metrics("binary", y_valid, pred, 2).items()}
    info = RoundInfo(
        1, 1, _loss("binary", y_train, pred_train, 2), _loss("binary", y_valid, pred, 2), metrics
    )
    if on_round is not None and on_round(info) is False:
        raise Cancelled("training cancelled after fitting")
    return card, None, pred, [info]


def _reference_matrix(spec: TrainingSpec, features: list[str], levels: dict, dtype) -> np.ndarray | None:
    """The reference population's feature matrix, encoded as the training rows are."""
    if spec.reference_table is None:
        return None
    table = _to_table(spec.reference_table)
    missing = [f for f in features if f not in table.column_names]
    if missing or table.num_rows == 0:
        raise SpecError(
            [
                Problem(
                    _("the reference population lacks the features %(columns)s or has no rows"),
                    columns=", ".join(missing) or "-",
                )
            ]
        )
    return _build_matrix(table, features, levels, dtype)


def _thin(rounds: list[RoundInfo]) -> list[dict[str, Any]]:
    if len(rounds) > MAX_ROUNDS_KEPT:
        keep = np.unique(np.linspace(0, len(rounds) - 1, MAX_ROUNDS_KEPT).round().astype(int))
        rounds = [rounds[i] for i in keep]
    return [asdict(r) for r in rounds]


def labelled_rows(spec: TrainingSpec, columns: dict[str, str], table: pa.Table):
    """(encoded label, mask of labelled rows, classes, their indices) of ``table``, which
    holds at least the label; SpecError when the classes or the labelled rows do not do."""
    y_all, present, classes = _label_values(table, spec.label, spec.objective, spec.event_value)
    if spec.objective != "regression":
        problems = validate_spec(spec, columns, label_classes=len(classes))
        if problems:
            raise SpecError(problems)
    rows = np.flatnonzero(present)
    if len(rows) < MIN_ROWS:
        raise SpecError(
            [
                Problem(
                    _("only %(rows)s rows have a label; at least %(needed)s are needed"),
                    rows=len(rows),
                    needed=MIN_ROWS,
                )
            ]
        )
    return y_all, present, classes, rows


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

    y_all, _present, classes, rows = labelled_rows(spec, columns, table)
    n_classes = len(classes)

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
        raise SpecError(
            [Problem(_("the training rows hold a single class; use a stratified split or more data"))]
        )

    params = resolved_params(spec)
    categorical_idx = [features.index(c) for c in categorical]
    fallback = None
    card = reference = None
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
        if algorithm == "scorecard":
            card, best, pred, log = _train_scorecard(
                spec, params, X_train, y_train, X_valid, y_valid, features, levels, on_round
            )
            model_bytes, model_format = scorecard.card_dumps(card), scorecard.SCORECARD_FORMAT
        elif algorithm != "lightgbm":
            model_bytes, best, pred, log, reference = _train_sklearn(
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
                X_reference=_reference_matrix(spec, features, levels, dtype),
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
    if spec.objective == "binary":
        meta["event_value"] = classes[1]
    if reference is not None:
        meta["reasons_reference"] = reference
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
        card=card,
    )
