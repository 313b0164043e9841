"""Validation of a dataset version, as an ``ingestion`` task of the work queue.

An upload stores the version and its task in one transaction (``validation_create``); the
task is queued when it commits and runs on the ``ingestion`` queue, where the work queue
claims it, keeps its heartbeat, hands a lost worker's run back (the reaper) and cancels it.
The work converts the file to Parquet, then profiles it (tabular; on the engine the request
names, see ``profile_engine``) or checks every line (bank records), reporting progress and
checking the cancel flag between steps. Its commit
writes the outcome (the version's fields, the records) in the transaction that completes
the task, so a worker killed halfway leaves nothing half-written and the run is retried.

The version keeps its own status, in step with the task: ``uploaded`` when the task is
created, ``validating`` once a worker runs it (and still after the reaper queues it
again), ``validated`` by the commit, ``error`` with the reason when the run fails or is
cancelled; a task that ends without running its work (cancelled while queued, revoked,
reaped at the attempt cap) settles its version through the kind's ``on_end`` hook.
Re-running the task validates the same version again.
"""

from __future__ import annotations

import json
import logging
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.core.config import config_get
from apps.core.files import StorageUnavailable
from apps.tasks import engines
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid, RunCancelled, RunFailed
from apps.tasks.kinds import TaskKind, register_kind
from apps.tasks.models import Task, TaskStatus, TaskType
from apps.tasks.runner import Run

from . import bank_issues, bank_records, profile_engine, profiling, readers
from .errors import ValidationRunning
from .files import stored_file_path
from .models import Dataset, DatasetKind, DatasetRecord, DatasetStatus, DatasetVersion

logger = logging.getLogger(__name__)

PROBLEMS_LISTED = 200
# Stored in English with the version (``validation_result.error``) and shown translated.
CANCELLED = gettext_noop("Validation cancelled by request.")
TIME_LIMIT = gettext_noop("Stopped: the validation reached its time limit.")
FAILED = gettext_noop("Validation failed.")
STORAGE_FAILED = gettext_noop("The file storage failed: %(reason)s")
ENGINE_UNAVAILABLE = gettext_noop("The profile could not run on the Dask cluster: %(reason)s")


# --------------------------------------------------------------------------- requests


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _requested(request: dict) -> QuerySet[DatasetVersion]:
    """The version a request names: ``dataset`` (id) and ``dataset_version`` (number)."""
    dataset_id, number = _int(request.get("dataset")), _int(request.get("dataset_version"))
    if dataset_id is None or number is None:
        return DatasetVersion.objects.none()
    return DatasetVersion.objects.filter(dataset_id=dataset_id, version=number)


def validation_check(request: dict, resources: dict | None = None) -> dict[str, Any]:
    """The task's parameters for ``request`` ({"dataset": id, "dataset_version": number,
    optionally "engine": local|dask|auto, where the profile is computed}); raises
    RequestInvalid for an unknown version or engine, ValidationRunning when it is already
    queued or running."""
    problems = engines.engine_problems(request.get("engine"))
    if problems:
        raise RequestInvalid({"engine": problems})
    version = _requested(request).select_related("dataset", "task").first()
    if version is None:
        if not Dataset.objects.filter(pk=_int(request.get("dataset"))).exists():
            raise RequestInvalid(
                {"dataset": [_("No dataset with id %(id)s.") % {"id": repr(request.get("dataset"))}]}
            )
        raise RequestInvalid(
            {
                "dataset_version": [
                    _("The dataset has no version %(number)s.")
                    % {"number": repr(request.get("dataset_version"))}
                ]
            }
        )
    if version.task is not None and not version.task.is_final:
        raise ValidationRunning(
            _("%(version)s is already being validated (task #%(task)s).")
            % {"version": version, "task": version.task_id}
        )
    return {
        "dataset": version.dataset_id,
        "dataset_name": version.dataset.name,
        "dataset_version": version.version,
        "dataset_version_id": version.pk,
        "engine": request.get("engine") or engines.LOCAL,
    }


