"""Scorecard work around the registry: refitting a card with an analyst's bin edits."""

from __future__ import annotations

from django.utils.translation import gettext

from apps.tasks.errors import RequestInvalid
from apps.tasks.models import Priority, Task

from . import training, training_tasks
from .errors import LifecycleError
from .models import ModelVersion
from .texts import problem_text


def scorecard_refit(*, version: ModelVersion, edits: list[dict], user) -> Task:
    """Queue a training of a new version of ``version``'s scorecard with ``edits`` applied.

    Raises RequestInvalid (nothing stored) for edits the card refuses, LifecycleError for a
    version that is not a trained scorecard."""
    if not version.card or version.task is None:
        raise LifecycleError(
            gettext("%(version)s is not a trained scorecard; only those are refitted.") % {"version": version}
        )
    problems = training.scorecard.card_edit_problems(version.card, edits)
    if problems:
        raise RequestInvalid({"edits": [problem_text(p) for p in problems]})
    request = {
        **training_tasks.training_request_of(version.task),
        "name": version.model.name,
        "algorithm": "scorecard",
        "base_version": version.pk,
        "edits": edits,
        "task_name": gettext("Refit %(version)s with %(count)s bin edit(s)")
        % {"version": version, "count": len(edits)},
    }
    request.pop("reproduce_of", None)
    return training_tasks.training_create(user=user, request=request, priority=Priority.HIGH)
