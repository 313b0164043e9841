"""Champion/challenger: whether a retrained version beats the active one on the same
holdout, and what becomes of it (promoted, a promotion request, or kept registered)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from apps.core.config import config_get

from ..models import EventAction, ModelVersion
from .approvals import approval_required, promotion_request
from .lifecycle import event_record, version_activate

LOWER_IS_BETTER = frozenset({"rmse", "mae", "logloss"})
AUTO_METRIC = {"binary": "auc", "multiclass": "f1_macro", "regression": "rmse"}


def gate_metric(*, objective: str) -> str:
    configured = str(config_get("models-challenger-metric") or "auto")
    return AUTO_METRIC.get(objective, "auc") if configured == "auto" else configured


def gate_compare(*, objective: str, challenger: dict, champion: dict) -> dict[str, Any]:
    """Whether the challenger beats the champion by the configured margin on the holdout metric."""
    metric = gate_metric(objective=objective)
    margin = float(config_get("models-challenger-margin"))
    a, b = challenger.get(metric), champion.get(metric)
    if a is None or b is None:
        why = gettext("%(metric)s is not available") % {"metric": metric}
        return {"metric": metric, "margin": margin, "promote": False, "why": why}
    gain = (b - a) if metric in LOWER_IS_BETTER else (a - b)
    return {
        "metric": metric,
        "margin": margin,
        "challenger": a,
        "champion": b,
        "gain": gain,
        "promote": gain >= margin,
    }


def _figures(details: dict[str, Any], champion: ModelVersion) -> dict[str, Any]:
    """The gate's figures as its summaries show them (4 decimals)."""
    return {
        "metric": details["metric"],
        "challenger": f"{details['challenger']:.4f}",
        "champion": f"{details['champion']:.4f}",
        "gain": f"{details['gain']:.4f}",
        "margin": details["margin"],
        "version": champion.version,
    }


def gate_decide(*, version: ModelVersion, champion: ModelVersion, details: dict[str, Any], user) -> str:
    """Apply a champion/challenger decision to a freshly registered version; the trail keeps it.

    Returns ``promoted``, ``requested`` (maker-checker is on) or ``kept``.
    """
    details = {**details, "championVersion": champion.version}
    if details.get("promote"):
        summary = gettext(
            "Challenger %(metric)s %(challenger)s beats champion v%(version)s (%(champion)s) "
            "by %(gain)s >= margin %(margin)s."
        ) % _figures(details, champion)
        if approval_required() and user is not None:
            promotion_request(version=version, user=user, reason=summary)
            event_record(
                version=version,
                action=EventAction.GATE,
                from_status=version.status,
                user=user,
                reason=gettext("%(summary)s Waiting for approval.") % {"summary": summary},
                details=details,
            )
            return "requested"
        version_activate(version=version, user=user, reason=summary, action=EventAction.GATE, details=details)
        return "promoted"
    if "gain" in details:
        summary = gettext(
            "Kept registered: %(metric)s %(challenger)s vs champion v%(version)s %(champion)s "
            "(gain %(gain)s < margin %(margin)s)."
        ) % _figures(details, champion)
    else:
        summary = gettext("Kept registered: not comparable with champion v%(version)s (%(why)s).") % {
            "version": champion.version,
            "why": details.get("why"),
        }
    event_record(
        version=version,
        action=EventAction.GATE,
        from_status=version.status,
        user=user,
        reason=summary,
        details=details,
    )
    return "kept"
