"""Writes of the feature center: features, versions, registration from data, feature sets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.trail import trail_changed
from apps.datasets.models import DatasetKind, DatasetStatus, DatasetVersion
from apps.datasets.services import stored_file_path
from apps.users.models import User

from . import statistics
from .errors import FeatureNameTaken, FeatureSetLocked, NotReady
from .models import Feature, FeatureSet, FeatureSetItem, FeatureVersion, Tag

# Changing one of these is a new definition, hence a new version; the rest is description.
DEFINITION_FIELDS = ("type", "data_type", "shape", "metadata")


def _set_tags(feature: Feature, names: Iterable[str]) -> None:
    names = sorted(set(names))
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    feature.tags.set([existing[n] for n in names])


def feature_version_snapshot(
    *,
    feature: Feature,
    user: User,
    statistics_: dict | None = None,
    dataset_version: DatasetVersion | None = None,
    source_column: str = "",
    note: str = "",
) -> FeatureVersion:
    return FeatureVersion.objects.create(
        feature=feature,
        version=feature.version,
        type=feature.type,
        data_type=feature.data_type,
        shape=feature.shape,
        metadata=feature.metadata,
        statistics=statistics_,
        dataset_version=dataset_version,
        source_column=source_column,
        change_note=note,
        created_by=user,
    )


@transaction.atomic
def feature_create(
    *,
    name: str,
    type: str,
    user: User,
    display_name: str = "",
    description: str = "",
    data_type: str = "",
    shape: list[int] | None = None,
    tags: Iterable[str] = (),
    metadata: dict | None = None,
) -> Feature:
    """Register a new feature (version 1). A taken name is a Conflict."""
    try:
        with transaction.atomic():
            feature = Feature.objects.create(
                name=name,
                type=type,
                display_name=display_name,
                description=description,
                data_type=data_type,
                shape=shape or [],
                metadata=metadata or {},
                created_by=user,
            )
    except IntegrityError:
        raise FeatureNameTaken(_("A feature named %(name)r already exists.") % {"name": name}) from None
    _set_tags(feature, tags)
    feature_version_snapshot(feature=feature, user=user, note=_("created"))
    return feature


@transaction.atomic
def feature_update(
    *, feature: Feature, user: User, tags: Iterable[str] | None = None, **fields: Any
) -> Feature:
    """Edit a feature. A changed definition (type, data type, shape, metadata) is a new version."""
    feature = Feature.objects.select_for_update().get(pk=feature.pk)
    changed = [f for f in DEFINITION_FIELDS if f in fields and fields[f] != getattr(feature, f)]
    if (
        "name" in fields
        and fields["name"] != feature.name
        and Feature.objects.filter(name=fields["name"]).exists()
    ):
        raise FeatureNameTaken(_("A feature named %(name)r already exists.") % {"name": fields["name"]})
    for key, value in fields.items():
        setattr(feature, key, value)
    if changed:
        feature.version += 1
    feature.save()
    if tags is not None:
        _set_tags(feature, tags)
    if changed:
        feature_version_snapshot(
            feature=feature, user=user, note=_("changed %(fields)s") % {"fields": ", ".join(changed)}
        )
    return feature


def _usable(dataset_version: DatasetVersion) -> None:
    if dataset_version.dataset.kind != DatasetKind.TABULAR:
        raise NotReady(_("Features are registered from tabular datasets."))
    if dataset_version.status != DatasetStatus.VALIDATED or not dataset_version.parquet:
        raise NotReady(
            _("%(version)s is %(status)s; only validated versions can be used.")
            % {"version": dataset_version, "status": str(dataset_version.get_status_display()).lower()}
        )


def features_propose(*, dataset_version: DatasetVersion) -> list[dict]:
    """One proposal per column (the label excluded): name, type, data type, statistics, IV."""
    _usable(dataset_version)
    label = dataset_version.label_column or None
    with stored_file_path(dataset_version.parquet) as path:
        try:
            stats = statistics.feature_statistics(path, label=label)
        except statistics.LabelError as exc:  # the data's fault: a 400 naming the dataset
            raise NotReady(
                _("%(version)s cannot give IV: %(reason)s")
                % {"version": dataset_version, "reason": _(exc.template) % exc.params}
            ) from None
    existing = set(
        Feature.objects.filter(name__in=[statistics.suggest_feature_name(c) for c in stats]).values_list(
            "name", flat=True
        )
    )
    proposals = []
    for column, column_stats in stats.items():
        name = statistics.suggest_feature_name(column)
        proposals.append(
            {
                "column": column,
                "name": name,
                "type": statistics.infer_feature_type(column_stats["kind"]),
                "data_type": column_stats["dataType"],
                "exists": name in existing,
                "statistics": column_stats,
            }
        )
    return proposals


@transaction.atomic
def features_register(
    *,
    dataset_version: DatasetVersion,
    columns: list[dict],
    user: User,
    tags: Iterable[str] = (),
    feature_set_name: str = "",
    feature_set_description: str = "",
    proposals: list[dict] | None = None,
) -> tuple[list[Feature], FeatureSet | None]:
    """Register chosen columns as features with their statistics; optionally group them in a set.

    ``columns``: ``{"column", "name"?, "display_name"?, "description"?, "type"?, "tags"?}``.
    A feature that exists already gets a new version drawn from this dataset version.
    ``proposals`` from ``features_propose`` on the same version saves computing them again.
    """
    _usable(dataset_version)
    known = {p["column"]: p for p in (proposals or features_propose(dataset_version=dataset_version))}
    unknown = [c["column"] for c in columns if c["column"] not in known]
    if unknown:
        raise NotReady(
            _("Not columns of %(version)s: %(columns)s.")
            % {"version": dataset_version, "columns": ", ".join(unknown)}
        )
    registered: list[Feature] = []
    versions: list[FeatureVersion] = []
    for choice in columns:
        proposal = known[choice["column"]]
        name = choice.get("name") or proposal["name"]
        feature_type = choice.get("type") or proposal["type"]
        feature = Feature.objects.select_for_update().filter(name=name).first()
        if feature is None:
            feature = Feature.objects.create(
                name=name,
                type=feature_type,
                display_name=choice.get("display_name") or proposal["column"],
                description=choice.get("description", ""),
                data_type=proposal["data_type"],
                created_by=user,
            )
        else:
            feature.version += 1
            feature.type, feature.data_type = feature_type, proposal["data_type"]
            feature.save()
        _set_tags(feature, {*feature.tags.values_list("name", flat=True), *tags, *choice.get("tags", [])})
        versions.append(
            feature_version_snapshot(
                feature=feature,
                user=user,
                statistics_=proposal["statistics"],
                dataset_version=dataset_version,
                source_column=proposal["column"],
                note=_("registered from %(version)s") % {"version": dataset_version},
            )
        )
        registered.append(feature)
    feature_set = None
    if feature_set_name:
        feature_set = feature_set_create(
            name=feature_set_name,
            dataset_version=dataset_version,
            feature_versions=versions,
            user=user,
            description=feature_set_description,
            label_column=dataset_version.label_column,
        )
    return registered, feature_set


@transaction.atomic
def feature_set_create(
    *,
    name: str,
    dataset_version: DatasetVersion,
    feature_versions: list[FeatureVersion],
    user: User,
    description: str = "",
    label_column: str = "",
) -> FeatureSet:
    """A new version of the feature set ``name`` (version 1 if the name is new)."""
    _usable(dataset_version)
    if not feature_versions:
        raise NotReady(_("A feature set needs at least one feature."))
    number = (FeatureSet.objects.filter(name=name).aggregate(n=Max("version"))["n"] or 0) + 1
    feature_set = FeatureSet.objects.create(
        name=name,
        version=number,
        description=description,
        dataset_version=dataset_version,
        label_column=label_column,
        created_by=user,
    )
    FeatureSetItem.objects.bulk_create(
        FeatureSetItem(feature_set=feature_set, feature_version=v, position=i)
        for i, v in enumerate(feature_versions)
    )
    trail_changed(feature_set, features=([], _members(feature_versions)))
    return feature_set


def _members(feature_versions) -> list[str]:
    """A set's members as the governance trail records them, in order ("income v2")."""
    return [str(v) for v in feature_versions]


