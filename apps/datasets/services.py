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
from django.utils.translation import gettext as _

from apps.core.trail import trail_changed
from apps.tasks.runner import task_execute

from . import readers
from .errors import DatasetInUse, DatasetKindConflict, FileTooLarge, SettingsInvalid, UploadInvalid
from .files import local_copy, sha256_of
from .files import stored_file_path as stored_file_path  # read by the apps that use the data
from .ingestion import validation_create
from .models import CodeScheme, Dataset, DatasetKind, DatasetVersion, WarningRule

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
    code_scheme: str = "",
    engine: str = "",
    enqueue: bool = True,
) -> tuple[DatasetVersion, bool]:
    """Store an upload as the next version of dataset ``name``; returns (version, created).

    The same bytes uploaded again (under any name) answer the existing version. A new
    version's validation task is queued when the transaction commits; ``enqueue=False``
    leaves it pending, to be run here with ``dataset_version_validate``.
    ``code_scheme`` (bank records) declares how the dataset's codes are read; empty keeps
    the dataset's (``auto`` for a new one). ``engine`` (local, dask, auto; default local) is
    where the validation computes the quality profile.
    Raises FileTooLarge, UploadInvalid (unknown extension, content mismatch),
    SettingsInvalid (a code scheme for tabular data) or DatasetKindConflict (the name
    belongs to a dataset of another kind).
    """
    if code_scheme:
        _check_code_scheme(kind, code_scheme)
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
            defaults = {"kind": kind, "description": description, "created_by": user}
            if code_scheme:
                defaults["code_scheme"] = code_scheme
            dataset, _created = Dataset.objects.select_for_update().get_or_create(
                name=name, defaults=defaults
            )
            if dataset.kind != kind:
                raise DatasetKindConflict(
                    _("Dataset %(name)s holds %(held)s, not %(kind)s.")
                    % {
                        "name": repr(name),
                        "held": dataset.get_kind_display(),
                        "kind": DatasetKind(kind).label,
                    }
                )
            changed = []
            if dataset.is_archived:
                dataset.is_archived = False
                changed.append("is_archived")
            if code_scheme and dataset.code_scheme != code_scheme:
                dataset.code_scheme = code_scheme
                changed.append("code_scheme")
            if changed:
                dataset.save(update_fields=[*changed, "updated_at"])
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
            request = {"dataset": dataset.pk, "dataset_version": number, "engine": engine}
            version.task = validation_create(user=user, request=request, enqueue=enqueue)
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


# --- settings ------------------------------------------------------------------------


def _check_code_scheme(kind: str, code_scheme: str) -> None:
    if code_scheme not in CodeScheme.values:
        raise SettingsInvalid(
            {"code_scheme": [_("Unknown code scheme %(scheme)s.") % {"scheme": repr(code_scheme)}]}
        )
    if kind != DatasetKind.BANK_RECORDS and code_scheme != CodeScheme.AUTO:
        raise SettingsInvalid({"code_scheme": [_("Only bank-records datasets have a code scheme.")]})


def dataset_settings_update(
    *,
    dataset: Dataset,
    description: str | None = None,
    code_scheme: str | None = None,
    error_rules: list[str] | None = None,
) -> Dataset:
    """Change a dataset's description, code scheme or the warning kinds it treats as errors.

    The versions already validated keep their outcome; validating one again
    (``dataset_version_revalidate``) applies the new settings. Raises SettingsInvalid.
    """
    fields = []
    if description is not None:
        dataset.description = description
        fields.append("description")
    if code_scheme is not None:
        _check_code_scheme(dataset.kind, code_scheme)
        dataset.code_scheme = code_scheme
        fields.append("code_scheme")
    if error_rules is not None:
        unknown = sorted(set(error_rules) - set(WarningRule.values))
        if unknown:
            raise SettingsInvalid(
                {"error_rules": [_("Unknown warning kind(s): %(kinds)s.") % {"kinds": ", ".join(unknown)}]}
            )
        if error_rules and dataset.kind != DatasetKind.BANK_RECORDS:
            raise SettingsInvalid({"error_rules": [_("Only bank-records datasets have warning rules.")]})
        dataset.error_rules = [rule for rule in WarningRule.values if rule in set(error_rules)]
        fields.append("error_rules")
    if fields:
        dataset.save(update_fields=[*fields, "updated_at"])
    return dataset


# --- validation ----------------------------------------------------------------------


def dataset_version_revalidate(*, version: DatasetVersion, user, engine: str = "", enqueue: bool = True):
    """Queue the validation of a stored version again, under its dataset's current settings
    (code scheme, warnings treated as errors), profiling it on ``engine`` (default local).
    Returns the task; raises ValidationRunning when one is queued or running, RequestInvalid
    for an unknown engine."""
    return validation_create(
        user=user,
        request={"dataset": version.dataset_id, "dataset_version": version.version, "engine": engine},
        enqueue=enqueue,
    )


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


@transaction.atomic
def dataset_set_archived(*, dataset: Dataset, archived: bool) -> Dataset:
    dataset.is_archived = archived
    dataset.save(update_fields=["is_archived", "updated_at"])
    changing = list(dataset.versions.exclude(is_archived=archived))
    dataset.versions.update(is_archived=archived)
    for version in changing:  # each version's change in the governance trail
        trail_changed(version, is_archived=(not archived, archived))
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset and its files, unless a model's lineage points at a version."""
    files = [name for v in dataset.versions.all() for name in (v.file.name, v.parquet.name) if name]
    try:
        with transaction.atomic():
            dataset.delete()
    except ProtectedError:
        raise DatasetInUse(
            _("Dataset %(name)s is used by features, feature sets or model versions; archive it instead.")
            % {"name": repr(dataset.name)}
        ) from None
    transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
