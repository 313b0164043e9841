"""Settings of the registry and of scoring (declared on start-up, editable in the admin)."""

from django.utils.translation import gettext_lazy as _

from apps.core.config import ConfigKey
from apps.core.models import ValueType

KEYS = [
    ConfigKey(
        "models-promotion-approval",
        ValueType.BOOLEAN,
        False,
        _("Maker-checker: a promotion becomes a request that a different admin approves or rejects."),
    ),
    ConfigKey(
        "models-challenger-metric",
        ValueType.STRING,
        "auto",
        _(
            "Holdout metric of the champion/challenger gate: auc, ks, accuracy, f1_macro, rmse, mae, r2 "
            "or auto (AUC for binary, macro F1 for multiclass, RMSE for regression)."
        ),
    ),
    ConfigKey(
        "models-challenger-margin",
        ValueType.NUMBER,
        0.005,
        _("A retrained challenger is promoted only when it beats the champion by at least this much."),
        minimum=0,
    ),
    ConfigKey(
        "models-predict-max-records",
        ValueType.NUMBER,
        10_000,
        _("Most records one prediction request may carry; batch-score larger sets as a task."),
        minimum=1,
        integer=True,
    ),
    ConfigKey(
        "models-predict-cache-seconds",
        ValueType.NUMBER,
        300,
        _(
            "Identical prediction requests to the same version are answered from "
            "the cache this long (0: off)."
        ),
        minimum=0,
        maximum=86400,
        integer=True,
    ),
    ConfigKey(
        "models-decision-log-sample-rate",
        ValueType.NUMBER,
        1.0,
        _(
            "Share of prediction requests whose records are kept in the decision log "
            "(1: every request; lower only to save space)."
        ),
        minimum=0,
        maximum=1,
    ),
    ConfigKey(
        "models-decision-log-retention-months",
        ValueType.NUMBER,
        24,
        _("Months the decision log keeps; older months are dropped by the daily job."),
        minimum=1,
        maximum=240,
        integer=True,
    ),
]
