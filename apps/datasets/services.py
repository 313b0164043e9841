"""Writes of the datasets domain: upload, validate, archive, delete.

Uploads store the original bytes under a server-chosen name and enqueue validation after
commit. Validation claims the version row, converts the file to Parquet, then either
profiles it (tabular) or writes every line as a DatasetRecord (bank records). The last
step is one transaction, so a worker killed halfway leaves the version to be retried,
never half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, ProtectedError, Q
from django.utils import timezone

from apps.core.api.exceptions import Conflict
from apps.core.config import config_get

from . import bank_records, profiling, readers
from .models import Dataset, DatasetKind, DatasetRecord, DatasetStatus, DatasetVersion

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
PROBLEMS_LISTED = 200
CHUNK = 1024 * 1024


class FileTooLarge(Exception):
    def __init__(self, size: int, limit: int):
        super().__init__(f"The file is {size:,} bytes; the limit is {limit:,} bytes.")


# --- upload --------------------------------------------------------------------------


def _sha256(file: File) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks(CHUNK):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


@contextlib.contextmanager
def _local_copy(file: File) -> Iterator[Path]:
    """A path on local disk holding the upload's bytes (for content sniffing)."""
    path = getattr(file, "temporary_file_path", None)
    if path is not None:
        yield Path(path())
        return
    with tempfile.NamedTemporaryFile(suffix=".upload") as tmp:
        file.seek(0)
        for chunk in file.chunks(CHUNK):
            tmp.write(chunk)
        tmp.flush()
        file.seek(0)
        yield Path(tmp.name)


def dataset_upload(
    *,
    name: str,
    kind: str,
    file: File,
    original_name: str,
    user,
    description: str = "",
    label_column: str = "",
    time_column: str = "",
    key_columns: list[str] | None = None,
    declared_encoding: str = "",
) -> tuple[DatasetVersion, bool]:
    """Store an upload as the next version of dataset ``name``; returns (version, created).

    The same bytes uploaded again (under any name) answer the existing version.
    Raises FileTooLarge, readers.IngestError (unknown extension, content mismatch) or
    Conflict (the name belongs to a dataset of another kind).
    """
    limit = settings.OMM_MAX_UPLOAD_BYTES
    if file.size is not None and file.size > limit:
        raise FileTooLarge(file.size, limit)
    original = readers.clean_filename(original_name)
    with _local_copy(file) as local:
        fmt = readers.detect_format(local, original)
    digest = _sha256(file)
    existing = DatasetVersion.objects.select_related("dataset").filter(sha256=digest).first()
    if existing is not None:
        return existing, False

    stored = default_storage.save(f"datasets/{uuid.uuid4().hex}.{fmt}", file)
    try:
        with transaction.atomic():
            dataset, _ = Dataset.objects.select_for_update().get_or_create(
                name=name, defaults={"kind": kind, "description": description, "created_by": user}
            )
            if dataset.kind != kind:
                raise Conflict(f"Dataset {name!r} holds {dataset.get_kind_display().lower()}, not {kind}.")
            if dataset.is_archived:
                dataset.is_archived = False
                dataset.save(update_fields=["is_archived", "updated_at"])
            number = (dataset.versions.aggregate(n=Max("version"))["n"] or 0) + 1
            version = DatasetVersion.objects.create(
                dataset=dataset,
                version=number,
                format=fmt,
                original_filename=original,
                file=stored,
                file_size=file.size,
                sha256=digest,
                declared_encoding=declared_encoding,
                label_column=label_column,
                time_column=time_column,
                key_columns=key_columns or [],
                created_by=user,
            )
            transaction.on_commit(lambda: _enqueue_validation(version.pk))
    except IntegrityError:
        # The same bytes were stored by a concurrent upload a moment ago: answer that one.
        default_storage.delete(stored)
        existing = DatasetVersion.objects.select_related("dataset").filter(sha256=digest).first()
        if existing is None:
            raise
        return existing, False
    except BaseException:
        default_storage.delete(stored)
        raise
    return version, True


def _enqueue_validation(version_id: int) -> None:
    from .tasks import validate_dataset_version

    validate_dataset_version.delay(version_id)


# --- validation ----------------------------------------------------------------------


