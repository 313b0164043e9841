"""Template context shared by every analyst page."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

# The analyst pages, in navigation order: (url name, label).
NAVIGATION = [
    ("dashboard", "Dashboard"),
    ("datasets", "Datasets"),
    ("features", "Features"),
    ("models", "Models"),
    ("traceability", "Traceability"),
    ("tasks", "Tasks"),
    ("evaluation", "Evaluation"),
    ("qa", "QA"),
    ("settings", "Settings"),
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
