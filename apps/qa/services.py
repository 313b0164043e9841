"""Bank clearing-code question answering: building QA models, asking, sessions, feedback,
corrections and accuracy evaluations.

A QA model is a registry model of type ``retrieval``: building one is a training task of
kind ``retrieval`` whose artifact is the index (``omm-retrieval``, no pickle), signed and
versioned like any model, and promoted like any model. ``ask`` answers with the active
version of the model named by the ``qa-model`` setting, loaded once per process and
reloaded when another version becomes active.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from apps.core.config import config_get_local
from apps.core.errors import Conflict, Invalid
from apps.core.hotpath import as_int, cache_round_trip, cache_set_later, fetchone_prepared, insert_unflushed
from apps.datasets.models import DatasetKind, DatasetVersion
from apps.datasets.selectors import columns_of, scoring_version
from apps.datasets.services import stored_file_path
from apps.models import artifacts
from apps.models import services as registry
from apps.models.models import Model, ModelStatus, ModelType, ModelVersion, VersionStatus
from apps.tasks import services as queue
from apps.tasks.errors import RequestInvalid, RunFailed
from apps.tasks.kinds import TaskKind, kind_key, register_kind
from apps.tasks.models import Task, TaskType
from apps.tasks.runner import Run

from . import accuracy, questions, retrieval
from .models import BankAlias, Feedback, QAEvaluation, QAHistory, QASession

KIND = "retrieval"  # the ``kind`` of the training and evaluation tasks of this domain
SELF_CHECK_QUESTIONS = 1_000  # generated noisy questions a new version is checked on
SELF_CHECK_SEED = 20_261_122
CACHE_PREFIX = "omm:qa:"
CACHE_VERSION = 1  # bump when the cached answer's shape changes
MAX_EVALUATION_QUESTIONS = 200_000
logger = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class QuestionInvalid(Invalid, ValueError):
    """The question cannot be asked (not text, too long, nothing to look up)."""

    def __init__(self, message: str):
        super().__init__(message, errors={"question": [message]})


class NoActiveVersion(Conflict):
    """No retrieval version is active for the QA model."""

    default_code = "no_active_version"


class FeedbackInvalid(Invalid, ValueError):
    """Feedback other than +1/-1, or a correct code that is not a 12-digit code."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in errors.values() for m in ms), errors=errors)


# --------------------------------------------------------------------------- aliases


def aliases_table() -> dict[str, str]:
    """Short name -> full bank name: the built-in table (``retrieval.DEFAULT_ALIASES``)
    with the admin's rows on top. An active row adds or redirects an alias; an inactive
    row switches a built-in one off. So an emptied table never leaves the index without
    the big banks' short names, which also tell it which bank a question names."""
    table = dict(retrieval.DEFAULT_ALIASES)
    for alias, full_name, active in BankAlias.objects.values_list("alias", "full_name", "is_active"):
        if active:
            table[alias] = full_name
        else:
            table.pop(alias, None)
    return table


# --------------------------------------------------------------------------- building


def qa_model_name() -> str:
    return str(config_get_local("qa-model") or "bank-qa").strip()


def build_check(request: dict, resources: dict | None = None) -> dict[str, Any]:
    """Check a "train QA model" request; raise RequestInvalid listing every problem.

    ``request`` keys: dataset (a bank-records dataset id), dataset_version (number; default
    the newest validated), name (the model; default the ``qa-model`` setting).
    """
    errors: dict[str, list[str]] = {}
    name = str(request.get("name") or qa_model_name()).strip()
    if not name or len(name) > 200:
        errors["name"] = ["Give a model name of 1 to 200 characters."]
    existing = Model.objects.filter(name=name).first() if name else None
    if existing is not None and existing.type != ModelType.RETRIEVAL:
        errors["name"] = [f"{name} is a {existing.type} model; a QA model needs a retrieval model name."]
    elif existing is not None and existing.status == ModelStatus.ARCHIVED:
        errors["name"] = [f"{name} is archived; it takes no new versions."]
    version = scoring_version(
        request.get("dataset"), request.get("dataset_version"), errors, kind=DatasetKind.BANK_RECORDS
    )
    if version is not None and not version.valid_count:
        errors["dataset_version"] = [f"{version} has no valid bank record to answer from."]
    if errors:
        raise RequestInvalid(errors)
    return {
        "kind": KIND,
        "model_name": name,
        "dataset": version.dataset_id,
        "dataset_name": version.dataset.name,
        "dataset_version": version.version,
        "dataset_version_id": version.pk,
        "records": version.valid_count,
    }


