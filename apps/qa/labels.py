"""QA's stored codes as people read them: how an answer matched, a failure's kind. The codes
stay in the data, the API and CSS classes; pages and the admin show these labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# ``retrieval.answers.MatchedBy``; a code added there is shown as it is until labelled here.
MATCHED_BY = {
    "code": _("bank code"),
    "exact": _("exact name"),
    "ngram": _("similar name"),
    "none": _("no match"),
}
# The failure kinds of ``accuracy.accuracy``.
FAILURE_KINDS = {
    "wrong": _("wrong while sure"),
    "missed": _("not in the top 5"),
    "not_sure": _("not sure"),
}


def label(table: dict, value) -> str:
    """``value``'s label in ``table``; an unknown code as it is, None as blank."""
    if value is None:
        return ""
    return str(table.get(value, value))
