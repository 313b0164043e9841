"""The reason dictionary as scoring reads it: each reason's code and words in the reader's
language, from ``ReasonText`` rows (admin-edited), kept per process for a few seconds so a
prediction costs no query."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.utils.translation import get_language, gettext

from .models import ReasonText

# An admin's edit reaches every process within this many seconds.
TTL_SECONDS = 30.0

_lock = threading.Lock()
_cache: dict[int, tuple[float, dict[tuple[str, str], ReasonText]]] = {}


def _entries(model_id: int) -> dict[tuple[str, str], ReasonText]:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(model_id)
        if hit is not None and now - hit[0] < TTL_SECONDS:
            return hit[1]
    rows = ReasonText.objects.filter(model_id__in=[model_id]) | ReasonText.objects.filter(model__isnull=True)
    entries: dict[tuple[str, str], ReasonText] = {}
    # Global rows first, so a model's own row for the same feature and bin replaces them.
    for row in sorted(rows, key=lambda r: r.model_id is not None):
        entries[(row.feature, row.bin_label)] = row
    with _lock:
        _cache[model_id] = (now, entries)
    return entries


def forget() -> None:
    """Drop every process-held dictionary (after an edit, in tests)."""
    with _lock:
        _cache.clear()


def reason_codes(model_id: int) -> dict[tuple[str, str], str]:
    """The model's reason dictionary as codes by (feature, bin): what a batch scoring reads,
    handed once to workers that have no database (``training.partitions.reason_code``)."""
    return {key: entry.code for key, entry in _entries(model_id).items()}


def worded(model_id: int, reasons: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """``reasons`` (per record, from ``training.explain``) with each one's ``code`` and
    ``text``: the dictionary's entry for its feature and bin, else its feature's, else a
    sentence naming the feature and the value."""
    entries = _entries(model_id)
    english = (get_language() or "").startswith("en")
    out = []
    for row in reasons:
        worded_row = []
        for reason in row:
            entry = entries.get((reason["feature"], reason.get("bin") or "")) or entries.get(
                (reason["feature"], "")
            )
            if entry is not None:
                code, text = entry.code, entry.text_en if english else entry.text_zh
            else:
                code, text = "", _default_text(reason)
            worded_row.append({**reason, "code": code, "text": text})
        out.append(worded_row)
    return out


def _default_text(reason: dict[str, Any]) -> str:
    value = reason.get("bin") or reason.get("value")
    if value is None:
        return gettext("%(feature)s is missing") % {"feature": reason["feature"]}
    return gettext("%(feature)s: %(value)s") % {"feature": reason["feature"], "value": value}
