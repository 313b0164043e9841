"""Settings of question answering (declared on start-up, editable in the admin), and their
typed readers."""

from django.utils.translation import gettext_lazy as _

from apps.core.config import ConfigKey, config_get_local
from apps.core.models import ValueType

from .retrieval import SURE_THRESHOLD

KEYS = [
    ConfigKey(
        "qa-model",
        ValueType.STRING,
        "bank-qa",
        _("The retrieval model whose active version answers /api/qa/ask and the /qa console."),
    ),
    ConfigKey(
        "qa-cache-seconds",
        ValueType.NUMBER,
        1800,
        _("How long an answer is kept in Redis, keyed on the normalised question and the version."),
        minimum=0,
        maximum=86400,
        integer=True,
    ),
    ConfigKey(
        "qa-sure-threshold",
        ValueType.NUMBER,
        SURE_THRESHOLD,
        _(
            "Confidence (0..1) at or above which an answer is given as sure; below it the console "
            "says it is not sure and shows the candidates."
        ),
        minimum=0,
        maximum=1,
    ),
]


def qa_model_name() -> str:
    """The retrieval model whose active version answers (the ``qa-model`` setting)."""
    return str(config_get_local("qa-model") or "bank-qa").strip()


def sure_threshold() -> float:
    """The confidence at or above which an answer is sure (the ``qa-sure-threshold`` setting)."""
    return float(config_get_local("qa-sure-threshold"))
