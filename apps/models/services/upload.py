"""Uploaded model files: registered as versions without ever running code from them."""

from __future__ import annotations

import os
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from .. import artifacts
from ..errors import ArtifactError, LifecycleError, UploadRefused
from ..models import Model, ModelType, ModelVersion, VersionSource
from .registry import model_create, model_type_for, version_register
from .storage import artifact_discard, artifact_store_bytes

# Largest model file accepted by upload (a LightGBM text model of thousands of trees).
MAX_UPLOAD_BYTES = 200 * 2**20


def _uploaded_schema(fmt: str, model: Any) -> tuple[str, str, list[str], list[Any]]:
    """(algorithm, objective, feature names, label classes) read from an uploaded model."""
    if fmt == "lightgbm-text":
        objective_line = next(
            (line for line in model.model_to_string().splitlines()[:50] if line.startswith("objective=")), ""
        )
        kind = objective_line.removeprefix("objective=").split(" ")[0]
        objective = {"binary": "binary", "multiclass": "multiclass", "multiclassova": "multiclass"}.get(
            kind, "regression"
        )
        classes = list(range(model.num_model_per_iteration())) if objective == "multiclass" else [0, 1]
        return "lightgbm", objective, list(model.feature_name()), classes if objective != "regression" else []
    estimator = model.steps[-1][1] if hasattr(model, "steps") else model
    names = [str(n) for n in getattr(model, "feature_names_in_", [])]
    classes = [c.item() if hasattr(c, "item") else c for c in getattr(estimator, "classes_", [])]
    objective = ("binary" if len(classes) == 2 else "multiclass") if classes else "regression"
    algorithm = {
        "LogisticRegression": "logistic_regression",
        "RandomForestClassifier": "random_forest",
        "RandomForestRegressor": "random_forest",
    }.get(type(estimator).__name__, type(estimator).__name__.lower())
    return algorithm, objective, names, classes


def _feature_names(features: list[str] | None, declared: list[str]) -> list[str]:
    """The version's feature names: ``features`` when given (matching what the file declares)."""
    if features is None:
        if not declared:
            raise UploadRefused(gettext("The file does not name its features; give them as features."))
        return declared
    if len(set(features)) != len(features) or not all(isinstance(f, str) and f for f in features):
        raise UploadRefused(gettext("features must be distinct, non-empty names."))
    if declared and list(features) != declared:
        if len(declared) > 8 or len(features) > 8:
            raise UploadRefused(
                gettext(
                    "The file's features (%(declared_count)s: %(declared)s...) do not match "
                    "the given features (%(given_count)s: %(given)s...)."
                )
                % {
                    "declared_count": len(declared),
                    "declared": ", ".join(declared[:8]),
                    "given_count": len(features),
                    "given": ", ".join(features[:8]),
                }
            )
        raise UploadRefused(
            gettext("The file's features (%(declared)s) do not match the given ones (%(given)s).")
            % {"declared": ", ".join(declared), "given": ", ".join(features)}
        )
    return list(features)


def version_upload(
    *,
    model: Model,
    data: bytes,
    filename: str,
    user,
    version_number: int | None = None,
    features: list[str] | None = None,
    changelog: str = "",
) -> ModelVersion:
    """Register an uploaded model file as a version, without ever running code from it.

    Pickle-family files are refused from their bytes; LightGBM text and skops (with the
    platform's trusted-type list) are loaded once to read their schema. ``features``,
    when given, must match the names the file declares; a file without names needs them.
    Raises UploadRefused (the file, its schema, the model) or VersionTaken.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(
            gettext("Model files are limited to %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20}
        )
    if model.type == ModelType.RETRIEVAL:
        raise UploadRefused(gettext("Retrieval models are built from bank records, not uploaded."))
    try:
        fmt, loaded = artifacts.load_upload(data, filename)
    except ArtifactError as exc:
        raise UploadRefused(exc.message) from exc
    algorithm, objective, declared, classes = _uploaded_schema(fmt, loaded)
    names = _feature_names(features, declared)
    if fmt == "lightgbm-text" and loaded.num_feature() != len(names):
        raise UploadRefused(
            gettext("The model takes %(expected)s features; %(given)s were named.")
            % {"expected": loaded.num_feature(), "given": len(names)}
        )
    expected_type = model_type_for(objective=objective)
    if model.type != expected_type:
        raise UploadRefused(
            gettext("%(model)s is a %(type)s model; this file is a %(other)s model.")
            % {
                "model": model,
                "type": str(ModelType(model.type).label).lower(),
                "other": str(ModelType(expected_type).label).lower(),
            }
        )
    meta = {
        "features": names,
        "categorical_levels": {},
        "label_classes": classes,
        "objective": objective,
        "dtype": "float64",
        "uploaded": True,
    }
    stored = artifact_store_bytes(model_bytes=data, fmt=fmt, meta=meta)
    try:
        version, _ = version_register(
            model_name=model.name,
            model_type=model.type,
            algorithm=algorithm,
            stored=stored,
            user=user,
            objective=objective,
            feature_schema={"features": names, "categoricalLevels": {}, "labelClasses": classes},
            source=VersionSource.UPLOADED,
            library_versions={"uploadedFile": os.path.basename(filename)[:200]},
            changelog=changelog or gettext("Uploaded %(file)s.") % {"file": os.path.basename(filename)[:200]},
            version_number=version_number,
        )
    except LifecycleError as exc:  # the model was archived (or changed type) meanwhile
        artifact_discard(stored=stored)
        raise UploadRefused(exc.message) from exc
    except BaseException:
        artifact_discard(stored=stored)
        raise
    return version


def model_create_with_upload(
    *,
    name: str,
    type: str,
    algorithm: str,
    user,
    data: bytes,
    filename: str,
    description: str = "",
    parameters: dict | None = None,
    version_number: int | None = None,
) -> ModelVersion:
    """Register a model and, from an uploaded file, its first version: both or neither.

    Raises ModelNameTaken, UploadRefused or VersionTaken, storing nothing."""
    with transaction.atomic():
        model = model_create(
            name=name,
            type=type,
            algorithm=algorithm,
            user=user,
            description=description,
            parameters=parameters,
        )
        return version_upload(
            model=model, data=data, filename=filename, user=user, version_number=version_number
        )
