"""Portable ONNX exports of OMM's trained models, verified against the model when made.

Pure module (no Django import). ``onnx_export`` turns a LightGBM text model or a skops
Pipeline into ONNX bytes, runs them with onnxruntime on the caller's check rows (the
version's holdout) and raises ``ExportError`` when any score differs from
``training.score_matrix`` by more than ``TOLERANCE``: an export that disagrees with the
model is never handed out. ``export_schema`` tells a bank's system how to feed it.

Precision: the graph takes float64 and computes in float64 end to end.
- LightGBM: one ``TreeEnsemble`` node (ai.onnx.ml opset 5) built from ``dump_model()``,
  which keeps LightGBM's double thresholds and its native categorical splits (set
  membership). onnxmltools' converter writes the float32 ``TreeEnsembleClassifier`` /
  ``Regressor`` (opset <= 3, no double option, and its ``split`` option covers the
  regressor's sums only), which drifts by ~2e-7 on probabilities and ~2e-3 on a
  regression forest, so it cannot meet the 1e-6 check.
- skops Pipeline: skl2onnx converts the whole Pipeline with a float64 input
  (ColumnTransformer, StandardScaler as Sub/Div, OneHotEncoder, LogisticRegression as
  MatMul/Add/Sigmoid|Softmax). Two pieces get converters of their own for this call:
  SimpleImputer (skl2onnx emits the float32-only ``Imputer`` op) and the random forests
  (skl2onnx's double trees output float); the forests reuse the opset-5 tree builder, with
  the input rounded to float32 first as scikit-learn's trees do.

Outputs follow skl2onnx's names: ``probabilities`` (n, classes) for binary and multiclass
(binary column 1 is the event), ``variable`` (n, 1) for regression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.models.training import score_matrix

from . import _trees

TOLERANCE = 1e-6
MAX_CHECK_ROWS = 10_000
INPUT_NAME = "features"
EXPORT_FORMATS = ("lightgbm-text", "skops")
# Default-domain opset 21 (ONNX 1.16) is the newest one skl2onnx 1.20 is tested with;
# ai.onnx.ml 5 brings the double-precision TreeEnsemble.
OPSET = {"": 21, "ai.onnx.ml": 5}
_OUTPUT = {"binary": "probabilities", "multiclass": "probabilities", "regression": "variable"}


def _(text: str) -> str:
    """Marks ``text`` for translation (this module imports no Django)."""
    return text


class ExportError(ValueError):
    """The model cannot be exported faithfully: English text plus the marked ``template``
    and its ``params``, so an adapter can translate it."""

    def __init__(self, template: str, **params: Any):
        super().__init__(template % params if params else template)
        self.template, self.params = template, params


class ExportUnsupported(ExportError):
    """No converter for this kind of model."""


@dataclass(frozen=True)
class OnnxExport:
    onnx_bytes: bytes
    max_abs_diff: float
    rows_checked: int
    input_name: str
    output_name: str
    opset: dict[str, int]
    library_versions: dict[str, str]


# --------------------------------------------------------------------------- public API


def onnx_export(model_format: str, model: Any, meta: dict[str, Any], X_check: np.ndarray) -> OnnxExport:
    """The ONNX form of a trained model, checked on ``X_check`` (at most ``MAX_CHECK_ROWS``
    rows are used). Raises ``ExportUnsupported`` for a format without a converter and
    ``ExportError`` when the export cannot be made or disagrees with the model."""
    objective = meta.get("objective")
    if model_format not in EXPORT_FORMATS:
        raise ExportUnsupported(
            _("models stored as %(format)s cannot be exported to ONNX; exportable formats: %(formats)s"),
            format=repr(model_format),
            formats=", ".join(EXPORT_FORMATS),
        )
    if objective not in _OUTPUT:
        raise ExportUnsupported(
            _("the objective %(objective)s cannot be exported"), objective=repr(objective)
        )
    n_features = len(meta["features"])
    X = np.asarray(X_check)
    if X.ndim != 2 or X.shape[1] != n_features or X.shape[0] == 0:
        raise ExportError(
            _("the check rows must be a non-empty matrix of %(n)s feature columns, got shape %(shape)s"),
            n=n_features,
            shape=str(X.shape),
        )
    X = X[:MAX_CHECK_ROWS].astype(np.dtype(meta.get("dtype", "float64")), copy=False)

    try:
        if model_format == "lightgbm-text":
            proto, versions = _lightgbm_to_onnx(model, objective, n_features)
        else:
            proto, versions = _sklearn_to_onnx(model, objective, n_features)
        onnx_bytes = proto.SerializeToString()
        got = run_onnx(onnx_bytes, X, objective)
    except ExportError:
        raise
    except Exception as exc:  # onnx's checker and onnxruntime raise plain Exception subclasses
        raise ExportError(
            _("the ONNX model could not be built or run: %(reason)s"),
            reason=f"{type(exc).__name__}: {str(exc)[:300]}",
        ) from exc
    output_name = _OUTPUT[objective]
    expected = np.asarray(score_matrix(model_format, model, X, objective), dtype=np.float64)
    if got.shape != expected.shape:
        raise ExportError(
            _("the ONNX model gives scores of shape %(got)s, the model %(expected)s"),
            got=str(got.shape),
            expected=str(expected.shape),
        )
    same_nan = np.isnan(got) == np.isnan(expected)
    diff = np.abs(np.nan_to_num(got - expected, nan=0.0))
    max_diff = float(diff.max()) if same_nan.all() else float("inf")
    if not max_diff <= TOLERANCE:
        raise ExportError(
            _(
                "the ONNX model disagrees with the trained model by up to %(diff)s on %(rows)s "
                "check rows (allowed: %(tolerance)s); the export was not made"
            ),
            diff=f"{max_diff:.3g}",
            rows=len(X),
            tolerance=f"{TOLERANCE:g}",
        )
    return OnnxExport(
        onnx_bytes=onnx_bytes,
        max_abs_diff=max_diff,
        rows_checked=len(X),
        input_name=INPUT_NAME,
        output_name=output_name,
        opset={domain or "ai.onnx": op.version for domain, op in _opsets(proto).items()},
        library_versions=versions,
    )


def run_onnx(onnx_bytes: bytes, X: np.ndarray, objective: str) -> np.ndarray:
    """Scores of an exported model in ``score_matrix``'s layout (binary: P(event);
    multiclass: the probability matrix; regression: the value), run by onnxruntime."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a check run, not a server: no thread pool to wake
    session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    (out,) = session.run([_OUTPUT[objective]], {INPUT_NAME: np.asarray(X, dtype=np.float64)})
    out = np.asarray(out, dtype=np.float64)
    if objective == "binary":
        return out[:, 1]
    return out if objective == "multiclass" else out.reshape(-1)