@transaction.atomic
def feature_set_update(
    *,
    feature_set: FeatureSet,
    user: User,
    feature_versions: list[FeatureVersion] | None = None,
    **fields: Any,
) -> FeatureSet:
    """Edit a set in place, unless a model version uses it (then: Conflict, make a new version)."""
    feature_set = FeatureSet.objects.select_for_update().get(pk=feature_set.pk)
    if feature_set.is_locked:
        raise FeatureSetLocked(
            _("%(feature_set)s is used by a model version and cannot change; create a new version instead.")
            % {"feature_set": feature_set}
        )
    for key, value in fields.items():
        setattr(feature_set, key, value)
    feature_set.save()
    if feature_versions is not None:
        if not feature_versions:
            raise NotReady(_("A feature set needs at least one feature."))
        items = feature_set.items.select_related("feature_version__feature")
        before = _members(item.feature_version for item in items)
        feature_set.items.all().delete()
        FeatureSetItem.objects.bulk_create(
            FeatureSetItem(feature_set=feature_set, feature_version=v, position=i)
            for i, v in enumerate(feature_versions)
        )
        trail_changed(feature_set, features=(before, _members(feature_versions)))
    return feature_set


def feature_set_lock(*, feature_set: FeatureSet) -> None:
    """Freeze a set: called when a model version starts using it."""
    now = timezone.now()
    if FeatureSet.objects.filter(pk=feature_set.pk, locked_at__isnull=True).update(locked_at=now):
        trail_changed(feature_set, locked_at=(None, now))
