"""Sentences the analyst pages and the API both say, translated once."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import FeatureSet

# IV strength classes (``statistics.STRENGTH_CUTOFFS``) and binning methods as shown to people;
# the stored statistics keep the English keys.
IV_STRENGTHS = {
    "useless": _("useless"),
    "weak": _("weak"),
    "medium": _("medium"),
    "strong": _("strong"),
    "suspicious": _("suspicious"),
}
BINNING_METHODS = {"quantile": _("equal-frequency binning"), "category": _("category binning")}


def registered_message(count: int, feature_set: FeatureSet | None) -> str:
    """What registering ``count`` features (and maybe a feature set) says."""
    if feature_set is not None:
        return ngettext(
            "Registered %(count)d feature and %(feature_set)s.",
            "Registered %(count)d features and %(feature_set)s.",
            count,
        ) % {"count": count, "feature_set": feature_set}
    return ngettext("Registered %(count)d feature.", "Registered %(count)d features.", count) % {
        "count": count
    }
