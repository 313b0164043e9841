"""Writes of the datasets domain: upload, validate, archive, delete.

Uploads store the original bytes under a server-chosen name, and the version and its
``ingestion`` task in one transaction; the task is queued when it commits. Validation is
that task's work (``ingestion``): the work queue claims, retries, reaps and cancels it,
and its outcome is written in the transaction that completes the task.
"""

from __future__ import annotations

import os
import socket
import uuid

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError

from apps.tasks.runner import task_execute

from . import readers
from .errors import DatasetInUse, DatasetKindConflict, FileTooLarge, UploadInvalid
from .files import local_copy, sha256_of
from .files import stored_file_path as stored_file_path  # read by the apps that use the data
from .ingestion import validation_create
from .models import Dataset, DatasetVersion

# --- upload --------------------------------------------------------------------------


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
    enqueue: bool = True,
) -> tuple[DatasetVersion, bool]:
    """Store an upload as the next version of dataset ``name``; returns (version, created).

    The same bytes uploaded again (under any name) answer the existing version. A new
    version's validation task is queued when the transaction commits; ``enqueue=False``
    leaves it pending, to be run here with ``dataset_version_validate``.
    Raises FileTooLarge, UploadInvalid (unknown extension, content mismatch) or
    DatasetKindConflict (the name belongs to a dataset of another kind).
    """
    limit = settings.OMM_MAX_UPLOAD_BYTES
    if file.size is not None and file.size > limit:
        raise FileTooLarge(file.size, limit)
    try:
        original = readers.clean_filename(original_name)
        with local_copy(file) as local:
            fmt = readers.detect_format(local, original)
    except readers.IngestError as exc:
        raise UploadInvalid(exc) from None
    digest = sha256_of(file)
    existing = DatasetVersion.objects.select_related("dataset").filter(sha256=digest).first()
    if existing is not None:
        return existing, False

    stored = default_storage.save(f"datasets/{uuid.uuid4().hex}.{fmt}", file)
    version = None
    try:
        with transaction.atomic():
            dataset, _ = Dataset.objects.select_for_update().get_or_create(
                name=name, defaults={"kind": kind, "description": description, "created_by": user}
            )
            if dataset.kind != kind:
                raise DatasetKindConflict(
                    f"Dataset {name!r} holds {dataset.get_kind_display().lower()}, not {kind}."
                )
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
            version.task = validation_create(
                user=user, request={"dataset": dataset.pk, "dataset_version": number}, enqueue=enqueue
            )
    except IntegrityError:
        # The same bytes were stored by a concurrent upload a moment ago: answer that one.
        default_storage.delete(stored)
        existing = DatasetVersion.objects.select_related("dataset").filter(sha256=digest).first()
        if existing is None:
            raise
        return existing, False
    except BaseException:
        # Keep the file when only queueing failed after the commit (the task says so).
        if version is None or not DatasetVersion.objects.filter(pk=version.pk).exists():
            default_storage.delete(stored)
        raise
    return version, True


# --- validation ----------------------------------------------------------------------


def dataset_version_validate(*, version_id: int, worker: str = "") -> DatasetVersion | None:
    """Run a version's validation task here, in this process (shell, demo, tests).

    Idempotent: None, changing nothing, when the task is not this call's to run (already
    running elsewhere, or finished: a validated or errored version is left alone).
    """
    task_id = DatasetVersion.objects.filter(pk=version_id).values_list("task_id", flat=True).first()
    if task_id is None:
        return None
    outcome = task_execute(task_id=task_id, worker=worker or f"{socket.gethostname()}:{os.getpid()}")
    if outcome in ("not-claimed", "wait"):
        return None
    return DatasetVersion.objects.select_related("dataset", "task").filter(pk=version_id).first()


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
        raise DatasetInUse(
            f"Dataset {dataset.name!r} is used by features, feature sets or model versions; "
            "archive it instead."
        ) from None
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