def validation_create(*, user, request: dict, **options: Any) -> Task:
    """Queue the validation of a stored version: on upload, and when its task is re-run.

    The version goes back to ``uploaded``, linked to the new task, in the same transaction.
    ``options``: priority, resource_config, rerun_of, enqueue (False leaves the task
    pending, for the caller to run in-process with ``apps.tasks.runner.task_execute``).
    """
    with transaction.atomic():
        # Two re-runs of one version at once: the second waits, then sees the first's task.
        list(_requested(request).select_for_update().values("pk"))
        task, p = queue.checked_task_create(
            type=TaskType.INGESTION,
            check=validation_check,
            name=lambda p: (
                _("Validate %(name)s v%(number)s")
                % {"name": p["dataset_name"], "number": p["dataset_version"]}
            ),
            user=user,
            request=request,
            **options,
        )
        DatasetVersion.objects.filter(pk=p["dataset_version_id"]).update(
            task=task, status=DatasetStatus.UPLOADED, progress=0, error_message=""
        )
    return task


def _request_of(task: Task) -> dict:
    """The request that validates the same version again (on the same engine)."""
    p = task.parameters
    return {"dataset": p["dataset"], "dataset_version": p["dataset_version"], "engine": p.get("engine")}


def _related(task: Task) -> list[tuple[str, str]]:
    """The admin page of the version the task validates."""
    version_id = (task.parameters or {}).get("dataset_version_id")
    version = DatasetVersion.objects.select_related("dataset").filter(pk=version_id).first()
    if version is None:
        return []
    return [
        (
            _("dataset %(version)s") % {"version": version},
            reverse("admin:datasets_datasetversion_change", args=[version.pk]),
        )
    ]


# --------------------------------------------------------------------------- the work


def _ours(run: Run, version_id: int):
    """The version, while this run's task is the one it is linked to."""
    return DatasetVersion.objects.filter(pk=version_id, task_id=run.task_id)


def _fail(run: Run, version_id: int, message: str, problems: list[dict], params: dict | None = None) -> None:
    """End the version in error: ``message`` (an English template, with ``params``) is
    kept as its error message, and as ``validation_result.error`` to be shown translated."""
    text = bank_issues.render_template(message, params or {})
    _ours(run, version_id).update(
        status=DatasetStatus.ERROR,
        error_message=text,
        validation_result={"problems": problems, "error": {"t": message, "p": params or {}}},
        progress=100,
        validated_at=timezone.now(),
    )


