"""Demo alert rules, created before the demo's monitored history so its drifting month opens
an alert (running the demo again keeps what is there)."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext

from .models import AlertRule, Comparison, Severity

# name, metric, comparison, threshold, window, severity
DEMO_RULES = [
    ("Score PSI drift", "score_psi", Comparison.GTE, 0.25, 1, Severity.WARNING),
    ("Score PSI drift, two periods", "score_psi", Comparison.GTE, 0.25, 2, Severity.CRITICAL),
    ("Feature drift (largest CSI)", "csi_max", Comparison.GTE, 0.25, 1, Severity.WARNING),
    ("AUC below 0.65", "auc", Comparison.LT, 0.65, 1, Severity.CRITICAL),
    ("Estimated AUC below 0.65", "estimated_auc", Comparison.LT, 0.65, 1, Severity.WARNING),
]


def load_demo_alerts(*, write: Callable[[str], object] = print) -> int:
    """Create the demo alert rules (for every model) that do not exist yet; returns how many."""
    made = 0
    for name, metric, comparison, threshold, window, severity in DEMO_RULES:
        _rule, created = AlertRule.objects.get_or_create(
            name=name,
            defaults={
                "metric": metric,
                "comparison": comparison,
                "threshold": threshold,
                "window": window,
                "severity": severity,
            },
        )
        made += created
    write(gettext("  alert rules: %(count)s created") % {"count": made})
    return made
