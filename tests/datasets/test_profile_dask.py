"""The quality profile on the dask engine: the same report as the local engine, computed by
Dask workers that each read their own columns; the engine asked for at upload or when a
version is validated again; bad engines and an unreachable scheduler."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage

from apps.core.config import config_invalidate
from apps.core.models import SystemConfig
from apps.datasets import profiling, services
from apps.datasets.ingestion import quality_thresholds
from apps.datasets.models import DatasetVersion
from apps.datasets.profiling.cluster import column_runs, profile_parquet_dask
from apps.tasks import engines
from apps.tasks.errors import RequestInvalid
from apps.tasks.models import TaskStatus
from tests.core.conftest import s3_bucket, s3_endpoint  # noqa: F401 - the S3 server's fixtures
from tests.dask_cluster import plain_dask_cluster, workers_modules

NOW = dt.datetime(2025, 6, 1)


def _set(key: str, value, value_type: str = "number") -> None:
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value, "value_type": value_type})
    config_invalidate(key)


def assert_same_report(a, b, path: str = "report") -> None:
    """Equal reports: the same keys and values, floats within 1e-9 (relative)."""
    if isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), path
    elif isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), path  # jsonb does not keep key order
        for key in a:
            assert_same_report(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_report(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


@pytest.fixture
def varied_parquet(tmp_path):
    """6,000 rows of every column kind (nulls, NaN, infinities, duplicate rows and keys), in
    row groups of 700 rows."""
    rng = np.random.default_rng(5)
    n = 5900
    ids = rng.integers(0, 5000, n)
    table = pa.table(
        {
            "id": pa.array(ids),
            "branch": pa.array(rng.choice(["north", "south", "=cmd", None], n)),
            "amount": pa.array(np.where(rng.random(n) < 0.05, np.nan, rng.lognormal(8, 1, n).round(2))),
            "ratio": pa.array(
                np.where(rng.random(n) < 0.01, np.inf, rng.normal(size=n)), mask=rng.random(n) < 0.02
            ),
            "flag": pa.array(rng.random(n) < 0.3, mask=rng.random(n) < 0.1),
            "opened": pa.array((np.datetime64("2024-01-01") + rng.integers(0, 400, n)).astype("M8[D]")),
            "seen": pa.array(
                (np.datetime64("2024-03-01T00:00") + rng.integers(0, 10**6, n).astype("m8[m]")).astype(
                    "M8[us]"
                ),
                pa.timestamp("us", tz="Asia/Shanghai"),
            ),
            "month": pa.array([f"2024-{m:02d}-01" for m in rng.integers(1, 13, n)]),
            "note": pa.array([f"free text {i}" for i in rng.integers(0, 4000, n)]),
            "price": pa.array(
                [Decimal(int(v)) / 100 for v in rng.integers(0, 10**6, n)], pa.decimal128(12, 2)
            ),
            "tags": pa.array([[int(v)] if v % 7 else None for v in rng.integers(0, 50, n)]),
            "constant": pa.array(np.ones(n, dtype=np.int64)),
            "bad": pa.array(rng.random(n) < 0.08),
        }
    )
    table = pa.concat_tables([table, table.slice(0, 100)])  # 100 duplicate rows
    path = tmp_path / "varied.parquet"
    pq.write_table(table, path, row_group_size=700)
    return path


@pytest.fixture
def dask_local(settings):
    settings.DASK_SCHEDULER_ADDRESS = ""
    settings.DASK_LOCAL_WORKERS = 2


def test_column_runs_cover_every_column_once_in_order():
    for sizes, count in (
        ([10, 1, 1, 1, 10, 5], 3),
        ([1], 4),
        ([5] * 4, 4),
        ([100, 1, 1, 1], 2),
        ([0] * 9, 4),
    ):
        runs = column_runs(sizes, count)
        assert runs[0][0] == 0 and runs[-1][1] == len(sizes)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(runs))
        assert all(start < stop for start, stop in runs)
        assert 1 <= len(runs) <= min(count, len(sizes))
    assert column_runs([5] * 4, 4) == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_dask_profile_equals_the_local_one_on_every_column_kind(db, varied_parquet, dask_local):
    options = {"label": "bad", "time_column": "month", "key_columns": ["id", "branch"], "now": NOW}
    local = profiling.profile_parquet(varied_parquet, **options)
    done = []
    with engines.dask_client() as client:
        dask = profile_parquet_dask(client, str(varied_parquet), progress=done.append, **options)
        without_keys = profile_parquet_dask(client, str(varied_parquet), now=NOW)

    assert_same_report(local, dask)
    assert_same_report(profiling.profile_parquet(varied_parquet, now=NOW), without_keys)
    assert dask["duplicateRows"]["count"] >= 100 and dask["duplicateKeys"]["count"] > 0
    assert dask["duplicateKeys"]["examples"] and dask["label"]["column"] == "bad"
    assert done == sorted(done) and done[-1] == 1.0 and len(done) == 4  # 2 workers x 2 runs each


@pytest.fixture(scope="module")
def plain_cluster(tmp_path_factory):
    with plain_dask_cluster(tmp_path_factory.mktemp("dask"), workers=2) as address:
        yield address


def test_dask_profile_on_plain_dask_worker_processes(varied_parquet, plain_cluster):
    from distributed import Client

    options = {"label": "bad", "time_column": "month", "key_columns": ["id", "branch"], "now": NOW}
    with Client(plain_cluster, set_as_default=False) as client:
        dask = profile_parquet_dask(client, str(varied_parquet), **options)
    assert_same_report(profiling.profile_parquet(varied_parquet, **options), dask)
    assert workers_modules(plain_cluster, "apps") == [(False, False)] * 2


def _quality_task_logs(version: DatasetVersion) -> list[str]:
    return list(version.task.logs.values_list("message", flat=True))


def _stored_profile(version: DatasetVersion) -> dict:
    path = default_storage.path(version.parquet.name)
    return profiling.profile_parquet(
        path,
        label=version.label_column or None,
        time_column=version.time_column or None,
        key_columns=version.key_columns or None,
        thresholds=quality_thresholds(),
    )


def test_validating_again_on_the_dask_engine_keeps_the_report(
    api, credit_version, dask_local, django_capture_on_commit_callbacks
):
    local = credit_version.quality
    url = f"/api/datasets/{credit_version.dataset_id}/versions/1/validate"
    with django_capture_on_commit_callbacks(execute=False):
        r = api.post(url, {"engine": "dask"}, format="json")
    assert r.status_code == 201, r.content
    version = services.dataset_version_validate(version_id=credit_version.pk)

    assert version.status == "validated", version.error_message
    assert version.task.parameters["engine"] == "dask"
    assert_same_report(local, version.quality)
    assert "Profiling on the dask engine: the dask engine was requested." in _quality_task_logs(version)


def test_upload_profiled_on_plain_dask_workers_by_the_auto_engine(
    upload, credit_csv, settings, plain_cluster
):
    settings.DASK_SCHEDULER_ADDRESS = plain_cluster
    _set("engine-dask-auto-rows", 1000)
    r = upload(
        credit_csv,
        "credit.csv",
        name="credit",
        labelColumn="is_bad",
        keyColumns=["application_id"],
        engine="auto",
    )
    assert r.status_code == 201, r.content
    version = DatasetVersion.objects.get(pk=r.json()["data"]["id"])

    assert version.status == "validated", version.error_message
    assert version.task.parameters["engine"] == "auto"
    logs = _quality_task_logs(version)
    assert "Profiling on the dask engine: 3,000 rows reach the automatic threshold of 1,000." in logs
    assert_same_report(_stored_profile(version), version.quality)


def test_an_unknown_engine_is_refused_at_upload_and_when_validating_again(api, upload, credit_version):
    r = upload("a,b\n1,2\n", "x.csv", name="x", engine="spark")
    assert r.status_code == 400 and "engine" in r.json()["errors"]
    url = f"/api/datasets/{credit_version.dataset_id}/versions/1/validate"
    r = api.post(url, {"engine": "spark"}, format="json")
    assert r.status_code == 400 and "engine" in r.json()["errors"]
    with pytest.raises(RequestInvalid) as caught:
        services.dataset_version_revalidate(version=credit_version, user=None, engine="spark", enqueue=False)
    assert "spark" in str(caught.value)


def test_an_unreachable_scheduler_fails_the_validation_naming_its_address(upload, settings):
    settings.DASK_SCHEDULER_ADDRESS = "tcp://127.0.0.1:1"
    settings.DASK_CONNECT_TIMEOUT = 1
    r = upload("a,b\n1,2\n3,4\n", "x.csv", name="x", engine="dask")
    version = DatasetVersion.objects.select_related("task").get(pk=r.json()["data"]["id"])

    assert version.status == "error"
    assert "tcp://127.0.0.1:1" in version.error_message and "Dask cluster" in version.error_message
    assert version.task.status == TaskStatus.FAILED and "tcp://127.0.0.1:1" in version.task.error
    assert not version.parquet


def test_an_unreachable_scheduler_profiles_locally_when_the_setting_allows(upload, settings):
    settings.DASK_SCHEDULER_ADDRESS = "tcp://127.0.0.1:1"
    settings.DASK_CONNECT_TIMEOUT = 1
    _set("engine-dask-fallback-local", True, "boolean")
    r = upload("a,b\n1,2\n3,4\n1,2\n", "x.csv", name="x", engine="dask")
    version = DatasetVersion.objects.select_related("task").get(pk=r.json()["data"]["id"])

    assert version.status == "validated", version.error_message
    assert version.quality["duplicateRows"]["count"] == 1
    warnings = list(version.task.logs.filter(level="warning").values_list("message", flat=True))
    assert len(warnings) == 1 and "tcp://127.0.0.1:1" in warnings[0] and "local engine instead" in warnings[0]


@pytest.mark.usefixtures("s3_bucket")
def test_a_version_in_a_bucket_is_profiled_by_workers_reading_the_bucket(
    upload, credit_csv, settings, plain_cluster
):
    from apps.core.files import stored_local_path

    settings.DASK_SCHEDULER_ADDRESS = plain_cluster
    r = upload(
        credit_csv,
        "credit.csv",
        name="credit",
        labelColumn="is_bad",
        keyColumns=["application_id"],
        engine="dask",
    )
    version = DatasetVersion.objects.get(pk=r.json()["data"]["id"])

    assert version.status == "validated", version.error_message
    assert engines.dask_readable(version.parquet)[0].startswith("s3://")
    with stored_local_path(version.parquet.name) as copy:
        local = profiling.profile_parquet(
            copy, label="is_bad", key_columns=["application_id"], thresholds=quality_thresholds()
        )
    assert_same_report(local, version.quality)
