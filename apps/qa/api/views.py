"""Bank clearing-code question answering API: ask, sessions, history and feedback, QA model
builds and accuracy evaluations."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
    renderer_classes,
)
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from apps.core.api.renderers import AsBuiltRenderer
from apps.tasks.serializers import TaskSerializer
from apps.users.authentication import RoleClaimJWTAuthentication
from apps.users.permissions import HasPerms

from .. import selectors, services
from ..filters import QAHistoryFilter
from .serializers import (
    AskRequestSerializer,
    AskResponseSerializer,
    FeedbackSerializer,
    HistorySerializer,
    QAEvaluationRequestSerializer,
    QAEvaluationSerializer,
    SessionCreateSerializer,
    SessionSerializer,
    TrainSerializer,
)


def _queued(create, request, serializer_class):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    priority = data.pop("priority")
    return create(user=request.user, request=data, priority=priority)


def _candidate(c: dict) -> dict:
    return {
        "bankName": c["bank_name"],
        "bankCode": c["bank_code"],
        "clearingCode": c["clearing_code"],
        "bic": c.get("bic", ""),
        "score": c["score"],
    }


def ask_payload(entry, *, version_name: str, version_number: int) -> dict:
    """The ask answer as the API returns it, built camelCase (``AsBuiltRenderer``)."""
    return {
        "id": entry.pk,
        "question": entry.question,
        "session": entry.session_id,
        "answer": {
            "bankName": entry.bank_name or None,
            "bankCode": entry.bank_code or None,
            "clearingCode": entry.clearing_code or None,
            "bic": getattr(entry, "bic", None),
            "asked": getattr(entry, "asked", "bank_code"),
            "confidence": entry.confidence,
            "sure": entry.sure,
            "matchedBy": entry.matched_by,
            "candidates": [_candidate(c) for c in entry.candidates],
        },
        "modelVersion": entry.model_version_id,
        "model": version_name,
        "version": version_number,
        "cached": entry.cached,
        "responseTime": entry.response_ms,
    }


@extend_schema(request=AskRequestSerializer, responses=AskResponseSerializer, operation_id="qa_ask")
@api_view(["POST"])
@authentication_classes([RoleClaimJWTAuthentication, SessionAuthentication])
@permission_classes([HasPerms.of("qa.add_qahistory")])
@renderer_classes([AsBuiltRenderer])
def ask(request):
    """Answer a bank clearing-code question with the active QA model version.

    Below the confidence threshold ``answer.sure`` is false: show the candidates, not the
    guess. The question and answer are kept in your history (and ``session``, if given).
    """
    serializer = AskRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    session = None
    if data.get("session") is not None:
        session = selectors.own_session(request.user, data["session"])
        if session is None:
            raise ValidationError(
                {"session": [_("You have no session #%(number)s.") % {"number": data["session"]}]}
            )
    entry = services.ask(user=request.user, question=data["question"], session=session)
    name, number = selectors.version_label(entry.model_version_id)
    response = Response(ask_payload(entry, version_name=name, version_number=number))
    response.message = _("Answered.") if entry.sure else _("Not sure: see the candidates.")
    return response


class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your QA sessions (admins: everyone's). POST starts one."""

    serializer_class = SessionSerializer
    ordering_fields = ["created_at", "updated_at"]
    ordering = ["-updated_at", "-id"]
    search_fields = ["title"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.sessions_for(self.request.user)

    def get_permissions(self):
        if self.action == "create":
            return [HasPerms.of("qa.add_qasession")()]
        return super().get_permissions()

    @extend_schema(request=SessionCreateSerializer, responses={201: SessionSerializer})
    def create(self, request):
        serializer = SessionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.session_create(user=request.user, title=serializer.validated_data.get("title", ""))
        response = Response(
            SessionSerializer(self.get_queryset().get(pk=session.pk)).data, status=status.HTTP_201_CREATED
        )
        response.message = _("Session #%(number)s started.") % {"number": session.pk}
        return response


class HistoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Questions asked and their answers: yours (admins: everyone's). Search looks in the
    question and the answer (name and codes)."""

    serializer_class = HistorySerializer
    filterset_class = QAHistoryFilter
    search_fields = ["question", "bank_name", "bank_code", "clearing_code"]
    ordering_fields = ["created_at", "confidence", "response_ms"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.history_for(self.request.user)

    @extend_schema(request=FeedbackSerializer, responses=HistorySerializer, filters=False)
    @action(
        detail=True,
        methods=["post"],
        filterset_class=None,
        permission_classes=[HasPerms.of("qa.add_qahistory")],
    )
    def feedback(self, request, pk=None):
        """Mark your answer right (1) or wrong (-1), with the right code when you know it."""
        entry = self.get_object()
        if entry.user_id != request.user.pk:
            raise PermissionDenied(_("You can give feedback only on your own answers."))
        serializer = FeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.feedback_give(entry=entry, value=data["value"], correct_code=data.get("correct_code", ""))
        response = Response(HistorySerializer(self.get_queryset().get(pk=entry.pk)).data)
        response.message = _("Thank you: feedback recorded.")
        return response


@extend_schema(request=TrainSerializer, responses={201: TaskSerializer}, operation_id="qa_train")
@api_view(["POST"])
@permission_classes([HasPerms.of("tasks.add_task", "models.add_modelversion")])
def train(request):
    """Build a QA model version from a bank-records dataset, as a task on the training queue."""
    task = _queued(services.build_create, request, TrainSerializer)
    task.refresh_from_db()
    response = Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)
    response.message = _("QA model build queued as task #%(number)s.") % {"number": task.pk}
    return response


class QAEvaluationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Accuracy of retrieval versions on labelled question sets: top-1, top-5, not sure, failures."""

    serializer_class = QAEvaluationSerializer
    ordering = ["-created_at", "-id"]
    ordering_fields = ["created_at"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.evaluations()

    def get_permissions(self):
        if self.action == "create":
            return [HasPerms.of("qa.add_qaevaluation")()]
        return super().get_permissions()

    @extend_schema(request=QAEvaluationRequestSerializer, responses={201: QAEvaluationSerializer})
    def create(self, request):
        evaluation = _queued(services.evaluation_create, request, QAEvaluationRequestSerializer)
        response = Response(
            QAEvaluationSerializer(self.get_queryset().get(pk=evaluation.pk)).data,
            status=status.HTTP_201_CREATED,
        )
        response.message = _("QA evaluation #%(number)s is queued as task #%(task)s.") % {
            "number": evaluation.pk,
            "task": evaluation.task_id,
        }
        return response
