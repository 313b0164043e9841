"""Bank clearing-code question answering: reads for the API, pages, admin and services.

``active_version_id`` and ``version_label`` are on the ask path (every question): one
prepared statement, and a per-process memo of what never changes.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.core.hotpath import as_int, fetchone_prepared
from apps.models.models import Model, ModelStatus, ModelType, ModelVersion, VersionStatus

from . import retrieval
from .config import qa_model_name
from .models import BankAlias, Feedback, QAEvaluation, QAHistory, QASession


def sees_everyone(user) -> bool:
    """Admins read every user's questions (to act on feedback); others only their own."""
    return bool(getattr(user, "is_admin_role", False))


def history_for(user) -> QuerySet[QAHistory]:
    rows = QAHistory.objects.select_related("user", "session", "model_version__model")
    return rows if sees_everyone(user) else rows.filter(user_id=user.pk)


def sessions_for(user) -> QuerySet[QASession]:
    rows = QASession.objects.select_related("user").annotate(questions=Count("history"))
    return rows if sees_everyone(user) else rows.filter(user_id=user.pk)


def own_session(user, pk: int) -> QASession | None:
    """The user's own session ``pk`` (asking in a session is for its owner only), or None."""
    return QASession.objects.filter(pk=pk, user_id=user.pk).first()


def console_history(user, session: QASession | None = None) -> QuerySet[QAHistory]:
    """The user's own questions, newest first; only the session's when one is given."""
    rows = QAHistory.objects.filter(user_id=user.pk).select_related("model_version__model")
    return rows.filter(session=session) if session is not None else rows


def evaluations() -> QuerySet[QAEvaluation]:
    return QAEvaluation.objects.select_related(
        "task", "model_version__model", "dataset_version__dataset", "created_by"
    )


def retrieval_versions() -> QuerySet[ModelVersion]:
    return (
        ModelVersion.objects.filter(model__type=ModelType.RETRIEVAL)
        .select_related("model", "dataset_version__dataset", "task")
        .order_by("-created_at", "-id")
    )


def feedback_counts(entries: QuerySet[QAHistory]) -> dict[str, int]:
    return entries.aggregate(
        right=Count("pk", filter=Q(feedback=1)),
        wrong=Count("pk", filter=Q(feedback=-1)),
        corrected=Count("pk", filter=Q(feedback=-1) & ~Q(correct_code="")),
    )


def corrections(entries: QuerySet[QAHistory]) -> QuerySet[QAHistory]:
    """The answers among ``entries`` marked wrong with a correct code."""
    return entries.filter(feedback=Feedback.WRONG).exclude(correct_code="")


def activity_last_day(sample: int = 10_000) -> dict[str, float | int | None]:
    """Questions asked in the last 24 hours, how many answers were marked wrong, and the
    median answer time (over the newest ``sample``, so the dashboard stays cheap)."""
    recent = QAHistory.objects.filter(created_at__gte=timezone.now() - timedelta(days=1))
    counts = recent.aggregate(questions=Count("pk"), wrong=Count("pk", filter=Q(feedback=-1)))
    times = sorted(recent.order_by("-created_at").values_list("response_ms", flat=True)[:sample])
    counts["median_ms"] = times[len(times) // 2] if times else None
    return counts


# --------------------------------------------------------------------------- building


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


# --------------------------------------------------------------------------- the ask path

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


_labels: dict[int, tuple[str, int]] = {}


def version_label(version_id: int) -> tuple[str, int]:
    """(model name, version number) of a version; immutable, so remembered per process."""
    label = _labels.get(version_id)
    if label is None:
        label = _labels[version_id] = tuple(
            ModelVersion.objects.filter(pk=version_id).values_list("model__name", "version").get()
        )
    return label


def history_search(
    *,
    text: str = "",
    since=None,
    until=None,
    sure: bool | None = None,
    username: str = "",
    feedback: str = "",
) -> QuerySet[QAHistory]:
    """Everyone's questions and answers (for admins), newest first: every word of ``text`` in
    the question, the bank name or a code answered; asked from ``since`` to ``until`` (dates,
    both included, in the platform's time zone); sure or not; by ``username``; with
    ``feedback`` "right", "wrong" or "none"."""
    rows = QAHistory.objects.select_related("user", "session", "model_version__model")
    for word in text.split():
        rows = rows.filter(
            Q(question__icontains=word)
            | Q(bank_name__icontains=word)
            | Q(bank_code__startswith=word)
            | Q(clearing_code__startswith=word)
        )
    if since is not None:
        rows = rows.filter(created_at__date__gte=since)
    if until is not None:
        rows = rows.filter(created_at__date__lte=until)
    if sure is not None:
        rows = rows.filter(sure=sure)
    if username:
        rows = rows.filter(user__username=username)
    if feedback == "none":
        rows = rows.filter(feedback__isnull=True)
    elif feedback in ("right", "wrong"):
        rows = rows.filter(feedback=Feedback.RIGHT if feedback == "right" else Feedback.WRONG)
    return rows.order_by("-created_at", "-id")
