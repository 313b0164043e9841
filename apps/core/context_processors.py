"""Template context shared by every analyst page."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# The analyst pages, in navigation order: (url name, label).
NAVIGATION = [
    ("dashboard", _("Dashboard")),
    ("datasets", _("Datasets")),
    ("features", _("Features")),
    ("models", _("Models")),
    ("traceability", _("Traceability")),
    ("tasks", _("Tasks")),
    ("evaluation", _("Evaluation")),
    ("monitoring", _("Monitoring")),
    ("alerts-page", _("Alerts")),
    ("qa", _("QA")),
    ("settings", _("Settings")),
]


def navigation(request) -> dict:
    items = []
    for name, label in NAVIGATION:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"url": url, "label": label, "active": active})
    return {"nav_items": items}