def _claim(version_id: int) -> DatasetVersion | None:
    """Move a version to validating in one conditional update; None when not ours to run.

    A version already validating is taken over only once its run is older than the task
    time limit: that run's worker was lost (the broker redelivered), not merely slow.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimable = Q(status=DatasetStatus.UPLOADED) | Q(
        status=DatasetStatus.VALIDATING, validation_started_at__lt=stale
    )
    claimed = DatasetVersion.objects.filter(claimable, pk=version_id, attempts__lt=MAX_ATTEMPTS).update(
        status=DatasetStatus.VALIDATING,
        attempts=F("attempts") + 1,
        progress=0,
        validation_started_at=now,
        error_message="",
    )
    if not claimed:
        # Redelivered past the attempt cap: end in error instead of looping forever.
        DatasetVersion.objects.filter(
            pk=version_id,
            status=DatasetStatus.VALIDATING,
            attempts__gte=MAX_ATTEMPTS,
            validation_started_at__lt=stale,
        ).update(
            status=DatasetStatus.ERROR,
            error_message=f"Validation gave up after {MAX_ATTEMPTS} attempts (worker lost).",
        )
        return None
    return DatasetVersion.objects.select_related("dataset").get(pk=version_id)


def _set_progress(version_id: int, percent: float) -> None:
    DatasetVersion.objects.filter(pk=version_id, status=DatasetStatus.VALIDATING).update(
        progress=round(min(max(percent, 0.0), 100.0), 1)
    )


@contextlib.contextmanager
def stored_file_path(field) -> Iterator[Path]:
    """A local path to a stored file: the file itself on disk storage, else a temp copy."""
    try:
        yield Path(field.path)
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile() as tmp:
        with field.open("rb") as src:
            for chunk in src.chunks(CHUNK):
                tmp.write(chunk)
        tmp.flush()
        yield Path(tmp.name)


def dataset_version_validate(
    *, version_id: int, progress: Callable[[float], None] | None = None
) -> DatasetVersion | None:
    """Validate one version. Idempotent: a validated or errored version is left alone."""
    version = _claim(version_id)
    if version is None:
        return None

    def report(percent: float) -> None:
        _set_progress(version_id, percent)
        if progress is not None:
            progress(percent)

    try:
        with (
            tempfile.TemporaryDirectory(prefix="omm-validate-") as tmp,
            stored_file_path(version.file) as src,
        ):
            parquet_path = Path(tmp) / "data.parquet"
            is_bank = version.kind == DatasetKind.BANK_RECORDS
            converted = readers.convert_to_parquet(
                src,
                parquet_path,
                fmt=version.format,
                declared_encoding=version.declared_encoding or None,
                all_strings=is_bank,
                tolerate_bad_lines=is_bank,
                progress=lambda f: report(5 + 55 * f),
            )
            report(60)
            if is_bank:
                _finish_bank_records(version, converted, parquet_path, report)
            else:
                _finish_tabular(version, converted, parquet_path, report)
    except readers.IngestError as exc:
        _fail(version, exc.message, [{"line": exc.line, "code": exc.code, "message": exc.message}])
    except Exception as exc:
        logger.exception("validation of dataset version %s failed", version_id)
        _fail(version, f"Internal error while validating: {type(exc).__name__}: {exc}", [])
        raise
    version.refresh_from_db()
    return version


def _fail(version: DatasetVersion, message: str, problems: list[dict]) -> None:
    DatasetVersion.objects.filter(pk=version.pk).update(
        status=DatasetStatus.ERROR,
        error_message=message,
        validation_result={"problems": problems},
        progress=100,
        validated_at=timezone.now(),
    )


def _columns(converted) -> list[dict]:
    return [{"name": c.name, "dtype": c.dtype} for c in converted.columns]


def _store_parquet(version: DatasetVersion, parquet_path: Path) -> str:
    with parquet_path.open("rb") as fh:
        return default_storage.save(f"datasets/{uuid.uuid4().hex}.parquet", File(fh))


def _finish_tabular(version: DatasetVersion, converted, parquet_path: Path, report) -> None:
    names = {c.name for c in converted.columns}
    wanted = [c for c in [version.label_column, version.time_column, *version.key_columns] if c]
    missing = [c for c in wanted if c not in names]
    if missing:
        raise readers.IngestError(
            "missing_columns",
            f"Column(s) not in the file: {', '.join(missing)}. Found: {', '.join(sorted(names))}.",
        )
    quality = profiling.profile_parquet(
        parquet_path,
        label=version.label_column or None,
        time_column=version.time_column or None,
        key_columns=version.key_columns or None,
        thresholds=quality_thresholds(),
    )
    report(90)
    kinds = {c["name"]: c["kind"] for c in quality["columns"]}
    columns = [{**c, "kind": kinds.get(c["name"])} for c in _columns(converted)]
    problems = [{"line": p.line, "message": p.message} for p in converted.problems][:PROBLEMS_LISTED]
    stored = _store_parquet(version, parquet_path)
    with transaction.atomic():
        DatasetVersion.objects.filter(pk=version.pk).update(
            status=DatasetStatus.VALIDATED,
            parquet=stored,
            encoding=converted.encoding or "",
            delimiter=converted.delimiter or "",
            row_count=converted.row_count,
            column_count=len(converted.columns),
            validation_result={
                "rowCount": converted.row_count,
                "columns": columns,
                "encoding": converted.encoding,
                "delimiter": converted.delimiter,
                "problems": problems,
            },
            quality=quality,
            quality_score=quality["score"],
            progress=100,
            validated_at=timezone.now(),
        )


def _finish_bank_records(version: DatasetVersion, converted, parquet_path: Path, report) -> None:
    table = readers.read_parquet_columns(parquet_path)
    result = bank_records.validate_bank_records(table, converted.line_numbers, converted.bad_lines)
    report(70)
    invalid_lines = [
        {"line": int(line), "message": message}
        for line, valid, message in zip(
            result.line_number, result.is_valid, result.error_message, strict=True
        )
        if not valid
    ][:PROBLEMS_LISTED]
    stored = _store_parquet(version, parquet_path)
    with transaction.atomic():
        DatasetRecord.objects.filter(version_id=version.pk).delete()  # a retried attempt starts clean
        records_write(version.pk, result)
        DatasetVersion.objects.filter(pk=version.pk).update(
            status=DatasetStatus.VALIDATED,
            parquet=stored,
            encoding=converted.encoding or "",
            delimiter=converted.delimiter or "",
            row_count=result.total,
            column_count=len(converted.columns),
            valid_count=result.valid,
            invalid_count=result.invalid,
            validation_result={
                "rowCount": result.total,
                "validCount": result.valid,
                "invalidCount": result.invalid,
                "columns": _columns(converted),
                "encoding": converted.encoding,
                "delimiter": converted.delimiter,
                "problemsByKind": result.problems_by_kind,
                "problems": invalid_lines,
            },
            progress=100,
            validated_at=timezone.now(),
        )


RECORD_COLUMNS = [
    "version_id",
    "line_number",
    "bank_name",
    "bank_code",
    "clearing_code",
    "fields",
    "is_valid",
    "error_message",
]


def records_write(version_id: int, result) -> int:
    """Insert every record of a validated bank-records file. COPY on PostgreSQL."""
    import pyarrow as pa

    n = len(result.line_number)
    fields = [json.dumps(e, ensure_ascii=False) for e in result.extra] if result.extra is not None else None
    if connection.vendor == "postgresql":
        table = pa.table(
            {
                "version_id": pa.array([version_id] * n, pa.int64()),
                "line_number": pa.array(result.line_number, pa.int64()),
                "bank_name": pa.array(result.bank_name, pa.string()),
                "bank_code": pa.array(result.bank_code, pa.string()),
                "clearing_code": pa.array(result.clearing_code, pa.string()),
                "fields": pa.array(fields if fields is not None else [None] * n, pa.string()),
                "is_valid": pa.array(result.is_valid, pa.bool_()),
                "error_message": pa.array(result.error_message, pa.string()),
            }
        )
        import pyarrow.csv as pacsv

        buffer = io.BytesIO()
        # Every non-null value quoted: an empty string stays '' and only None becomes NULL.
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
        columns = ", ".join(RECORD_COLUMNS)
        with (
            connection.cursor() as cursor,
            cursor.copy(
                f"COPY {DatasetRecord._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT csv)"
            ) as copy,
        ):
            copy.write(buffer.getbuffer())
        return n
    rows = (
        DatasetRecord(
            version_id=version_id,
            line_number=int(result.line_number[i]),
            bank_name=result.bank_name[i],
            bank_code=result.bank_code[i],
            clearing_code=result.clearing_code[i],
            fields=result.extra[i] if result.extra is not None else None,
            is_valid=bool(result.is_valid[i]),
            error_message=result.error_message[i],
        )
        for i in range(n)
    )
    DatasetRecord.objects.bulk_create(rows, batch_size=2000)
    return n


def quality_thresholds() -> profiling.Thresholds:
    return profiling.Thresholds(
        max_missing_share=float(config_get("datasets-quality-max-missing-share")),
        max_duplicate_row_share=float(config_get("datasets-quality-max-duplicate-share")),
        max_outlier_share=float(config_get("datasets-quality-max-outlier-share")),
        min_quality_score=float(config_get("datasets-quality-min-score")),
    )


# --- governance ----------------------------------------------------------------------


def dataset_set_archived(*, dataset: Dataset, archived: bool) -> Dataset:
    dataset.is_archived = archived
    dataset.save(update_fields=["is_archived", "updated_at"])
    dataset.versions.update(is_archived=archived)
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset and its files, unless a model's lineage points at a version."""
    files = [name for v in dataset.versions.all() for name in (v.file.name, v.parquet.name) if name]
    try:
        with transaction.atomic():
            dataset.delete()
    except ProtectedError:
        raise Conflict(
            f"Dataset {dataset.name!r} is used by features, feature sets or model versions; "
            "archive it instead."
        ) from None
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
