"""Settings of stability monitoring (declared on start-up, editable in the admin)."""

from django.utils.translation import gettext_lazy as _

from apps.core.config import ConfigKey
from apps.core.models import ValueType

KEYS = [
    ConfigKey(
        "monitoring-granularity",
        ValueType.STRING,
        "month",
        _('The period of stability monitoring: "month" or "week".'),
    ),
    ConfigKey(
        "monitoring-min-rows",
        ValueType.NUMBER,
        200,
        _(
            "A monitoring period with fewer scored rows than this is reported as insufficient: its "
            "PSI is too unstable to read as drift."
        ),
        minimum=1,
        integer=True,
    ),
    ConfigKey(
        "monitoring-min-labelled-share",
        ValueType.NUMBER,
        0.9,
        _(
            "Realised event rate, AUC and KS of a period are shown once at least this share of its rows "
            "have an outcome: events are known sooner than non-events, so a partly labelled period "
            "looks riskier than it is. Until then only the estimated figures are shown."
        ),
        minimum=0,
        maximum=1,
    ),
    ConfigKey(
        "monitoring-max-months-on-book",
        ValueType.NUMBER,
        24,
        _("Vintage curves are drawn up to this many months on book."),
        minimum=1,
        maximum=120,
        integer=True,
    ),
]