def build_create(*, user, request: dict, **options: Any) -> Task:
    """Queue a QA model build on the ``training`` queue; nothing is stored when invalid.

    ``options``: priority, resource_config, schedule, trigger_key, rerun_of, enqueue.
    """
    task, _ = queue.checked_task_create(
        type=TaskType.TRAINING,
        check=build_check,
        name=lambda p: f"Train QA model {p['model_name']} on {p['dataset_name']} v{p['dataset_version']}",
        user=user,
        request=request,
        **options,
    )
    return task


def _build_request_of(task: Task) -> dict:
    p = task.parameters
    return {
        "name": p.get("model_name"),
        "dataset": p.get("dataset"),
        "dataset_version": p.get("dataset_version"),
    }


def bank_records(version: DatasetVersion) -> dict[str, list[str]]:
    """The valid lines of a bank-records version, as the columns an index is built from."""
    rows = version.records.filter(is_valid=True).order_by("line_number")
    names, codes, clearing = [], [], []
    for name, code, clear in rows.values_list("bank_name", "bank_code", "clearing_code").iterator(
        chunk_size=20_000
    ):
        names.append(name)
        codes.append(code)
        clearing.append(clear)
    return {"bank_name": names, "bank_code": codes, "clearing_code": clearing}


def sure_threshold() -> float:
    return float(config_get_local("qa-sure-threshold"))


def build_work(run: Run) -> Callable[[], dict]:
    """Build the index from the valid records, check it on generated questions, store it."""
    p = run.task.parameters
    version = DatasetVersion.objects.select_related("dataset").get(pk=p["dataset_version_id"])
    started = time.monotonic()
    records = bank_records(version)
    aliases = aliases_table()
    run.log(f"Read {len(records['bank_name']):,} valid records of {version}; {len(aliases)} aliases.")
    run.progress(10)
    run.check_cancel()
    try:
        index = retrieval.RetrievalIndex.build(records, aliases=aliases)
    except ValueError as exc:
        raise RunFailed(f"The records cannot be indexed: {exc}") from None
    build_seconds = time.monotonic() - started
    run.log(f"Indexed {len(index):,} records in {build_seconds:.1f} s.")
    run.progress(60)
    run.check_cancel()
    # A self-check on generated noisy questions: a quick, honest read of the version that
    # the versions page can show side by side (a held-out evaluation is a QA evaluation).
    generated = questions.generate_questions(
        records, SELF_CHECK_QUESTIONS, seed=SELF_CHECK_SEED, aliases=aliases
    )
    figures = accuracy.accuracy(
        index, [q.text for q in generated], [q.bank_code for q in generated], threshold=sure_threshold()
    )
    run.progress(80)
    payload = index.to_bytes()
    meta = {"records": len(index), "aliases": len(aliases), "dataset_version_id": version.pk}
    stored = registry.artifact_store_bytes(payload, retrieval.FORMAT, meta)
    run.on_discard(lambda: registry.artifact_discard(stored))
    metrics = {
        "top1": figures["top1"],
        "top5": figures["top5"],
        "not_sure": figures["not_sure"],
        "records": len(index),
        "build_seconds": round(build_seconds, 3),
    }
    run.log(
        f"Self-check on {SELF_CHECK_QUESTIONS:,} generated questions: "
        f"top-1 {accuracy.shown(figures['top1'])} of answered, "
        f"not sure {accuracy.shown(figures['not_sure'])}, top-5 {accuracy.shown(figures['top5'])}."
    )

    def commit() -> dict:
        mv, created = registry.version_register(
            model_name=p["model_name"],
            model_type=ModelType.RETRIEVAL,
            algorithm=retrieval.FORMAT,
            stored=stored,
            user=run.task.created_by,
            metrics=metrics,
            parameters={"aliases": len(aliases), "sure_threshold": figures["threshold"]},
            feature_schema={"features": ["question"]},
            task=run.task,
            dataset_version=version,
            training_info={
                "seconds": round(time.monotonic() - started, 3),
                "self_check": SELF_CHECK_QUESTIONS,
            },
            changelog=f"Built by task #{run.task_id} from {version}.",
        )
        if not created:
            registry.artifact_discard(stored)
        return {
            "modelId": mv.model_id,
            "modelName": mv.model.name,
            "modelVersionId": mv.pk,
            "version": mv.version,
            "algorithm": retrieval.FORMAT,
            "metrics": metrics,
            "seconds": round(time.monotonic() - started, 3),
        }

    return commit


