"""Settings of alerts and their delivery (declared on start-up, editable in the admin)."""

from django.utils.translation import gettext_lazy as _

from apps.core.config import ConfigKey
from apps.core.models import ValueType

KEYS = [
    ConfigKey(
        "alerts-email-recipients",
        ValueType.STRING,
        "",
        _("Addresses told of every alert that opens, comma-separated, besides each rule's own recipients."),
    ),
    ConfigKey(
        "alerts-webhook-timeout",
        ValueType.NUMBER,
        5,
        _("Seconds a webhook endpoint has to answer one delivery attempt before it counts as failed."),
        minimum=0.05,
        maximum=60,
    ),
    ConfigKey(
        "alerts-webhook-max-attempts",
        ValueType.NUMBER,
        5,
        _("Attempts at one webhook delivery, or one alert mail, before it is given up as failed."),
        minimum=1,
        maximum=20,
        integer=True,
    ),
    ConfigKey(
        "alerts-webhook-backoff",
        ValueType.NUMBER,
        30,
        _(
            "Seconds before the first retry of a failed webhook delivery or alert mail; each later "
            "retry waits twice as long."
        ),
        minimum=0,
        maximum=86400,
    ),
]