def validation_work(run: Run) -> Callable[[], dict]:
    """Convert, then profile or check the lines; the commit stores the outcome."""
    version_id = run.task.parameters["dataset_version_id"]
    version = DatasetVersion.objects.select_related("dataset").filter(pk=version_id).first()
    if version is None:
        raise RunFailed(
            _("Dataset version #%(id)s no longer exists (its dataset was deleted).") % {"id": version_id}
        )
    if not _ours(run, version_id).update(status=DatasetStatus.VALIDATING, progress=0, error_message=""):
        raise RunFailed(
            _("%(version)s is validated by a newer task (#%(task)s).")
            % {"version": version, "task": version.task_id}
        )

    def report(percent: float) -> None:
        # Between the steps of the readers and the profiler: stop here when asked to.
        run.check_cancel()
        percent = round(min(max(percent, 0.0), 100.0), 1)
        run.progress(percent)
        _ours(run, version_id).filter(status=DatasetStatus.VALIDATING).update(progress=percent)

    try:
        run.log(
            _("Reading %(file)s (%(size)s bytes, %(format)s) as %(kind)s.")
            % {
                "file": version.original_filename,
                "size": f"{version.file_size:,}",
                "format": version.get_format_display(),
                "kind": version.dataset.get_kind_display(),
            }
        )
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
            run.log(
                _("Read %(rows)s rows x %(columns)s columns (%(encoding)s, delimiter %(delimiter)s).")
                % {
                    "rows": f"{converted.row_count:,}",
                    "columns": len(converted.columns),
                    "encoding": converted.encoding or "xlsx",
                    "delimiter": repr(converted.delimiter) if converted.delimiter else "-",
                }
            )
            report(60)
            # Stored first: Dask workers on other hosts profile the stored copy.
            stored = _store_parquet(parquet_path)
            run.on_discard(lambda: default_storage.delete(stored))
            if is_bank:
                values, result = _finish_bank_records(version, converted, parquet_path, report, run)
            else:
                values, result = _finish_tabular(version, converted, parquet_path, stored, report, run)
            report(95)
    except readers.IngestError as exc:
        problem = {
            "line": exc.line,
            "code": exc.code,
            "message": exc.message,
            "t": exc.template,
            "p": exc.params,
        }
        _fail(run, version_id, exc.template, [problem], exc.params)
        raise RunFailed(exc.message) from None
    except StorageUnavailable as exc:  # a bucket unreachable or refusing: said as such, no traceback
        _fail(run, version_id, STORAGE_FAILED, [], {"reason": exc.message})
        raise RunFailed(exc.message) from None
    except engines.EngineUnavailable as exc:
        _fail(run, version_id, ENGINE_UNAVAILABLE, [], {"reason": exc.message})
        raise RunFailed(exc.message) from None
    except RunCancelled:
        _fail(run, version_id, CANCELLED, [])
        raise
    except SoftTimeLimitExceeded:
        _fail(run, version_id, TIME_LIMIT, [])
        raise
    except Exception as exc:
        logger.exception("validation of dataset version %s failed", version_id)
        reason = {"reason": f"{type(exc).__name__}: {exc}"}
        _fail(run, version_id, gettext_noop("Internal error while validating: %(reason)s"), [], reason)
        raise

    def commit() -> dict:
        previous = _ours(run, version_id).values_list("parquet", flat=True).first()
        if is_bank:
            DatasetRecord.objects.filter(version_id=version_id).delete()  # a re-run starts clean
            records_write(version_id=version_id, result=result)
        validated = {"status": DatasetStatus.VALIDATED, "progress": 100, "validated_at": timezone.now()}
        if not _ours(run, version_id).update(**values, **validated, parquet=stored):
            raise RunFailed(
                _("Dataset version #%(id)s was deleted or is validated by a newer task.") % {"id": version_id}
            )
        if previous and previous != stored:  # re-validated: the old columnar copy goes
            transaction.on_commit(lambda: default_storage.delete(previous))
        return {
            "datasetVersionId": version_id,
            "datasetId": version.dataset_id,
            "rowCount": values["row_count"],
            "columnCount": values["column_count"],
            "validCount": values.get("valid_count"),
            "invalidCount": values.get("invalid_count"),
            "qualityScore": values.get("quality_score"),
        }

    return commit


def _columns(converted) -> list[dict]:
    return [{"name": c.name, "dtype": c.dtype} for c in converted.columns]


def _store_parquet(parquet_path: Path) -> str:
    with parquet_path.open("rb") as fh:
        return default_storage.save(f"datasets/{uuid.uuid4().hex}.parquet", File(fh))


