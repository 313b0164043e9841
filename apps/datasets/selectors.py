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


def quality_alerts(limit: int = 20) -> list[dict]:
    """Alerts of each dataset's newest validated version, errors first."""
    rows = []
    for version in latest_validated_versions():
        for alert in (version.quality or {}).get("alerts", []):
            rows.append(
                {
                    "dataset": version.dataset.name,
                    "dataset_id": version.dataset_id,
                    "version": version.version,
                    "score": version.quality_score,
                    **alert,
                }
            )
    rows.sort(key=lambda a: (a.get("level") != "error", a["dataset"]))
    return rows[:limit]


def recent_versions(limit: int = 8) -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.select_related("dataset", "created_by").order_by("-created_at")[:limit]
