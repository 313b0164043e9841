"""Bank clearing-code question answering: reads for the API, pages and admin."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from apps.models.models import ModelType, ModelVersion

from .models import QAEvaluation, QAHistory, QASession


def sees_everyone(user) -> bool:
    """Admins read every user's questions (to act on feedback); others only their own."""
    return bool(getattr(user, "is_admin_role", False))


def history_for(user) -> QuerySet[QAHistory]:
    rows = QAHistory.objects.select_related("user", "session", "model_version__model")
    return rows if sees_everyone(user) else rows.filter(user_id=user.pk)


def sessions_for(user) -> QuerySet[QASession]:
    rows = QASession.objects.select_related("user").annotate(questions=Count("history"))
    return rows if sees_everyone(user) else rows.filter(user_id=user.pk)


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


def activity_last_day(sample: int = 10_000) -> dict[str, float | int | None]:
    """Questions asked in the last 24 hours, how many answers were marked wrong, and the
    median answer time (over the newest ``sample``, so the dashboard stays cheap)."""
    from datetime import timedelta

    from django.utils import timezone

    recent = QAHistory.objects.filter(created_at__gte=timezone.now() - timedelta(days=1))
    counts = recent.aggregate(questions=Count("pk"), wrong=Count("pk", filter=Q(feedback=-1)))
    times = sorted(recent.order_by("-created_at").values_list("response_ms", flat=True)[:sample])
    counts["median_ms"] = times[len(times) // 2] if times else None
    return counts
