"""The QA console: ask, read the answer and candidates, give feedback, browse sessions; build
the QA model; accuracy evaluations of its versions."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.models.models import ModelVersion
from apps.tasks.errors import QueueUnavailable

from . import selectors, services
from .config import qa_model_name, sure_threshold
from .errors import FeedbackInvalid, NoActiveVersion, QuestionInvalid
from .forms import AskForm, FeedbackForm, QAEvaluationForm, TrainForm, create_from_form
from .models import QAEvaluation, QAHistory, QASession

HISTORY_SHOWN = 50
PAGE_SIZE = 25


def _console_url(session_id: int | None = None, answer_id: int | None = None) -> str:
    query = {k: v for k, v in (("session", session_id), ("answer", answer_id)) if v}
    return reverse("qa") + (f"?{urlencode(query)}" if query else "")


def _own_session(user, raw) -> QASession | None:
    if raw in (None, "") or not str(raw).isdigit():
        return None
    return selectors.own_session(user, int(raw))


def _can_train(user) -> bool:
    return user.has_perms(["tasks.add_task", "models.add_modelversion"])


@login_required
@permission_required("qa.view_qahistory", raise_exception=True)
def console(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_ask = user.has_perm("qa.add_qahistory")
    session = _own_session(user, request.POST.get("session") or request.GET.get("session"))
    form = AskForm(request.POST or None, initial={"session": session.pk if session else None})
    if request.method == "POST":
        if not can_ask:
            raise PermissionDenied
        if form.is_valid():
            try:
                entry = services.ask(user=user, question=form.cleaned_data["question"], session=session)
            except QuestionInvalid as exc:
                form.add_error("question", str(exc))
            except NoActiveVersion as exc:
                form.add_error(None, str(exc))
            else:
                return redirect(_console_url(session.pk if session else None, entry.pk))
    history = selectors.console_history(user, session)
    answer_id = request.GET.get("answer", "")
    latest = history.filter(pk=int(answer_id)).first() if answer_id.isdigit() else None
    active_id = selectors.active_version_id()
    return render(
        request,
        "qa/console.html",
        {
            "form": form if can_ask else None,
            "session": session,
            "sessions": QASession.objects.filter(user=user)[:30],
            "history": history[:HISTORY_SHOWN],
            "latest": latest,
            "active": ModelVersion.objects.select_related("model").filter(pk=active_id).first(),
            "qa_model": qa_model_name(),
            "train_form": TrainForm() if _can_train(user) else None,
            "versions": selectors.retrieval_versions()[:10],
            "sure_threshold": sure_threshold(),
        },
    )


@login_required
@require_POST
@permission_required("qa.add_qasession", raise_exception=True)
def session_new(request: HttpRequest) -> HttpResponse:
    session = services.session_create(user=request.user, title=request.POST.get("title", ""))
    return redirect(_console_url(session.pk))


@login_required
@require_POST
@permission_required("qa.add_qahistory", raise_exception=True)
def feedback(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(QAHistory, pk=pk, user=request.user)  # only your own answers
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Feedback is Right or Wrong."))
    else:
        try:
            services.feedback_give(
                entry=entry, value=form.cleaned_data["value"], correct_code=form.cleaned_data["correct_code"]
            )
        except FeedbackInvalid as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Feedback on question #%(number)s recorded. Thank you.") % {"number": entry.pk}
            )
    return redirect(_console_url(entry.session_id, entry.pk) + f"#q{entry.pk}")


@login_required
@require_POST
def train(request: HttpRequest) -> HttpResponse:
    if not _can_train(request.user):
        raise PermissionDenied
    form = TrainForm(request.POST)
    task = None
    if form.is_valid():
        try:
            task = create_from_form(form, lambda r: services.build_create(user=request.user, request=r))
        except QueueUnavailable as exc:
            messages.error(
                request,
                _("The task queue is unreachable; the build failed: %(detail)s") % {"detail": exc.detail},
            )
            return redirect("qa")
    if task is None:
        for error in [*form.non_field_errors(), *(e for f in form.errors.values() for e in f)]:
            messages.error(request, error)
        return redirect("qa")
    messages.success(
        request,
        _("QA model build queued as task #%(number)s. Promote the new version when it is ready.")
        % {"number": task.pk},
    )
    return redirect("task-page", task.pk)


@login_required
@permission_required("qa.view_qaevaluation", raise_exception=True)
def evaluation_list(request: HttpRequest) -> HttpResponse:
    can_create = request.user.has_perm("qa.add_qaevaluation")
    form = (
        QAEvaluationForm(request.POST or None, versions=selectors.retrieval_versions())
        if can_create
        else None
    )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                created = create_from_form(
                    form, lambda r: services.evaluation_create(user=request.user, request=r)
                )
            except QueueUnavailable as exc:
                messages.error(
                    request,
                    _("The task queue is unreachable; the evaluation failed: %(detail)s")
                    % {"detail": exc.detail},
                )
                return redirect("qa-evaluations")
            if created is not None:
                messages.success(request, _("QA evaluation #%(number)s is queued.") % {"number": created.pk})
                return redirect("qa-evaluation-page", created.pk)
    page = Paginator(selectors.evaluations(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "qa/evaluations.html", {"form": form, "page": page})


@login_required
@permission_required("qa.view_qaevaluation", raise_exception=True)
def evaluation_page(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation: QAEvaluation = get_object_or_404(selectors.evaluations(), pk=pk)
    return render(request, "qa/evaluation.html", {"e": evaluation, "m": evaluation.metrics})
