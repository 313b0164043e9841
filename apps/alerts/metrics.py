"""The catalogue of monitoring figures an alert rule may watch.

The keys are the ones the stability-by-period monitor puts in each period's figures (see
``services.rules_evaluate``); a rule on any other name is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Metric:
    name: str
    label: str | Promise
    description: str | Promise


CATALOGUE: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "score_psi",
            _("Score PSI"),
            _("Population stability index of the score in the period against the training baseline."),
        ),
        Metric(
            "csi_max",
            _("Largest CSI"),
            _("The largest characteristic stability index of any feature in the period."),
        ),
        Metric("auc", _("AUC"), _("Area under the ROC curve, once the period's outcomes are known.")),
        Metric("ks", _("KS"), _("Kolmogorov-Smirnov statistic, once the period's outcomes are known.")),
        Metric("gini", _("Gini"), _("Gini coefficient (2 AUC - 1), once the period's outcomes are known.")),
        Metric("event_rate", _("Event rate"), _("Share of bad outcomes in the period, once they are known.")),
        Metric(
            "estimated_auc",
            _("Estimated AUC"),
            _("AUC estimated from calibrated scores before the outcomes arrive."),
        ),
        Metric(
            "estimated_event_rate",
            _("Estimated event rate"),
            _("Event rate estimated from calibrated scores before the outcomes arrive."),
        ),
        Metric("rows", _("Rows"), _("Number of scored rows in the period.")),
    )
}


def metric_choices() -> list[tuple[str, str | Promise]]:
    return [(m.name, m.label) for m in CATALOGUE.values()]


def metric_label(name: str) -> str:
    metric = CATALOGUE.get(name)
    return str(metric.label) if metric else name