def _finish_tabular(version: DatasetVersion, converted, parquet_path: Path, stored: str, report, run: Run):
    """The version's fields for a profiled table (missing named columns refuse the file);
    ``stored`` is the Parquet copy in storage, which the dask engine profiles."""
    names = {c.name for c in converted.columns}
    wanted = [c for c in [version.label_column, version.time_column, *version.key_columns] if c]
    missing = [c for c in wanted if c not in names]
    if missing:
        raise readers.IngestError(
            "missing_columns",
            gettext_noop("Column(s) not in the file: %(missing)s. Found: %(found)s."),
            None,
            {"missing": ", ".join(missing), "found": ", ".join(sorted(names))},
        )
    quality = profile_engine.table_profile(
        run,
        version=version,
        parquet_path=parquet_path,
        stored=stored,
        rows=converted.row_count,
        columns=len(converted.columns),
        thresholds=quality_thresholds(),
        progress=lambda f: report(60 + 30 * f),
    )
    report(90)
    run.log(
        _("Profiled: quality score %(score).1f, %(alerts)s alert(s).")
        % {"score": quality["score"], "alerts": len(quality.get("alerts", []))}
    )
    kinds = {c["name"]: c["kind"] for c in quality["columns"]}
    columns = [{**c, "kind": kinds.get(c["name"])} for c in _columns(converted)]
    problems = [
        {"line": p.line, "message": p.message, "t": p.template, "p": p.params} for p in converted.problems
    ][:PROBLEMS_LISTED]
    values = {
        "encoding": converted.encoding or "",
        "delimiter": converted.delimiter or "",
        "row_count": converted.row_count,
        "column_count": len(converted.columns),
        "validation_result": {
            "rowCount": converted.row_count,
            "columns": columns,
            "encoding": converted.encoding,
            "delimiter": converted.delimiter,
            "problems": problems,
        },
        "quality": quality,
        "quality_score": quality["score"],
    }
    return values, None


def _finish_bank_records(version: DatasetVersion, converted, parquet_path: Path, report, run: Run):
    """The version's fields and the checked lines (written by the commit) of a records file."""
    table = readers.read_parquet_columns(parquet_path)
    dataset = version.dataset
    rules = [rule for rule in dataset.error_rules or [] if rule in bank_issues.WARNINGS]
    result = bank_records.validate_bank_records(
        table, converted.line_numbers, converted.bad_lines, scheme=dataset.code_scheme, error_rules=rules
    )
    report(70)
    counts = {
        "total": f"{result.total:,}",
        "valid": f"{result.valid:,}",
        "invalid": f"{result.invalid:,}",
        "warned": f"{result.warned:,}",
    }
    if result.warned:
        text = _("Checked %(total)s lines: %(valid)s valid, %(invalid)s invalid, %(warned)s with warnings.")
    else:
        text = _("Checked %(total)s lines: %(valid)s valid, %(invalid)s invalid.")
    run.log(text % counts)
    invalid_at = np.flatnonzero(~result.is_valid)[:PROBLEMS_LISTED].tolist()
    invalid_lines = [
        {"line": int(result.line_number[i]), "message": result.error_message[i], "issues": result.problems[i]}
        for i in invalid_at
    ]
    values = {
        "encoding": converted.encoding or "",
        "delimiter": converted.delimiter or "",
        "row_count": result.total,
        "column_count": len(converted.columns),
        "valid_count": result.valid,
        "invalid_count": result.invalid,
        "validation_result": {
            "rowCount": result.total,
            "validCount": result.valid,
            "invalidCount": result.invalid,
            "columns": _columns(converted),
            "encoding": converted.encoding,
            "delimiter": converted.delimiter,
            "problemsByKind": result.problems_by_kind,
            "warningsByKind": result.warnings_by_kind,
            "warnedCount": result.warned,
            "schemes": result.schemes,
            "codeScheme": dataset.code_scheme,
            "mainScheme": result.main_scheme,
            "errorRules": rules,
            "fieldColumns": result.columns,
            "problems": invalid_lines,
        },
    }
    return values, result


RECORD_COLUMNS = [
    "version_id",
    "line_number",
    "bank_name",
    "bank_code",
    "clearing_code",
    "scheme",
    "country",
    "city",
    "bic",
    "address",
    "fields",
    "is_valid",
    "error_message",
    "problems",
    "warnings",
    "issue_kinds",
]


def _issues_json(issues: list) -> list[str | None]:
    """Each line's issues as JSON text (None, written as NULL, for none)."""
    return [json.dumps(i, ensure_ascii=False) if i else None for i in issues]


def _kinds(result) -> list[str]:
    """Each line's issue kinds as ",kind,kind," ("" for none), for filtering by kind."""
    out = [""] * len(result.problems)
    for issues in (result.problems, result.warnings):
        for i, line in enumerate(issues):
            if line:
                out[i] = (out[i] or ",") + ",".join(kind for kind, _params in line) + ","
    return out