# --------------------------------------------------------------------------- asking

_ROUTE_SQL: str | None = None


def _route_sql() -> str:
    # One hand-written query per question: the ORM compiles slower than this runs.
    global _ROUTE_SQL
    if _ROUTE_SQL is None:
        m, v = Model._meta.db_table, ModelVersion._meta.db_table
        _ROUTE_SQL = (
            f'SELECT v.id FROM "{v}" v JOIN "{m}" m ON m.id = v.model_id '  # noqa: S608 - names from meta
            "WHERE m.name = %s AND m.type = %s AND m.status <> %s AND v.status = %s LIMIT 1"
        )
    return _ROUTE_SQL


def active_version_id() -> int | None:
    """The active version of the QA model (the ``qa-model`` setting), if any."""
    params = [
        qa_model_name(),
        ModelType.RETRIEVAL.value,
        ModelStatus.ARCHIVED.value,
        VersionStatus.ACTIVE.value,
    ]
    row = fetchone_prepared("omm_qa_route", _route_sql(), params, (as_int,))
    return row[0] if row else None


_indexes: dict[int, retrieval.RetrievalIndex] = {}
_load_lock = threading.Lock()


def loaded_index(version_id: int) -> retrieval.RetrievalIndex:
    """The verified index of a version, loaded once per process; the one it replaces is freed."""
    hit = _indexes.get(version_id)
    if hit is not None:
        return hit
    with _load_lock:  # one load per process even when threads ask at once
        hit = _indexes.get(version_id)
        if hit is not None:
            return hit
        version = ModelVersion.objects.get(pk=version_id)
        try:
            _, index = registry.version_load(version)  # checksum and signature checked here
        except (artifacts.ArtifactError, OSError) as exc:
            raise NoActiveVersion(f"{version} cannot be loaded: {exc}") from None
        if not isinstance(index, retrieval.RetrievalIndex):
            raise NoActiveVersion(f"{version} is not a retrieval index.")
        _indexes.clear()  # only the active version answers: keep one index in memory
        _indexes[version_id] = index
        return index


def warm_up() -> int | None:
    """Load the active version's index now (a web process starting), so that the first
    question does not wait for it; returns the version loaded, None when there is none or
    it cannot be loaded (asking will then say why)."""
    try:
        version_id = active_version_id()
        if version_id is not None:
            loaded_index(version_id).warm()
        return version_id
    except Exception:  # never stop a process from starting: the ask path reports the problem
        logger.warning("the QA index could not be loaded at start", exc_info=True)
        return None
    finally:
        connection.close()  # this thread's own connection


_labels: dict[int, tuple[str, int]] = {}


def version_label(version_id: int) -> tuple[str, int]:
    """(model name, version number) of a version; immutable, so remembered per process."""
    label = _labels.get(version_id)
    if label is None:
        label = _labels[version_id] = tuple(
            ModelVersion.objects.filter(pk=version_id).values_list("model__name", "version").get()
        )
    return label


