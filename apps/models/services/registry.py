"""The registry proper: models, and versions registered with their stored, signed artifact."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext

from apps.features.services import feature_set_lock

from ..errors import LifecycleError, ModelNameTaken, VersionTaken
from ..models import EventAction, Model, ModelStatus, ModelType, ModelVersion, VersionSource
from ..training import TrainingResult
from .lifecycle import event_record
from .storage import StoredArtifact


def model_type_for(*, objective: str) -> str:
    return ModelType.REGRESSION if objective == "regression" else ModelType.CLASSIFICATION


def _type_label(code: str) -> str:
    """A model type code (``regression``) as the messages say it, in lower case."""
    return str(ModelType(code).label).lower() if code in ModelType.values else code


def _next_version(model: Model) -> int:
    return (model.versions.aggregate(m=Max("version"))["m"] or 0) + 1


def model_create(
    *, name: str, type: str, algorithm: str, user, description: str = "", parameters: dict | None = None
) -> Model:
    """Register a model name before its first version (uploads and trainings may also create it)."""
    name = name.strip()
    if Model.objects.filter(name=name).exists():
        raise ModelNameTaken(gettext("A model named %(name)s exists.") % {"name": repr(name)})
    return Model.objects.create(
        name=name,
        type=type,
        algorithm=algorithm,
        description=description,
        parameters=parameters or {},
        created_by=user,
    )


def version_register(
    *,
    model_name: str,
    model_type: str,
    algorithm: str,
    stored: StoredArtifact,
    user,
    objective: str = "",
    metrics: dict | None = None,
    parameters: dict | None = None,
    feature_schema: dict | None = None,
    source: str = VersionSource.TRAINED,
    task=None,
    dataset_version=None,
    feature_set=None,
    seed: int | None = None,
    library_versions: dict | None = None,
    training_info: dict[str, Any] | None = None,
    changelog: str = "",
    version_number: int | None = None,
    card: dict | None = None,
    derived_from: ModelVersion | None = None,
    reasons_reference: dict | None = None,
) -> tuple[ModelVersion, bool]:
    """Register ``stored`` as a version of ``model_name`` (the next number unless given).

    The model is created if new; an existing model must be of ``model_type`` and not
    archived. Idempotent per task: a task that already registered a version gets that
    version back with ``False``; the caller then discards ``stored``. Raises
    LifecycleError for a wrong type or an archived model, VersionTaken for a version
    number in use.
    """
    if task is not None:
        existing = ModelVersion.objects.filter(task=task).first()
        if existing is not None:
            return existing, False
    with transaction.atomic():
        model, _ = Model.objects.get_or_create(
            name=model_name,
            defaults={
                "type": model_type,
                "algorithm": algorithm,
                "parameters": parameters or {},
                "created_by": user,
            },
        )
        model = Model.objects.select_for_update().get(pk=model.pk)  # serialises version numbers
        if model.type != model_type:
            raise LifecycleError(
                gettext("%(model)s is a %(type)s model; a %(other)s version cannot join it.")
                % {"model": model, "type": _type_label(model.type), "other": _type_label(model_type)}
            )
        if model.status == ModelStatus.ARCHIVED:
            raise LifecycleError(
                gettext("%(model)s is archived; it takes no new versions.") % {"model": model}
            )
        number = version_number or _next_version(model)
        if version_number is not None and model.versions.filter(version=version_number).exists():
            raise VersionTaken(
                gettext("%(model)s already has a version %(number)s.")
                % {"model": model, "number": version_number}
            )
        try:
            with transaction.atomic():
                version = ModelVersion.objects.create(
                    model=model,
                    version=number,
                    changelog=changelog,
                    algorithm=algorithm,
                    objective=objective,
                    metrics=metrics or {},
                    parameters=parameters or {},
                    source=source,
                    artifact=stored.name,
                    artifact_format=stored.format,
                    size=stored.size,
                    checksum=stored.checksum,
                    signature=stored.signature,
                    feature_schema=feature_schema or {},
                    task=task,
                    dataset_version=dataset_version,
                    dataset_sha256=dataset_version.sha256 if dataset_version is not None else "",
                    feature_set=feature_set,
                    seed=seed,
                    library_versions=library_versions or {},
                    training_info=training_info or {},
                    card=card,
                    derived_from=derived_from,
                    reasons_reference=reasons_reference,
                    created_by=user,
                )
        except IntegrityError:
            existing = ModelVersion.objects.filter(task=task).first() if task is not None else None
            if existing is not None:
                return existing, False
            raise
        if feature_set is not None:
            feature_set_lock(feature_set=feature_set)
        event_record(
            version=version, action=EventAction.REGISTER, from_status="", user=user, reason=changelog
        )
    return version, True


def version_register_trained(
    *,
    model_name: str,
    result: TrainingResult,
    stored: StoredArtifact,
    user,
    task=None,
    dataset_version=None,
    feature_set=None,
    training_info: dict[str, Any] | None = None,
    changelog: str = "",
    derived_from: ModelVersion | None = None,
    reasons_reference: dict | None = None,
) -> tuple[ModelVersion, bool]:
    """Register a training result (already stored as ``stored``); see ``version_register``."""
    objective = result.meta.get("objective", "")
    return version_register(
        model_name=model_name,
        model_type=model_type_for(objective=objective),
        algorithm=result.algorithm,
        stored=stored,
        user=user,
        objective=objective,
        metrics=result.metrics,
        parameters=result.params,
        feature_schema={
            "features": result.feature_names,
            "categoricalLevels": result.categorical_levels,
            "label": result.meta.get("label"),
            "labelClasses": result.meta.get("label_classes"),
            **({"eventValue": result.meta["event_value"]} if "event_value" in result.meta else {}),
        },
        card=result.card,
        derived_from=derived_from,
        reasons_reference=reasons_reference,
        task=task,
        dataset_version=dataset_version,
        feature_set=feature_set,
        seed=result.seed,
        library_versions=result.library_versions,
        training_info=training_info,
        changelog=changelog,
    )
