"""History search for admins: everyone's past questions and answers, by text, dates, sure
or not, who asked and feedback, a page at a time."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors
from .forms_history import HistorySearchForm

PAGE_SIZE = 25


@login_required
def history_search(request: HttpRequest) -> HttpResponse:
    if not selectors.sees_everyone(request.user):
        raise PermissionDenied
    form = HistorySearchForm(request.GET or None)
    rows = None
    if not form.is_bound:
        rows = selectors.history_search()
    elif form.is_valid():
        data = form.cleaned_data
        rows = selectors.history_search(
            text=data["q"],
            since=data["since"],
            until=data["until"],
            sure={"sure": True, "not_sure": False}.get(data["sure"]),
            username=data["user"],
            feedback=data["feedback"],
        )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")) if rows is not None else None
    query = urlencode([(k, v) for k, v in request.GET.items() if k != "page"])
    return render(
        request,
        "qa/history.html",
        {"form": form, "page": page, "query": query},
        status=400 if form.errors else 200,
    )