def export_schema(meta: dict[str, Any]) -> dict[str, Any]:
    """What a system needs to feed the exported model and read its answer (JSON-able)."""
    levels = meta.get("categorical_levels") or {}
    objective = meta["objective"]
    features = []
    for j, name in enumerate(meta["features"]):
        if name in levels:
            features.append(
                {
                    "column": j,
                    "name": name,
                    "kind": "categorical",
                    "levels": list(levels[name]),
                    "encoding": _("the index of the value in levels (0, 1, ...); NaN when missing or unseen"),
                }
            )
        else:
            features.append(
                {"column": j, "name": name, "kind": "numeric", "encoding": _("the number; NaN when missing")}
            )
    classes = list(meta.get("label_classes") or [])
    if objective == "regression":
        columns = [_("predicted value of %(label)s") % {"label": meta.get("label")}]
        shape: list[Any] = ["n", 1]
    else:
        columns = [_("probability of class %(value)s") % {"value": c} for c in classes]
        if objective == "binary" and len(classes) == 2:
            columns[1] = _("probability of event class %(value)s") % {"value": classes[1]}
        shape = ["n", len(classes)]
    return {
        "input": {"name": INPUT_NAME, "dtype": "float64", "shape": ["n", len(features)]},
        "features": features,
        "output": {
            "name": _OUTPUT[objective],
            "dtype": "float64",
            "shape": shape,
            "columns": columns,
            "score_column": 1 if objective == "binary" else None,
        },
        "objective": objective,
        "opset": {domain or "ai.onnx": v for domain, v in OPSET.items()},
    }


# --------------------------------------------------------------------------- LightGBM


