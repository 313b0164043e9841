"""Where a task's work runs: ``local`` (inside the Celery worker process) or ``dask`` (the
Celery task is only a client of a Dask cluster; the Dask workers read the data as Parquet
partitions). ``auto`` picks dask above a size set in the settings.

The cluster is the one at ``settings.DASK_SCHEDULER_ADDRESS`` (environment
``DASK_SCHEDULER_ADDRESS``); when unset, a local cluster (a scheduler and worker subprocesses
on this host) is started for the task, for development and tests. A scheduler that cannot be
reached fails the task with a clear error, unless the setting ``engine-dask-fallback-local``
lets it run locally.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.config import config_get
from apps.core.errors import Unavailable

log = logging.getLogger(__name__)

LOCAL, DASK, AUTO = "local", "dask", "auto"
ENGINES = (LOCAL, DASK, AUTO)
ENGINE_CHOICES = [
    (LOCAL, _("Local (this worker)")),
    (DASK, _("Dask cluster")),
    (AUTO, _("Automatic (Dask above the size in the settings)")),
]
# Bytes per cell a local training holds at its peak: the Arrow table, the float64 matrix in
# split order and LightGBM's binned copy (measured on 1,000,000 x 50 with bench_dask_training).
LOCAL_BYTES_PER_CELL = 24


class EngineUnavailable(Unavailable):
    """The Dask scheduler cannot be reached (HTTP 503 when asked for directly)."""

    default_code = "engine_unavailable"
    default_message = _("The Dask cluster cannot be reached.")


@dataclass(frozen=True)
class EngineChoice:
    """The engine a task runs on and why (the task log says it)."""

    engine: str
    reason: str


def engine_problems(engine: Any) -> list[str]:
    """Why ``engine`` is not a valid request value (empty when valid or absent)."""
    if engine in (None, ""):
        return []
    if engine not in ENGINES:
        return [
            gettext("Unknown engine %(engine)s; choose one of %(choices)s.")
            % {"engine": repr(engine), "choices": ", ".join(ENGINES)}
        ]
    return []


def engine_choose(requested: str | None, *, rows: int, columns: int) -> EngineChoice:
    """The engine for work over ``rows`` x ``columns`` cells when ``requested`` was asked."""
    requested = requested or LOCAL
    if requested == DASK:
        return EngineChoice(DASK, gettext("the dask engine was requested"))
    if requested == AUTO:
        threshold = int(config_get("engine-dask-auto-rows"))
        if rows >= threshold:
            return EngineChoice(
                DASK,
                gettext("%(rows)s rows reach the automatic threshold of %(threshold)s")
                % {"rows": f"{rows:,}", "threshold": f"{threshold:,}"},
            )
        return EngineChoice(
            LOCAL,
            gettext("%(rows)s rows stay below the automatic threshold of %(threshold)s")
            % {"rows": f"{rows:,}", "threshold": f"{threshold:,}"},
        )
    return EngineChoice(LOCAL, gettext("the local engine was requested"))


def local_too_large(*, rows: int, columns: int) -> str | None:
    """A message naming the dask engine when ``rows`` x ``columns`` is more than the local
    engine takes (the setting ``engine-local-max-cells``; 0 means no limit), else None."""
    limit = int(config_get("engine-local-max-cells"))
    cells = rows * max(columns, 1)
    if limit <= 0 or cells <= limit:
        return None
    return gettext(
        "%(rows)s rows x %(columns)s columns (%(cells)s cells, about %(gib)s GiB in memory) are more "
        "than the local engine takes (%(limit)s cells): run it with the dask engine."
    ) % {
        "rows": f"{rows:,}",
        "columns": columns,
        "cells": f"{cells:,}",
        "gib": f"{cells * LOCAL_BYTES_PER_CELL / 2**30:.1f}",
        "limit": f"{limit:,}",
    }


def scheduler_address() -> str:
    """The configured scheduler ("" when a local cluster is started per task)."""
    return getattr(settings, "DASK_SCHEDULER_ADDRESS", "") or ""


def fallback_allowed() -> bool:
    return bool(config_get("engine-dask-fallback-local"))


@contextlib.contextmanager
def dask_client() -> Iterator[Any]:
    """A ``distributed.Client`` of the configured cluster, closed on exit.

    Raises EngineUnavailable (with the address and the cause) when the scheduler cannot be
    reached within ``settings.DASK_CONNECT_TIMEOUT`` seconds. Without an address, a local
    cluster of ``settings.DASK_LOCAL_WORKERS`` single-threaded worker subprocesses lives for
    the duration of the block.
    """
    from distributed import Client
    from distributed.deploy.subprocess import SubprocessCluster

    address = scheduler_address()
    timeout = getattr(settings, "DASK_CONNECT_TIMEOUT", 10)
    cluster = None
    try:
        if address:
            client = Client(address, timeout=timeout, set_as_default=False)
        else:
            # Worker subprocesses, not multiprocessing children: a Celery prefork child is
            # daemonic and may not fork those.
            cluster = SubprocessCluster(
                n_workers=getattr(settings, "DASK_LOCAL_WORKERS", 2),
                threads_per_worker=1,
                dashboard_address=None,
                silence_logs=logging.WARNING,
            )
            client = Client(cluster, set_as_default=False)
            client.wait_for_workers(getattr(settings, "DASK_LOCAL_WORKERS", 2), timeout=60)
    except (OSError, TimeoutError, RuntimeError) as exc:
        if cluster is not None:
            cluster.close()
        raise EngineUnavailable(
            gettext("The Dask scheduler at %(address)s cannot be reached: %(cause)s")
            % {"address": address or gettext("a local cluster"), "cause": exc or type(exc).__name__}
        ) from None
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


def dask_readable(file_field: Any) -> tuple[str, dict[str, Any]]:
    """Where Dask workers on any host read a stored file: a path on the shared file system
    (the default storage) or an ``s3://`` URL, with the fsspec ``storage_options``."""
    storage = getattr(file_field, "storage", default_storage)
    s3_url = getattr(storage, "dask_url", None)  # S3 storage (apps.core.storage) knows its URL
    if s3_url is not None:
        return s3_url(file_field.name), storage.dask_storage_options()
    return storage.path(file_field.name), {}
