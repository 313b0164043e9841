"""The quality profile of a table at ingestion, on the engine its request asked for.

``local``: ``profiling.profile_parquet`` here, over the converted file. ``dask``: the Dask
workers read the stored Parquet copy, each its own columns
(``profiling.cluster.profile_parquet_dask``); the report is the same. ``auto`` picks dask
from the ``engine-dask-auto-rows`` setting. The task log says which engine ran and why.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext

from apps.tasks import engines
from apps.tasks.models import LogLevel
from apps.tasks.runner import Run

from . import profiling
from .models import DatasetVersion
from .profiling.cluster import profile_parquet_dask


def table_profile(
    run: Run,
    *,
    version: DatasetVersion,
    parquet_path: Path,
    stored: str,
    rows: int,
    columns: int,
    thresholds: profiling.Thresholds,
    progress: Callable[[float], None],
) -> dict:
    """The version's quality report. ``parquet_path`` is the converted file on this host,
    ``stored`` its copy in storage (what Dask workers read); ``progress`` gets 0..1 and may
    raise to cancel. Raises EngineUnavailable when the cluster cannot be reached and the
    ``engine-dask-fallback-local`` setting does not allow the local engine instead."""
    options = {
        "label": version.label_column or None,
        "time_column": version.time_column or None,
        "key_columns": version.key_columns or None,
        "thresholds": thresholds,
    }
    choice = engines.engine_choose(run.task.parameters.get("engine"), rows=rows, columns=columns)
    run.log(
        gettext("Profiling on the %(engine)s engine: %(reason)s.")
        % {"engine": choice.engine, "reason": choice.reason}
    )
    if choice.engine == engines.DASK:
        try:
            with engines.dask_client() as client:
                copy = FieldFile(version, DatasetVersion._meta.get_field("parquet"), stored)
                path, storage_options = engines.dask_readable(copy)
                return profile_parquet_dask(
                    client, path, storage_options=storage_options or None, progress=progress, **options
                )
        except engines.EngineUnavailable as exc:
            if not engines.fallback_allowed():
                raise
            run.log(
                gettext(
                    "%(cause)s Profiling on the local engine instead (setting engine-dask-fallback-local)."
                )
                % {"cause": exc},
                LogLevel.WARNING,
            )
    return profiling.profile_parquet(parquet_path, **options)