def _lightgbm_to_onnx(booster: Any, objective: str, n_features: int):
    import lightgbm as lgb
    import onnx
    from onnx import TensorProto, helper

    dump = booster.dump_model()
    lgb_objective = str(dump.get("objective", "")).split(" ")
    if dump.get("average_output") or lgb_objective[0] != objective:
        raise ExportUnsupported(
            _("LightGBM models with the objective %(lgb)s cannot be exported as %(objective)s"),
            lgb=repr(" ".join(lgb_objective)),
            objective=objective,
        )
    if int(dump["max_feature_idx"]) + 1 != n_features:
        raise ExportError(
            _("the LightGBM model reads %(model)s features but its meta lists %(meta)s"),
            model=int(dump["max_feature_idx"]) + 1,
            meta=n_features,
        )
    try:
        ens = _trees.lightgbm_ensemble(dump)
    except _trees.UnconvertibleTree as exc:
        raise ExportUnsupported(str(exc)) from exc
    out = _OUTPUT[objective]
    nodes = [ens.to_node(INPUT_NAME, "raw", aggregate=_trees.AGG_SUM, name="trees")]
    inits = []
    if objective == "binary":
        # LightGBM's P(event) = 1 / (1 + exp(-sigmoid * raw)) ("binary sigmoid:1").
        sigmoid = float(_param(lgb_objective, "sigmoid", 1.0))
        inits += [_const("one", [1.0]), _const("sigmoid_scale", [sigmoid])]
        nodes += [
            helper.make_node("Mul", ["raw", "sigmoid_scale"], ["scaled"]),
            helper.make_node("Sigmoid", ["scaled"], ["p_event"]),
            helper.make_node("Sub", ["one", "p_event"], ["p_other"]),
            helper.make_node("Concat", ["p_other", "p_event"], [out], axis=1),
        ]
    elif objective == "multiclass":
        nodes.append(helper.make_node("Softmax", ["raw"], [out], axis=1))
    else:
        nodes.append(helper.make_node("Identity", ["raw"], [out]))
    width = ens.n_targets if objective == "multiclass" else (2 if objective == "binary" else 1)
    graph = helper.make_graph(
        nodes,
        "omm_lightgbm",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.DOUBLE, [None, n_features])],
        [helper.make_tensor_value_info(out, TensorProto.DOUBLE, [None, width])],
        initializer=inits,
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(d, v) for d, v in OPSET.items()],
        producer_name="omm",
        # ONNX IR 10 (onnx 1.16+), which every onnxruntime that has TreeEnsemble-5 reads.
        ir_version=10,
    )
    onnx.checker.check_model(proto)
    return proto, _versions(lightgbm=lgb.__version__)


def _param(words: list[str], name: str, default: float) -> float:
    for word in words[1:]:
        key, __, value = word.partition(":")
        if key == name:
            return float(value)
    return default


def _const(name: str, values: list[float]):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.asarray(values, dtype=np.float64), name)


# --------------------------------------------------------------------------- scikit-learn


def _sklearn_to_onnx(pipe: Any, objective: str, n_features: int):
    import skl2onnx
    import sklearn
    from skl2onnx.common.data_types import DoubleTensorType
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    if not isinstance(pipe, Pipeline):
        raise ExportUnsupported(
            _("only scikit-learn Pipelines can be exported, not %(kind)s"), kind=type(pipe).__name__
        )
    n_in = getattr(pipe, "n_features_in_", n_features)
    if n_in != n_features:
        raise ExportError(
            _("the pipeline reads %(model)s features but its meta lists %(meta)s"),
            model=n_in,
            meta=n_features,
        )
    estimator = pipe.steps[-1][1]
    options = {}
    if isinstance(estimator, (LogisticRegression, RandomForestClassifier)):
        options[id(estimator)] = {"zipmap": False}
    try:
        proto = skl2onnx.convert_sklearn(
            pipe,
            initial_types=[(INPUT_NAME, DoubleTensorType([None, n_features]))],
            # skl2onnx 1.20 refuses to write ai.onnx.ml 5; see _with_tree_ensemble_5.
            target_opset={"": OPSET[""], "ai.onnx.ml": 3},
            options=options,
            custom_conversion_functions={
                SimpleImputer: _convert_imputer,
                RandomForestClassifier: _convert_forest,
                RandomForestRegressor: _convert_forest,
            },
            custom_shape_calculators={RandomForestClassifier: _forest_classifier_shapes},
        )
    except (RuntimeError, NotImplementedError, TypeError, KeyError) as exc:
        # skl2onnx's "missing converter/shape calculator" errors for a step it lacks.
        raise ExportUnsupported(
            _("this scikit-learn pipeline cannot be converted: %(reason)s"),
            reason=f"{type(exc).__name__}: {str(exc)[:300]}",
        ) from exc
    _with_tree_ensemble_5(proto)
    outputs = [o.name for o in proto.graph.output]
    if _OUTPUT[objective] not in outputs:
        raise ExportError(
            _("the converted pipeline has no output %(name)s (it has %(outputs)s)"),
            name=_OUTPUT[objective],
            outputs=", ".join(outputs),
        )
    return proto, _versions(**{"scikit-learn": sklearn.__version__, "skl2onnx": skl2onnx.__version__})


