"""The scorecard page of a version: the card a credit committee reads (every feature's bins
with count, event rate, WOE, IV and points), why each candidate was kept or dropped, the
exports, and bin edits that refit the card as a new version."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext

from apps.core.errors import ApplicationError
from apps.tasks.errors import QueueUnavailable, RequestInvalid

from . import scorecards, selectors, training
from .forms_scorecard import BinEditForm


@login_required
@permission_required("models.view_model", raise_exception=True)
def scorecard_page(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(selectors.versions(), pk=version_id)
    if not version.card:
        return render(request, "models/scorecard.html", {"version": version, "card": None}, status=404)
    card = version.card
    form = BinEditForm(request.POST or None, card=card)
    can_refit = version.task_id is not None and request.user.has_perm("tasks.add_task")
    if request.method == "POST":
        if not can_refit:
            return HttpResponse(gettext("You may not queue trainings."), status=403)
        if form.is_valid():
            try:
                task = scorecards.scorecard_refit(version=version, edits=[form.edit()], user=request.user)
            except RequestInvalid as exc:
                for message_list in exc.errors.values():
                    for message in message_list:
                        form.add_error(None, message)
            except (QueueUnavailable, ApplicationError) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    gettext("Refit of %(version)s queued as task #%(id)s.")
                    % {"version": version, "id": task.pk},
                )
                return redirect("task-page", task.pk)
    return render(
        request,
        "models/scorecard.html",
        {
            "version": version,
            "card": card,
            "features": _features(card),
            "candidates": card.get("candidates") or [],
            "scaling": card.get("scaling") or {},
            "edits": card.get("edits") or [],
            "event_value": (version.feature_schema or {}).get("eventValue"),
            "form": form,
            "can_refit": can_refit,
            "dialects": [d for d in training.scorecard.DIALECTS if d != "sqlite"],
        },
        status=400 if form.errors else 200,
    )


def _features(card: dict) -> list[dict]:
    """Each selected feature with its bins, the best bin marked, and points spread for the bars."""
    out = []
    for feature in card.get("features") or []:
        bins = feature.get("bins") or []
        points = [b.get("points") or 0 for b in bins if b.get("count")]
        best = max(points) if points else 0
        out.append(
            {
                **feature,
                "bins": [
                    {**b, "index": i, "best": bool(b.get("count")) and b.get("points") == best}
                    for i, b in enumerate(bins)
                ],
                "max_points": best,
                "min_points": min(points) if points else 0,
            }
        )
    return out
