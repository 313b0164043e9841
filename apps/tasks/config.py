"""Settings of the work queue (declared on start-up, editable in the admin)."""

from django.utils.translation import gettext_lazy as _

from apps.core.config import ConfigKey
from apps.core.models import ValueType

KEYS = [
    ConfigKey(
        "tasks-max-attempts",
        ValueType.NUMBER,
        2,
        _("A task whose worker was lost is run again until it has been started this many times."),
        minimum=1,
        integer=True,
    ),
    ConfigKey(
        "tasks-heartbeat-timeout-seconds",
        ValueType.NUMBER,
        60,
        _(
            "A running task whose worker has not reported for this long is handed back or failed "
            "by the reaper."
        ),
        minimum=5,
        maximum=86400,
        integer=True,
    ),
    ConfigKey(
        "engine-dask-auto-rows",
        ValueType.NUMBER,
        2_000_000,
        _("A task asked to run on the automatic engine uses the Dask cluster from this many rows."),
        minimum=1,
        integer=True,
    ),
    ConfigKey(
        "engine-local-max-cells",
        ValueType.NUMBER,
        0,
        _(
            "Most cells (rows x columns) a training or a batch scoring takes on the local engine; "
            "larger work must run on the Dask engine (0: no limit)."
        ),
        minimum=0,
        integer=True,
    ),
    ConfigKey(
        "engine-dask-fallback-local",
        ValueType.BOOLEAN,
        False,
        _(
            "When the Dask scheduler cannot be reached, run the task on the local engine instead "
            "of failing it."
        ),
    ),
]
