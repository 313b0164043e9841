"""What to train and whether it can be trained: ``TrainingSpec``, the parameter rules and
defaults, spec validation, and the result, round and error types.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

ALGORITHMS = ("lightgbm", "logistic_regression", "random_forest", "scorecard")
OBJECTIVES = ("binary", "multiclass", "regression")
SPLITS = ("random", "stratified", "time")


def _(text: str) -> str:
    """Marks ``text`` for translation (this package imports no Django): a ``Problem`` keeps
    the template, and the registry's pages show ``gettext(template) % params``."""
    return text


class Problem(str):
    """One reason a spec cannot be trained: its English text (a plain ``str`` everywhere),
    with the marked ``template`` and its ``params`` for ``apps.models.texts`` to translate."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Problem:
        problem = super().__new__(cls, template % params if params else template)
        problem.template, problem.params = template, params
        return problem


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


# Parameter checks of algorithms whose params are not flat numbers (the scorecard's trends,
# special values...), registered by the package that owns them: algorithm -> check(params,
# features) giving problems.
PARAM_CHECKS: dict[str, Any] = {}


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
    # The binary label's event (positive) value; None picks it (``data.event_class``).
    event_value: Any = None
    # The rows a linear model's reasons compare records with (a reference population, e.g.
    # approved applicants); None: the training rows.
    reference_table: Any = None
    # A scorecard refit: the card it starts from and the analyst's bin edits.
    base_card: dict[str, Any] | None = None
    edits: list[dict[str, Any]] | None = None


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
    # A scorecard's card (also its model bytes), for the registry to show without loading.
    card: dict[str, Any] | None = None
    # Where it was trained when not in this process: {"name": "dask", "workers": {address: rows}}.
    engine: dict[str, Any] | None = None


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
        if rule.nullable:
            return None
        return Problem(
            _("parameter %(name)s must not be null (expected %(rule)s)"),
            name=repr(name),
            rule=rule.describe(),
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Problem(
            _("parameter %(name)s has the wrong type %(type)s (expected %(rule)s)"),
            name=repr(name),
            type=type(value).__name__,
            rule=rule.describe(),
        )
    if rule.kind == "int" and not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            return Problem(
                _("parameter %(name)s must be an integer (expected %(rule)s)"),
                name=repr(name),
                rule=rule.describe(),
            )
    if isinstance(value, float) and not math.isfinite(value):
        return Problem(_("parameter %(name)s must be a finite number"), name=repr(name))
    too_low = rule.lo is not None and (value <= rule.lo if rule.lo_open else value < rule.lo)
    too_high = rule.hi is not None and value > rule.hi
    if too_low or too_high:
        return Problem(
            _("parameter %(name)s = %(value)s is out of range (expected %(rule)s)"),
            name=repr(name),
            value=value,
            rule=rule.describe(),
        )
    return None


def validate_spec(
    spec: TrainingSpec, columns: dict[str, str], *, label_classes: int | None = None
) -> list[str]:
    """Human-readable problems with ``spec`` against a table with ``columns`` (name -> type).

    ``label_classes``, when known, is the number of distinct label values; a classification
    label with fewer than two is a problem. An empty list means the spec is trainable.
    """
    problems: list[str] = []
    add = problems.append
    if spec.algorithm not in ALGORITHMS:
        add(
            Problem(
                _("unknown algorithm %(algorithm)s; expected one of %(choices)s"),
                algorithm=repr(spec.algorithm),
                choices=", ".join(ALGORITHMS),
            )
        )
    if spec.objective not in OBJECTIVES:
        add(
            Problem(
                _("unknown objective %(objective)s; expected one of %(choices)s"),
                objective=repr(spec.objective),
                choices=", ".join(OBJECTIVES),
            )
        )
    if spec.algorithm == "logistic_regression" and spec.objective == "regression":
        add(Problem(_("logistic_regression supports the binary and multiclass objectives only")))
    if spec.algorithm == "scorecard" and spec.objective != "binary":
        add(Problem(_("a scorecard needs a binary label (two classes, one of them the event)")))

    if not isinstance(spec.params, dict):
        add(Problem(_("params must be an object")))
    elif spec.algorithm in PARAM_CHECKS:
        features = spec.features if isinstance(spec.features, list) else []
        problems.extend(PARAM_CHECKS[spec.algorithm](spec.params, features))
    elif spec.algorithm in PARAM_RULES:
        rules = PARAM_RULES[spec.algorithm]
        for name, value in spec.params.items():
            if name not in rules:
                add(
                    Problem(
                        _("unknown parameter %(name)s for %(algorithm)s; known: %(known)s"),
                        name=repr(name),
                        algorithm=spec.algorithm,
                        known=", ".join(sorted(rules)),
                    )
                )
                continue
            problem = _check_param(name, value, rules[name])
            if problem:
                add(problem)

    label = repr(spec.label)
    if not isinstance(spec.label, str) or not spec.label:
        add(Problem(_("a label column is required")))
    elif spec.label not in columns:
        add(Problem(_("label column %(label)s does not exist"), label=label))
    elif spec.objective == "regression" and _dtype_kind(columns[spec.label]) != "numeric":
        add(Problem(_("label column %(label)s must be numeric for regression"), label=label))

    features = spec.features if isinstance(spec.features, list) else []
    if not features:
        add(Problem(_("at least one feature column is required")))
    missing = [f for f in features if f not in columns]
    if missing:
        add(Problem(_("feature columns do not exist: %(columns)s"), columns=", ".join(map(str, missing))))
    if len(set(features)) != len(features):
        add(Problem(_("feature columns are listed more than once")))
    if spec.label in features:
        add(Problem(_("the label %(label)s cannot also be a feature"), label=label))
    for f in features:
        if f in columns and _dtype_kind(columns[f]) in ("temporal", "other"):
            add(
                Problem(
                    _("feature column %(column)s has unsupported type %(type)s"),
                    column=repr(f),
                    type=columns[f],
                )
            )
    if spec.categorical is not None:
        stray = [c for c in spec.categorical if c not in features]
        if stray:
            add(
                Problem(
                    _("categorical columns are not features: %(columns)s"), columns=", ".join(map(str, stray))
                )
            )

    if spec.split not in SPLITS:
        add(
            Problem(
                _("unknown split %(split)s; expected one of %(choices)s"),
                split=repr(spec.split),
                choices=", ".join(SPLITS),
            )
        )
    if spec.split == "time":
        time_column = repr(spec.time_column)
        if not spec.time_column:
            add(Problem(_("a time split needs a time_column")))
        elif spec.time_column not in columns:
            add(Problem(_("time column %(column)s does not exist"), column=time_column))
        elif spec.time_column in features:
            add(Problem(_("the time column %(column)s cannot also be a feature"), column=time_column))
    if spec.split == "stratified" and spec.objective == "regression":
        add(Problem(_("a stratified split needs a classification objective")))
    share = spec.validation_share
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0.05 <= share <= 0.5:
        add(Problem(_("validation_share must be a number in [0.05, 0.5]")))
    if isinstance(spec.seed, bool) or not isinstance(spec.seed, int) or not 0 <= spec.seed < 2**31:
        add(Problem(_("seed must be an integer in [0, 2147483647]")))
    threads = spec.num_threads
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 64:
        add(Problem(_("num_threads must be an integer in [1, 64]")))

    if label_classes is not None and spec.objective in ("binary", "multiclass"):
        if label_classes < 2:
            add(
                Problem(
                    _("label column %(label)s has %(count)s class; classification needs two"),
                    label=label,
                    count=label_classes,
                )
            )
        elif spec.objective == "binary" and label_classes != 2:
            add(
                Problem(
                    _(
                        "label column %(label)s has %(count)s classes; binary needs exactly two "
                        "(use multiclass)"
                    ),
                    label=label,
                    count=label_classes,
                )
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