def clean_question(question: Any) -> str:
    """The question as asked, bounded and without control characters; raises QuestionInvalid."""
    if not isinstance(question, str):
        raise QuestionInvalid("The question must be text.")
    if len(question) > retrieval.MAX_RAW_CHARS:
        raise QuestionInvalid(
            f"The question is {len(question):,} characters long; ask in at most {retrieval.MAX_RAW_CHARS:,}."
        )
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", question)).strip()
    if not text:
        raise QuestionInvalid("The question is empty.")
    return text


def _cache_key(version_id: int, question: str) -> str:
    normal = retrieval.normalise(question)
    digest = hashlib.blake2b(normal.encode(), digest_size=16).hexdigest()
    return f"{CACHE_PREFIX}{CACHE_VERSION}:{version_id}:{digest}"


@dataclass
class Asked:
    """An answer as served: the answer's fields, the version, whether it came from the cache."""

    answer: dict[str, Any]
    version_id: int
    cached: bool


def answer(question: str) -> Asked:
    """Answer a cleaned question with the active version, through the Redis cache.

    Raises NoActiveVersion, or QuestionInvalid when nothing is left to look up.
    """
    version_id = active_version_id()
    if version_id is None:
        raise NoActiveVersion(
            f"No version of the QA model {qa_model_name()!r} is active: train it on a bank-records "
            "dataset (/qa/) and promote a version."
        )
    key = _cache_key(version_id, question)
    hit = cache_round_trip(key)  # with the answers cached by earlier questions, one round trip
    if hit is None:
        try:
            found = loaded_index(version_id).ask(question, k=5)
        except retrieval.EmptyQuestionError:
            raise QuestionInvalid(
                "The question names no bank or code once punctuation and wrappers are gone."
            ) from None
        result = found.to_dict()
        ttl = int(config_get_local("qa-cache-seconds"))
        if ttl > 0:
            cache_set_later(key, result, ttl)  # serialised now: `sure` below is not
    else:
        result = hit
    # Decided on every ask, so a change of the setting applies to cached answers too.
    result["sure"] = result["confidence"] >= sure_threshold()
    return Asked(result, version_id, hit is not None)


def ask(*, user, question: Any, session: QASession | None = None) -> QAHistory:
    """Answer a question and keep it in the user's history (in ``session`` if given)."""
    started = time.perf_counter()
    text = clean_question(question)
    asked = answer(text)
    elapsed_ms = (time.perf_counter() - started) * 1000
    a = asked.answer
    entry = QAHistory(
        user_id=user.pk,  # a stateless token user (the fast path) is not a row
        session=session,
        model_version_id=asked.version_id,
        question=text,
        bank_name=a["bank_name"] or "",
        bank_code=a["bank_code"] or "",
        clearing_code=a["clearing_code"] or "",
        confidence=a["confidence"],
        sure=a["sure"],
        matched_by=a["matched_by"],
        candidates=a["candidates"],
        response_ms=round(elapsed_ms, 3),
        cached=asked.cached,
    )
    insert_unflushed(entry, name="omm_qa_history")  # a log of an answer given: no flush wait
    if session is not None:
        fields = {"updated_at": timezone.now()}
        if not session.title:
            fields["title"] = text[:200]
        QASession.objects.filter(pk=session.pk).update(**fields)
    return entry


# --------------------------------------------------------------------------- sessions and feedback


def session_create(*, user, title: str = "") -> QASession:
    return QASession.objects.create(user=user, title=(title or "").strip()[:200])