def records_write(*, version_id: int, result) -> int:
    """Insert every record of a validated bank-records file. COPY on PostgreSQL."""
    import pyarrow as pa

    n = len(result.line_number)
    fields = [json.dumps(e, ensure_ascii=False) for e in result.extra] if result.extra is not None else None
    problems, warnings, kinds = _issues_json(result.problems), _issues_json(result.warnings), _kinds(result)
    if connection.vendor == "postgresql":
        import io

        import pyarrow.csv as pacsv

        table = pa.table(
            {
                "version_id": pa.array([version_id] * n, pa.int64()),
                "line_number": pa.array(result.line_number, pa.int64()),
                "bank_name": pa.array(result.bank_name, pa.string()),
                "bank_code": pa.array(result.bank_code, pa.string()),
                "clearing_code": pa.array(result.clearing_code, pa.string()),
                "scheme": pa.array(result.scheme, pa.string()),
                "country": pa.array(result.country, pa.string()),
                "city": pa.array(result.city, pa.string()),
                "bic": pa.array(result.bic, pa.string()),
                "address": pa.array(result.address, pa.string()),
                "fields": pa.array(fields if fields is not None else [None] * n, pa.string()),
                "is_valid": pa.array(result.is_valid, pa.bool_()),
                "error_message": pa.array(result.error_message, pa.string()),
                "problems": pa.array(problems, pa.string()),
                "warnings": pa.array(warnings, pa.string()),
                "issue_kinds": pa.array(kinds, pa.string()),
            }
        )
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
            scheme=result.scheme[i],
            country=result.country[i],
            city=result.city[i],
            bic=result.bic[i],
            address=result.address[i],
            fields=result.extra[i] if result.extra is not None else None,
            is_valid=bool(result.is_valid[i]),
            error_message=result.error_message[i],
            problems=list(result.problems[i]) or None,
            warnings=list(result.warnings[i]) or None,
            issue_kinds=kinds[i],
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


def versions_settle(*, version_ids: list[int] | None = None) -> int:
    """End in error the versions whose task ended without running its work (cancelled while
    queued, revoked, failed at the attempt cap); returns how many changed.

    The work itself marks its version when it fails or is cancelled; this covers the
    ends the work never sees. Cheap when there is nothing to do (one indexed query), so
    the pages and the API call it before they show versions.
    """
    stuck = DatasetVersion.objects.filter(
        status__in=[DatasetStatus.UPLOADED, DatasetStatus.VALIDATING],
        task__status__in=[TaskStatus.FAILED, TaskStatus.CANCELLED],
    )
    if version_ids is not None:
        stuck = stuck.filter(pk__in=version_ids)
    settled = 0
    rows = stuck.values_list("pk", "task_id", "task__status", "task__error")
    for version_id, task_id, status, error in rows:
        template = CANCELLED if status == TaskStatus.CANCELLED else FAILED
        reason = error or template
        settled += DatasetVersion.objects.filter(
            pk=version_id,
            task_id=task_id,
            status__in=[DatasetStatus.UPLOADED, DatasetStatus.VALIDATING],
        ).update(
            status=DatasetStatus.ERROR,
            error_message=reason,
            validation_result={"problems": [], **({} if error else {"error": {"t": template, "p": {}}})},
            progress=100,
            validated_at=timezone.now(),
        )
    return settled


def _ended(task: Task) -> None:
    # The version of a validation that ended without its work (cancelled while queued,
    # revoked, reaped at the cap) ends in error with the task's reason.
    version_id = (task.parameters or {}).get("dataset_version_id")
    if version_id:
        versions_settle(version_ids=[version_id])


def register() -> None:
    """Register dataset validation with the work queue (from ``DatasetsConfig.ready``)."""
    register_kind(
        TaskKind(
            key=TaskType.INGESTION,
            type=TaskType.INGESTION,
            job="apps.datasets.tasks.run_validation",
            work=validation_work,
            check=validation_check,
            create=validation_create,
            request_of=_request_of,
            related=_related,
            on_end=_ended,
        )
    )
