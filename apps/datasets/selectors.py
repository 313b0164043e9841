"""Reads of the datasets domain."""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from . import texts
from .models import Dataset, DatasetKind, DatasetRecord, DatasetStatus, DatasetVersion


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


def versions_of(dataset: Dataset) -> QuerySet[DatasetVersion]:
    """A dataset's versions, newest first, with what their rows show (uploader, task)."""
    return dataset.versions.select_related("dataset", "created_by", "task").order_by("-version")


def version_numbered(dataset: Dataset, number: int) -> DatasetVersion | None:
    return versions_of(dataset).filter(version=number).first()


def invalid_records(version: DatasetVersion, limit: int = 100) -> list[DatasetRecord]:
    """The first invalid lines of a validated bank-records version, in line order."""
    if version.kind != DatasetKind.BANK_RECORDS or version.status != DatasetStatus.VALIDATED:
        return []
    return list(version.records.filter(is_valid=False).order_by("line_number")[:limit])


def records_with_kind(records: QuerySet[DatasetRecord], kind: str) -> QuerySet[DatasetRecord]:
    """The lines having an issue (problem or warning) of ``kind``."""
    return records.filter(issue_kinds__contains=f",{kind},")


def records_with_warnings(
    records: QuerySet[DatasetRecord], with_warnings: bool = True
) -> QuerySet[DatasetRecord]:
    """The lines with (or without) warnings; a line without has NULL (or, written by hand, [])."""
    none = Q(warnings__isnull=True) | Q(warnings=[])
    return records.exclude(none) if with_warnings else records.filter(none)


def flagged_records(version: DatasetVersion, kind: str = "", limit: int = 100) -> list[DatasetRecord]:
    """The first lines of a validated bank-records version with an issue of ``kind``, or
    (no kind) with a warning, in line order."""
    if version.kind != DatasetKind.BANK_RECORDS or version.status != DatasetStatus.VALIDATED:
        return []
    records = version.records.order_by("line_number")
    records = records_with_kind(records, kind) if kind else records_with_warnings(records)
    return list(records[:limit])


def records_quality(version: DatasetVersion) -> dict:
    """The data quality of a validated bank-records version: lines valid, invalid and with
    warnings; lines per problem kind, per warning kind (labels in the reader's language) and
    per code scheme; the scheme declared and the warnings it treated as errors."""
    result = version.validation_result or {}
    return {
        "rowCount": result.get("rowCount", version.row_count),
        "validCount": result.get("validCount", version.valid_count),
        "invalidCount": result.get("invalidCount", version.invalid_count),
        "warnedCount": result.get("warnedCount", 0),
        "codeScheme": result.get("codeScheme", ""),
        "mainScheme": result.get("mainScheme", ""),
        "errorRules": result.get("errorRules", []),
        "problemsByKind": result.get("problemsByKind", {}),
        "warningsByKind": result.get("warningsByKind", {}),
        "schemes": result.get("schemes", {}),
        "kinds": texts.kind_counts(result),
        "schemeCounts": texts.scheme_counts(result),
    }


def bank_records(version: DatasetVersion) -> dict[str, list[str]]:
    """The valid lines of a bank-records version (lines with only warnings are valid), in
    line order, as the columns a QA index is built from: ``bank_name``, ``bank_code``,
    ``clearing_code``, ``scheme`` (cnaps, bic, national), ``country`` (ISO 3166-1 alpha-2
    when known), ``city`` and ``bic``; "" where a line has no value."""
    keys = ("bank_name", "bank_code", "clearing_code", "scheme", "country", "city", "bic")
    columns: dict[str, list[str]] = {key: [] for key in keys}
    appends = [columns[key].append for key in keys]
    rows = version.records.filter(is_valid=True).order_by("line_number").values_list(*keys)
    for row in rows.iterator(chunk_size=20_000):
        for append, value in zip(appends, row, strict=True):
            append(value or "")
    return columns


def columns_of(version: DatasetVersion) -> dict[str, str]:
    """Column name -> Arrow type of a validated version, from its validation result."""
    return {c["name"]: c.get("dtype", "") for c in (version.validation_result or {}).get("columns", [])}


def scoring_version(
    dataset_id: object, number: object, errors: dict[str, list[str]], kind: str = DatasetKind.TABULAR
) -> DatasetVersion | None:
    """The validated version of a ``kind`` dataset a model reads: tabular data to score
    (evaluation, batch prediction), bank records to index (a QA model).

    ``number`` None means the newest validated version. A problem is added to ``errors``
    (under ``dataset`` or ``dataset_version``) and None returned.
    """
    dataset = None
    if isinstance(dataset_id, int) and not isinstance(dataset_id, bool):
        dataset = Dataset.objects.filter(pk=dataset_id).first()
    elif isinstance(dataset_id, str) and dataset_id.isdigit():
        dataset = Dataset.objects.filter(pk=int(dataset_id)).first()
    if dataset is None:
        errors["dataset"] = [_("No dataset with id %(id)s.") % {"id": repr(dataset_id)}]
        return None
    if dataset.kind != kind:
        errors["dataset"] = [
            _("%(name)s holds bank records; models score tabular data.") % {"name": dataset.name}
            if kind == DatasetKind.TABULAR
            else _("%(name)s holds tabular data; a QA model is built from bank records.")
            % {"name": dataset.name}
        ]
        return None
    if number is not None:
        version = dataset.versions.filter(version=number).first() if str(number).isdigit() else None
        if version is None:
            errors["dataset_version"] = [
                _("Dataset %(name)s has no version %(number)s.") % {"name": dataset.name, "number": number}
            ]
            return None
    else:
        version = dataset.versions.filter(status=DatasetStatus.VALIDATED).order_by("-version").first()
        if version is None:
            errors["dataset"] = [_("Dataset %(name)s has no validated version.") % {"name": dataset.name}]
            return None
    if version.status != DatasetStatus.VALIDATED or not version.parquet:
        errors["dataset_version"] = [
            _("%(version)s is %(status)s; only a validated version can be used.")
            % {"version": version, "status": version.get_status_display()}
        ]
        return None
    return version


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
                    **texts.alert_shown(alert),
                }
            )
    rows.sort(key=lambda a: (a.get("level") != "error", a["dataset"]))
    return rows[:limit]


def recent_versions(limit: int = 8) -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.select_related("dataset", "created_by").order_by("-created_at")[:limit]


def dataset_counts() -> dict[str, int]:
    """Datasets in use and versions still being checked (for the dashboard)."""
    return {
        "datasets": Dataset.objects.filter(is_archived=False).count(),
        "validating": DatasetVersion.objects.filter(
            status__in=[DatasetStatus.UPLOADED, DatasetStatus.VALIDATING]
        ).count(),
    }


def validation_failures(limit: int = 20) -> QuerySet[DatasetVersion]:
    """Datasets in use whose newest version failed validation, newest first."""
    newest = DatasetVersion.objects.filter(dataset=OuterRef("dataset")).order_by("-version")
    return (
        DatasetVersion.objects.filter(
            pk=Subquery(newest.values("pk")[:1]), status=DatasetStatus.ERROR, dataset__is_archived=False
        )
        .select_related("dataset")
        .order_by("-created_at", "-id")[:limit]
    )
