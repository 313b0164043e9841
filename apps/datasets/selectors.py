"""Reads of the datasets domain."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from .models import Dataset, DatasetStatus, DatasetVersion


def datasets_with_latest() -> QuerySet[Dataset]:
    """Datasets annotated with their newest version's id, status and number."""
    newest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-version")
    return Dataset.objects.select_related("created_by").annotate(
        latest_version_id=Subquery(newest.values("pk")[:1]),
        latest_status=Subquery(newest.values("status")[:1]),
        latest_number=Subquery(newest.values("version")[:1]),
    )


def latest_validated_versions() -> QuerySet[DatasetVersion]:
    newest = DatasetVersion.objects.filter(
        dataset=OuterRef("dataset"), status=DatasetStatus.VALIDATED
    ).order_by("-version")
    return (
        DatasetVersion.objects.filter(pk=Subquery(newest.values("pk")[:1]), dataset__is_archived=False)
        .select_related("dataset")
        .only("version", "quality_score", "quality", "dataset__name")
    )


def dataset_version(dataset: Dataset, number: int | None) -> DatasetVersion | None:
    """A given version of a dataset, or its newest validated one (else its newest)."""
    versions = dataset.versions.all()
    if number is not None:
        return versions.filter(version=number).first()
    return versions.filter(status=DatasetStatus.VALIDATED).order_by("-version").first() or versions.first()
