"""Settings of evaluations and drift monitoring (declared on start-up, editable in the admin)."""

from django.utils.translation import gettext_lazy as _

from apps.core.config import ConfigKey
from apps.core.models import ValueType

KEYS = [
    ConfigKey(
        "evaluations-monitor-enabled",
        ValueType.BOOLEAN,
        True,
        _("The daily monitor evaluates every active classification and regression version."),
    ),
    ConfigKey(
        "evaluations-monitor-datasets",
        ValueType.JSON,
        {},
        _(
            'Which dataset the monitor evaluates a model on, by model name, e.g. {"credit-lgbm": 12} '
            "(a dataset id); other models use their training dataset. The newest validated version "
            "is evaluated."
        ),
    ),
    ConfigKey(
        "evaluations-psi-alert",
        ValueType.NUMBER,
        0.25,
        _(
            "A monitoring evaluation whose score PSI (training vs evaluated data) reaches this raises "
            "a drift alert and marks the version for review."
        ),
        minimum=0,
    ),
    ConfigKey(
        "evaluations-auc-drop-alert",
        ValueType.NUMBER,
        0.05,
        _(
            "A monitoring evaluation whose AUC is below the version's training (validation) AUC by at "
            "least this much raises an alert and marks the version for review."
        ),
        minimum=0,
        maximum=1,
    ),
    ConfigKey(
        "evaluations-rmse-rise-alert",
        ValueType.NUMBER,
        0.2,
        _(
            "A monitoring evaluation of a regression whose RMSE exceeds the version's training RMSE by "
            "at least this share (0.2 = 20 %) raises an alert and marks the version for review."
        ),
        minimum=0,
    ),
]