def feedback_give(*, entry: QAHistory, value: Any, correct_code: Any = "") -> QAHistory:
    """Mark an answer right (+1) or wrong (-1), optionally with the right 12-digit code.

    Feedback may be changed; the newest counts. The caller checks the entry is the user's.
    """
    errors: dict[str, list[str]] = {}
    if isinstance(value, bool) or value not in (Feedback.RIGHT, Feedback.WRONG):
        errors["value"] = [f"Feedback is 1 (right) or -1 (wrong); got {value!r}."]
    code = correct_code.strip() if isinstance(correct_code, str) else correct_code
    if code in (None, ""):
        code = ""
    elif not isinstance(code, str) or not re.fullmatch(r"[0-9]{12}", code):
        errors["correct_code"] = ["A correct code is the 12-digit bank code."]
    elif value == Feedback.RIGHT and code != entry.bank_code:
        errors["correct_code"] = ["A correct code goes with feedback -1 (the answer was wrong)."]
    if errors:
        raise FeedbackInvalid(errors)
    entry.feedback = value
    entry.correct_code = code if value == Feedback.WRONG else ""
    entry.feedback_at = timezone.now()
    entry.save(update_fields=["feedback", "correct_code", "feedback_at"])
    return entry


# --------------------------------------------------------------------------- corrections

CORRECTION_COLUMNS = ("question", "expected_code", "answered_code", "history_id")


def corrections(entries):
    """The answers among ``entries`` marked wrong with a correct code."""
    return entries.filter(feedback=Feedback.WRONG).exclude(correct_code="")


def corrections_csv(entries) -> bytes:
    """Wrong answers with a correct code, as a labelled question set (UTF-8 CSV)."""
    import csv

    from apps.core.csvsafe import cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CORRECTION_COLUMNS)
    for e in corrections(entries).order_by("pk"):
        # The code columns are digits; a question is text a user typed: neutralised.
        writer.writerow([cell(e.question), e.correct_code, e.bank_code, e.pk])
    return out.getvalue().encode("utf-8")


def corrections_export(*, entries, user, dataset_name: str = "qa-corrections") -> tuple[DatasetVersion, bool]:
    """Store the corrections among ``entries`` as a new version of a tabular dataset that a
    QA evaluation can run on (question, expected_code); returns (version, created): the
    same corrections again give the version already stored. Raises ValueError when none."""
    from apps.datasets.services import dataset_upload

    body = corrections_csv(entries)
    if body.count(b"\n") <= 1:
        raise ValueError("None of these answers was marked wrong with a correct code.")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return dataset_upload(
        name=dataset_name,
        kind=DatasetKind.TABULAR,
        file=ContentFile(body, name=f"qa-corrections-{stamp}.csv"),
        original_name=f"qa-corrections-{stamp}.csv",
        user=user,
        description="Questions answered wrong, with the code users gave as right.",
    )


# --------------------------------------------------------------------------- accuracy evaluation


def evaluation_check(request: dict, resources: dict | None = None) -> dict[str, Any]:
    """Check an accuracy evaluation request; raise RequestInvalid listing every problem.

    ``request`` keys: model_version (a retrieval version id), dataset (a tabular dataset id),
    dataset_version (number; default newest validated), question_column (default
    ``question``), code_column (default ``expected_code``).
    """
    errors: dict[str, list[str]] = {}
    raw = request.get("model_version")
    version = (
        ModelVersion.objects.select_related("model").filter(pk=raw).first()
        if isinstance(raw, int) and not isinstance(raw, bool)
        else None
    )
    if version is None:
        errors["model_version"] = [f"No model version with id {raw!r}."]
    elif version.model.type != ModelType.RETRIEVAL:
        errors["model_version"] = [
            f"{version} is a {version.model.type} model; this evaluates retrieval versions."
        ]
    data = scoring_version(request.get("dataset"), request.get("dataset_version"), errors)
    question_column = request.get("question_column") or "question"
    code_column = request.get("code_column") or "expected_code"
    if data is not None:
        columns = columns_of(data)
        for field, column in (("question_column", question_column), ("code_column", code_column)):
            if column not in columns:
                errors[field] = [
                    f"{data} has no column {column!r}; its columns: {', '.join(list(columns)[:20])}."
                ]
        if data.row_count and data.row_count > MAX_EVALUATION_QUESTIONS:
            errors["dataset"] = [f"{data} has {data.row_count:,} rows; at most {MAX_EVALUATION_QUESTIONS:,}."]
    if errors:
        raise RequestInvalid(errors)
    return {
        "kind": KIND,
        "model_version": version.pk,
        "model_name": version.model.name,
        "version": version.version,
        "dataset": data.dataset_id,
        "dataset_name": data.dataset.name,
        "dataset_version": data.version,
        "dataset_version_id": data.pk,
        "question_column": question_column,
        "code_column": code_column,
    }