def _convert_imputer(scope: Any, operator: Any, container: Any) -> None:
    """SimpleImputer in float64: IsNaN then Where with the fitted statistics."""
    from onnx import TensorProto

    imputer = operator.raw_operator
    missing = imputer.missing_values
    if not (isinstance(missing, float) and np.isnan(missing)) or imputer.add_indicator:
        raise NotImplementedError("SimpleImputer without NaN as its missing value or with an indicator")
    stats = np.asarray(imputer.statistics_, dtype=np.float64).reshape(1, -1)
    x = operator.inputs[0].full_name
    fill = scope.get_unique_variable_name("fill")
    container.add_initializer(fill, TensorProto.DOUBLE, list(stats.shape), stats.ravel().tolist())
    is_nan = scope.get_unique_variable_name("is_nan")
    _add(scope, container, "IsNaN", [x], [is_nan])
    _add(scope, container, "Where", [is_nan, fill, x], [operator.outputs[0].full_name])


def _convert_forest(scope: Any, operator: Any, container: Any) -> None:
    """A random forest as one TreeEnsemble-5 node on the input rounded to float32 (the
    trees compare ``float32(x) <= threshold``: scikit-learn's tree DTYPE)."""
    from onnx import TensorProto

    forest = operator.raw_operator
    is_classifier = hasattr(forest, "classes_")
    n_classes = len(forest.classes_) if is_classifier else 0
    ens = _trees.sklearn_forest_ensemble(forest, list(range(n_classes)) if is_classifier else None)
    x32 = scope.get_unique_variable_name("x32")
    x64 = scope.get_unique_variable_name("x64")
    _add(scope, container, "Cast", [operator.inputs[0].full_name], [x32], to=TensorProto.FLOAT)
    _add(scope, container, "Cast", [x32], [x64], to=TensorProto.DOUBLE)
    # A classifier's outputs are (label, probabilities), a regressor's (value,).
    scores = operator.outputs[1 if is_classifier else 0].full_name
    _add(
        scope,
        container,
        "TreeEnsemble",
        [x64],
        [scores],
        op_domain="ai.onnx.ml",
        op_version=3,  # written as 3 for skl2onnx, raised to 5 by _with_tree_ensemble_5
        **ens.attributes(_trees.AGG_SUM),
    )
    if is_classifier:
        # The label output skl2onnx declares: the class with the highest probability.
        classes = scope.get_unique_variable_name("classes")
        labels = [int(c) for c in forest.classes_]
        container.add_initializer(classes, TensorProto.INT64, [n_classes], labels)
        best = scope.get_unique_variable_name("best")
        _add(scope, container, "ArgMax", [scores], [best], axis=1, keepdims=0)
        _add(scope, container, "Gather", [classes, best], [operator.outputs[0].full_name])


def _forest_classifier_shapes(operator: Any) -> None:
    """(label int64 [n], probabilities float64 [n, classes]): skl2onnx declares float32."""
    from skl2onnx.common.data_types import DoubleTensorType, Int64TensorType

    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = Int64TensorType([n])
    operator.outputs[1].type = DoubleTensorType([n, len(operator.raw_operator.classes_)])


def _with_tree_ensemble_5(proto: Any) -> None:
    """Declare ai.onnx.ml opset 5 when the graph holds a TreeEnsemble node. skl2onnx caps
    the domain at 3 when it assembles the model; the other ai.onnx.ml operators a
    pipeline uses here (OneHotEncoder, ArrayFeatureExtractor, Normalizer...) did not change
    between opset 3 and 5, and the ONNX checker validates the result."""
    import onnx

    if not any(n.op_type == "TreeEnsemble" for n in proto.graph.node):
        return
    for opset in proto.opset_import:
        if opset.domain == "ai.onnx.ml":
            opset.version = OPSET["ai.onnx.ml"]
    onnx.checker.check_model(proto, full_check=True)


def _add(scope: Any, container: Any, op_type: str, inputs: list, outputs: list, **attrs: Any) -> None:
    container.add_node(op_type, inputs, outputs, name=scope.get_unique_operator_name(op_type), **attrs)


# --------------------------------------------------------------------------- helpers


def _opsets(proto: Any) -> dict[str, Any]:
    return {op.domain: op for op in proto.opset_import}


def _versions(**extra: str) -> dict[str, str]:
    import onnx
    import onnxruntime

    return {"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, **extra}
