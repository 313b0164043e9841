"""Stored texts shown in the reader's language.

Notes, importance notes and drift alerts are written once (by a worker, or by the pure
``metrics`` and ``importance`` modules that import no Django) and read for years: each
keeps its English ``message`` and the marked ``template`` with its ``params``, and is
translated here when a page, an export or the API shows it. Rows written before the
templates were kept show their English message.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from .constants import metric_label

# Params that are themselves words to translate: a refusal's reason (a marked message of
# ``metrics``), a figure's name (``auc``).
_PARAM_TEXT = {"reason": gettext, "metric": metric_label}


def localized(template: str | None, params: dict[str, Any] | None, fallback: str | None) -> str | None:
    """``gettext(template) % params``; ``fallback`` when there is no template."""
    if not template:
        return fallback
    params = {
        k: _PARAM_TEXT[k](v) if k in _PARAM_TEXT and isinstance(v, str) else v
        for k, v in (params or {}).items()
    }
    text = gettext(template)
    return text % params if params else text


def note(entry: dict[str, Any]) -> dict[str, Any]:
    """A stored note (``code``, ``message``) with its message in the reader's language."""
    return {
        "code": entry.get("code"),
        "message": localized(entry.get("template"), entry.get("params"), entry.get("message")),
    }


def alert(entry: dict[str, Any]) -> dict[str, Any]:
    """A stored drift alert as the API and pages show it: its figures, and its message in
    the reader's language (the template and params stay in the database)."""
    shown = {k: v for k, v in entry.items() if k not in ("template", "params")}
    shown["message"] = localized(entry.get("template"), entry.get("params"), entry.get("message"))
    return shown


def importance(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """An importance (or permutation) result with its ``note`` in the reader's language."""
    if entry is None:
        return None
    shown = {k: v for k, v in entry.items() if k not in ("note_template", "note_params")}
    shown["note"] = localized(entry.get("note_template"), entry.get("note_params"), entry.get("note"))
    return shown
