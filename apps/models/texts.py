"""The training package's messages in the reader's language.

``apps.models.training`` imports no Django: each reason a spec cannot be trained is a
``training.Problem``, an English ``str`` that keeps its marked template and params. Here
they are translated for the forms, the API and the task log.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext


def problem_text(problem: str) -> str:
    """One problem in the active language (a plain string is looked up as it is)."""
    template = getattr(problem, "template", None)
    if template is None:
        return gettext(str(problem))
    params = getattr(problem, "params", None) or {}
    return gettext(template) % params if params else gettext(template)


def problems_text(problems: Iterable[str]) -> str:
    """Problems in the active language, joined as one sentence."""
    return gettext("; ").join(problem_text(p) for p in problems)
