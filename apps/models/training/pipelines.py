"""The scikit-learn pipelines (preprocessing + estimator) and their fitted prototypes, from which
the skops trust list is derived.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .spec import Problem, SpecError, _

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
        raise SpecError(
            [Problem(_("%(algorithm)s is not a scikit-learn algorithm"), algorithm=repr(algorithm))]
        )
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
