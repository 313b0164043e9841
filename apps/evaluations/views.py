"""Analyst pages of evaluations: the list with its create form, a report, a comparison."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from djangorestframework_camel_case.util import camelize

from apps.models import selectors as model_selectors
from apps.tasks.errors import QueueUnavailable

from . import selectors
from .api.serializers import EvaluationCompareSerializer, EvaluationResultSerializer
from .constants import metric_label
from .errors import CompareInvalid
from .export import CSV_TABLES, TABLE_LABELS
from .forms import EvaluationForm, evaluation_from_form
from .models import EvaluationStatus

PAGE_SIZE = 25


def _filters(request: HttpRequest) -> dict[str, str]:
    wanted = {k: request.GET.get(k, "") for k in (*selectors.LIST_FILTERS, "status")}
    return {
        k: v
        for k, v in wanted.items()
        if (v.isdigit() if k in selectors.LIST_FILTERS else v in EvaluationStatus.values) and v
    }


@login_required
@permission_required("evaluations.view_evaluation", raise_exception=True)
def evaluation_list(request: HttpRequest) -> HttpResponse:
    can_create = request.user.has_perm("evaluations.add_evaluation")
    filters = _filters(request)
    form = None
    if can_create:
        initial = {"model_version": filters.get("version")} if "version" in filters else {}
        form = EvaluationForm(
            request.POST or None,
            versions=selectors.evaluatable_versions(),
            datasets=model_selectors.trainable_datasets(),
            initial=initial,
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                created = evaluation_from_form(request.user, form)
            except QueueUnavailable as exc:
                messages.error(
                    request,
                    gettext("The task queue is unreachable; the evaluation failed: %(detail)s")
                    % {"detail": exc.detail},
                )
                return redirect("evaluation")
            if created is not None:
                messages.success(request, gettext("Evaluation #%(id)s is queued.") % {"id": created.pk})
                return redirect("evaluation-report", created.pk)
    evaluations = selectors.evaluations_filtered(filters)
    page = Paginator(evaluations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "evaluations/list.html",
        {
            "page": page,
            "form": form,
            "filters": filters,
            "filter_query": urlencode(filters),
            "statuses": EvaluationStatus.choices,
            "alerts": selectors.drift_alerts(),
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@permission_required("evaluations.view_evaluation", raise_exception=True)
def evaluation_report(request: HttpRequest, pk: int) -> HttpResponse:
    evaluation = get_object_or_404(selectors.evaluations_for_list(), pk=pk)
    result = selectors.evaluation_result(evaluation)
    return render(
        request,
        "evaluations/report.html",
        {
            "ev": evaluation,
            "r": result,
            "headline": [
                (k, metric_label(k), v, result["definitions"].get(k, ""))
                for k, v in result["metrics"].items()
            ],
            "definition_rows": [(metric_label(k), text) for k, text in result["definitions"].items()],
            # The charts read the same camelCase shape the API answers.
            "data": camelize(EvaluationResultSerializer(result).data),
            "tables": [(t, TABLE_LABELS[t]) for t in CSV_TABLES if _has_table(result, t)],
        },
    )


def _has_table(result: dict, table: str) -> bool:
    source = {
        "metrics": result["metrics"],
        "deciles": result["deciles"],
        "roc": result["roc_curve"],
        "pr": result["pr_curve"],
        "psi": result["psi"],
        "csi": result["csi"],
        "importance": result["feature_importance"],
    }
    return bool(source[table])


@login_required
@permission_required("evaluations.view_evaluation", raise_exception=True)
def evaluation_compare(request: HttpRequest) -> HttpResponse:
    try:
        # ?ids=3,4 (a link) or ?ids=3&ids=4 (the list's checkboxes).
        compared = selectors.evaluation_compare(",".join(request.GET.getlist("ids")))
    except CompareInvalid as exc:
        messages.error(request, str(exc))
        return redirect("evaluation")
    return render(
        request,
        "evaluations/compare.html",
        {"c": compared, "data": camelize(EvaluationCompareSerializer(compared).data)},
    )