def evaluation_create(*, user, request: dict, **options: Any) -> QAEvaluation:
    """Queue an accuracy evaluation on the ``evaluation`` queue; nothing is stored when invalid.

    ``options``: priority, resource_config, schedule, trigger_key, rerun_of, enqueue.
    """
    with transaction.atomic():
        task, p = queue.checked_task_create(
            type=TaskType.EVALUATION,
            check=evaluation_check,
            name=lambda p: (
                f"QA accuracy of {p['model_name']} v{p['version']} "
                f"on {p['dataset_name']} v{p['dataset_version']}"
            ),
            user=user,
            request=request,
            **options,
        )
        return QAEvaluation.objects.create(
            task=task,
            model_version_id=p["model_version"],
            dataset_version_id=p["dataset_version_id"],
            question_column=p["question_column"],
            code_column=p["code_column"],
            created_by=user,
        )


def _evaluation_request_of(task: Task) -> dict:
    p = task.parameters
    return {
        k: p.get(k) for k in ("model_version", "dataset", "dataset_version", "question_column", "code_column")
    }


def _code_text(value: Any) -> str:
    """A code cell as its 12 digits: CSV readers may have typed it as an integer."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text.zfill(12) if text.isdigit() else text


def evaluation_work(run: Run) -> Callable[[], dict]:
    """Ask every labelled question with the version; the commit stores the figures and failures."""
    ev = QAEvaluation.objects.select_related("model_version", "dataset_version").get(task_id=run.task_id)
    try:
        _, index = registry.version_load(ev.model_version)
    except artifacts.ArtifactError as exc:
        raise RunFailed(f"{ev.model_version} cannot be loaded: {exc}") from None
    with stored_file_path(ev.dataset_version.parquet) as path:
        table = pq.read_table(path, columns=[ev.question_column, ev.code_column])
    texts = ["" if q is None else str(q) for q in table.column(ev.question_column).to_pylist()]
    codes = [_code_text(c) for c in table.column(ev.code_column).to_pylist()]
    run.log(f"Asking {len(texts):,} questions of {ev.dataset_version} with {ev.model_version}.")
    total = max(len(texts), 1)

    def tick(done: int) -> None:
        run.progress(5 + 90 * done / total)
        run.check_cancel()

    started = time.perf_counter()
    figures = accuracy.accuracy(index, texts, codes, threshold=sure_threshold(), tick=tick)
    figures["seconds"] = round(time.perf_counter() - started, 3)
    failures = figures.pop("failures")
    run.log(
        f"Top-1 {accuracy.shown(figures['top1'])} of answered, top-5 {accuracy.shown(figures['top5'])}, "
        f"not sure {accuracy.shown(figures['not_sure'])}; {figures['failures_total']} failures."
    )

    def commit() -> dict:
        QAEvaluation.objects.filter(pk=ev.pk).update(
            metrics=figures, failures=failures, rows=len(texts), completed_at=timezone.now()
        )
        return {"qaEvaluationId": ev.pk, "modelVersionId": ev.model_version_id, "metrics": figures}

    return commit


def register() -> None:
    register_kind(
        TaskKind(
            key=kind_key(TaskType.TRAINING, {"kind": KIND}),
            type=TaskType.TRAINING,
            job="apps.qa.tasks.run_build",
            work=build_work,
            check=build_check,
            create=build_create,
            request_of=_build_request_of,
            uses_training_slot=True,
        )
    )
    register_kind(
        TaskKind(
            key=kind_key(TaskType.EVALUATION, {"kind": KIND}),
            type=TaskType.EVALUATION,
            job="apps.qa.tasks.run_evaluation",
            work=evaluation_work,
            check=evaluation_check,
            create=lambda **kwargs: evaluation_create(**kwargs).task,
            request_of=_evaluation_request_of,
        )
    )
