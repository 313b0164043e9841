"""Batch prediction on the dask engine: each Parquet partition scored on a Dask worker, the
CSV written in dataset order, the same file as the local engine; bad engines and an
unreachable scheduler."""

from __future__ import annotations

import csv
import io

import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage

from apps.core.config import config_invalidate
from apps.core.models import SystemConfig
from apps.models import batch, training_tasks
from apps.models.models import BatchPrediction, ModelVersion, ReasonText
from apps.tasks import runner as task_runner
from apps.tasks.models import Task, TaskStatus
from tests.core.conftest import s3_bucket, s3_endpoint  # noqa: F401 - the S3 server's fixtures
from tests.dask_cluster import plain_dask_cluster, workers_modules

pytestmark = pytest.mark.django_db

ROW_GROUP = 400  # the 3,000-row credit table becomes 8 row groups, so 8 Dask partitions
SCORE_TOLERANCE = 1e-9


def _set(key: str, value, value_type: str = "number") -> None:
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value, "value_type": value_type})
    config_invalidate(key)


def _train(user, dataset_id: int, **request) -> ModelVersion:
    task = training_tasks.training_create(
        user=user,
        request={"name": "credit", "dataset": dataset_id, "seed": 3, **request},
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed", task.error
    return ModelVersion.objects.get(task=task)


@pytest.fixture
def partitioned(credit_version):
    """The credit version with its Parquet copy rewritten in small row groups (same rows)."""
    path = default_storage.path(credit_version.parquet.name)
    pq.write_table(pq.read_table(path), path, row_group_size=ROW_GROUP, compression="zstd")
    assert pq.ParquetFile(path).metadata.num_row_groups == 8
    return credit_version


@pytest.fixture
def lightgbm_version(admin_user, partitioned):
    version = _train(admin_user, partitioned.dataset_id, params={"num_boost_round": 20})
    features = version.feature_schema["features"]
    # One code for the model, one for every model: both kinds of rows reach the workers.
    ReasonText.objects.create(model=version.model, feature=features[0], code="R01", text_en="a", text_zh="a")
    ReasonText.objects.create(feature=features[1], code="G02", text_en="b", text_zh="b")
    return version


@pytest.fixture
def dask_local(settings):
    settings.DASK_SCHEDULER_ADDRESS = ""
    settings.DASK_LOCAL_WORKERS = 2


@pytest.fixture(scope="module")
def plain_cluster(tmp_path_factory):
    with plain_dask_cluster(tmp_path_factory.mktemp("dask"), workers=2) as address:
        yield address


def _score(user, version: ModelVersion, dataset_version, engine: str | None) -> Task:
    request = {"model_version": version.pk, "dataset": dataset_version.dataset_id}
    if engine is not None:
        request["engine"] = engine
    task = batch.batch_create(user=user, request=request, enqueue=False)
    task_runner.task_execute(task_id=task.pk, worker="w:1")
    task.refresh_from_db()
    return task


def _rows(task: Task) -> tuple[list[str], list[dict]]:
    assert task.status == TaskStatus.COMPLETED, task.error
    prediction = BatchPrediction.objects.get(task=task)
    with prediction.file.open("rb") as fh:
        reader = csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8"))
        return list(reader.fieldnames or []), list(reader)


def _assert_same_csv(local: Task, dask: Task) -> list[dict]:
    """Same header, same rows in the same order: keys and reasons equal, scores within 1e-9."""
    header, rows = _rows(local)
    dask_header, dask_rows = _rows(dask)
    assert dask_header == header
    assert len(dask_rows) == len(rows) == 3000
    scores = [h for h in header if h.startswith(("score", "prediction", "points"))]
    assert scores
    for i, (a, b) in enumerate(zip(rows, dask_rows, strict=True)):
        for name in header:
            if name in scores:
                assert abs(float(a[name]) - float(b[name])) <= SCORE_TOLERANCE, (i, name)
            else:
                assert a[name] == b[name], (i, name)
    return rows


def _messages(task: Task) -> list[str]:
    return list(task.logs.values_list("message", flat=True))


def test_dask_batch_writes_the_local_csv_row_by_row(admin_user, lightgbm_version, partitioned, dask_local):
    local = _score(admin_user, lightgbm_version, partitioned, None)
    dask = _score(admin_user, lightgbm_version, partitioned, "dask")

    rows = _assert_same_csv(local, dask)
    files = [BatchPrediction.objects.get(task=t).file for t in (local, dask)]
    assert files[0].read() == files[1].read()  # the very same bytes, in fact
    header = list(rows[0])
    assert header[:2] == ["application_id", "score"] and "reason_4_code" in header
    codes = {r[f"reason_{i}_code"] for r in rows for i in range(1, 5)}
    assert {"R01", "G02"} <= codes  # the dictionary reached the workers
    stored = pq.read_table(default_storage.path(partitioned.parquet.name), columns=["application_id"])
    assert [r["application_id"] for r in rows] == stored.column(0).to_pylist()  # dataset order
    assert any("dask engine: the dask engine was requested" in m for m in _messages(dask))
    assert any("local engine: the local engine was requested" in m for m in _messages(local))
    assert dask.parameters["engine"] == "dask" and local.parameters["engine"] == "local"
    assert batch._request_of(dask)["engine"] == "dask"  # a re-run scores on the same engine


def test_auto_engine_scores_a_logistic_regression_on_dask_above_the_threshold(
    admin_user, partitioned, plain_cluster, settings
):
    settings.DASK_SCHEDULER_ADDRESS = plain_cluster
    version = _train(admin_user, partitioned.dataset_id, algorithm="logistic_regression")
    _set("engine-dask-auto-rows", 1000)
    dask = _score(admin_user, version, partitioned, "auto")
    _set("engine-dask-auto-rows", 10_000)
    local = _score(admin_user, version, partitioned, "auto")

    rows = _assert_same_csv(local, dask)
    assert any(r["reason_1"] for r in rows)  # the skops model and its reasons loaded on the workers
    assert any("dask engine: 3,000 rows reach the automatic threshold of 1,000" in m for m in _messages(dask))
    assert any("local engine: 3,000 rows stay below the automatic threshold" in m for m in _messages(local))


def test_dask_batch_on_plain_dask_worker_processes(
    admin_user, lightgbm_version, partitioned, plain_cluster, settings
):
    settings.DASK_SCHEDULER_ADDRESS = plain_cluster
    local = _score(admin_user, lightgbm_version, partitioned, "local")
    dask = _score(admin_user, lightgbm_version, partitioned, "dask")

    _assert_same_csv(local, dask)
    # The workers scored without Django, and could not have imported OMM's code.
    assert workers_modules(plain_cluster, "django") == [(False, True)] * 2
    assert workers_modules(plain_cluster, "apps") == [(False, False)] * 2


def test_batch_request_with_an_unknown_engine_is_refused(api, lightgbm_version, partitioned):
    r = api.post(
        f"/api/models/{lightgbm_version.model_id}/batch-predictions",
        {"dataset": partitioned.dataset_id, "version": lightgbm_version.version, "engine": "spark"},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert "engine" in r.json()["errors"]
    with pytest.raises(batch.RequestInvalid) as caught:
        batch._check(
            {"model_version": lightgbm_version.pk, "dataset": partitioned.dataset_id, "engine": "spark"}
        )
    assert "spark" in caught.value.errors["engine"][0]


def test_local_engine_refuses_more_cells_than_the_setting_naming_the_dask_engine(
    api, lightgbm_version, partitioned, django_capture_on_commit_callbacks
):
    _set("engine-local-max-cells", 1000)
    url = f"/api/models/{lightgbm_version.model_id}/batch-predictions"
    body = {"dataset": partitioned.dataset_id, "version": lightgbm_version.version}
    for engine in (None, "local"):
        r = api.post(url, body if engine is None else {**body, "engine": engine}, format="json")
        assert r.status_code == 400, r.content
        (message,) = r.json()["errors"]["engine"]
        assert "3,000 rows" in message and "dask engine" in message
    with django_capture_on_commit_callbacks(execute=False):
        r = api.post(url, {**body, "engine": "dask"}, format="json")
    assert r.status_code == 201, r.content
    assert Task.objects.get(pk=r.json()["data"]["id"]).parameters["engine"] == "dask"


def test_an_unreachable_scheduler_fails_the_task_naming_its_address(
    admin_user, lightgbm_version, partitioned, settings
):
    settings.DASK_SCHEDULER_ADDRESS = "tcp://127.0.0.1:1"
    settings.DASK_CONNECT_TIMEOUT = 1
    before = (
        set(default_storage.listdir("predictions")[1]) if default_storage.exists("predictions") else set()
    )
    task = _score(admin_user, lightgbm_version, partitioned, "dask")

    assert task.status == TaskStatus.FAILED
    assert "tcp://127.0.0.1:1" in task.error and "cannot be reached" in task.error
    assert not BatchPrediction.objects.filter(task=task).exists()
    after = set(default_storage.listdir("predictions")[1]) if default_storage.exists("predictions") else set()
    assert after == before  # no CSV left behind


def test_an_unreachable_scheduler_runs_locally_when_the_setting_allows(
    admin_user, lightgbm_version, partitioned, settings
):
    settings.DASK_SCHEDULER_ADDRESS = "tcp://127.0.0.1:1"
    settings.DASK_CONNECT_TIMEOUT = 1
    _set("engine-dask-fallback-local", True, "boolean")
    fallen_back = _score(admin_user, lightgbm_version, partitioned, "dask")
    local = _score(admin_user, lightgbm_version, partitioned, "local")

    _assert_same_csv(local, fallen_back)
    warnings = list(fallen_back.logs.filter(level="warning").values_list("message", flat=True))
    assert len(warnings) == 1 and "tcp://127.0.0.1:1" in warnings[0] and "local engine instead" in warnings[0]


@pytest.mark.parametrize("algorithm", ["lightgbm", "logistic_regression"])
def test_batch_reasons_are_the_explainers_row_by_row(algorithm):
    """The batch's reasons, taken for all rows at once, are ``explain``'s: ties (an unused
    feature contributes 0), rows with fewer than four reasons, formula-looking names."""
    import numpy as np
    import pyarrow as pa

    from apps.core.csvsafe import cell
    from apps.models import artifacts, training
    from apps.models.training import partitions
    from apps.models.training.explain import explain, explainer_for

    rng = np.random.default_rng(4)
    n = 4000
    table = pa.table(
        {
            "=risk": rng.normal(size=n),
            "b": rng.integers(0, 3, n).astype(float),
            "c": rng.choice(["x", "y", "z"], n),
            "unused": np.ones(n),
            "y": (rng.random(n) < 0.3).astype(int),
        }
    )
    spec = training.TrainingSpec(
        algorithm=algorithm, objective="binary", label="y", features=["=risk", "b", "c", "unused"]
    )
    result = training.train(spec, table)
    model = partitions.model_load(result.model_format, result.model_bytes, artifacts.default_trusted_types())
    X = training.feature_matrix(table, result.meta)
    explainer = explainer_for(result.model_format, model, result.meta)
    codes = {("b", ""): "B1", ("=risk", ""): "=R"}

    columns = partitions.explained_columns(result.model_format, model, X, explainer, codes)
    rows = explain(explainer, X, k=4)
    assert any(len(r) < 4 for r in rows) and any(len(r) >= 2 for r in rows)
    for i in range(4):
        expected = [cell(r[i]["feature"]) if i < len(r) else "" for r in rows]
        assert list(columns[f"reason_{i + 1}"]) == expected
        expected_codes = [cell(partitions.reason_code(codes, r[i])) if i < len(r) else "" for r in rows]
        assert list(columns[f"reason_{i + 1}_code"]) == expected_codes
    assert "'=risk" in set(columns["reason_1"]) and "'=R" in set(columns["reason_1_code"])


def test_batch_page_asks_for_the_engine_and_says_when_local_is_too_small(
    client, admin_user, lightgbm_version, partitioned, django_capture_on_commit_callbacks
):
    _set("engine-local-max-cells", 1000)
    client.force_login(admin_user)
    url = f"/models/{lightgbm_version.model_id}/batch/"
    form = {
        "version": str(lightgbm_version.version),
        "dataset": str(partitioned.dataset_id),
        "priority": "medium",
    }
    assert 'name="engine"' in client.get(f"/models/{lightgbm_version.model_id}/").content.decode()
    refused = client.post(url, form)
    assert refused.status_code == 400 and "run it with the dask engine" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        queued = client.post(url, {**form, "engine": "dask"})
    task = Task.objects.get(type="prediction")
    assert queued.status_code == 302 and task.parameters["engine"] == "dask"


@pytest.mark.usefixtures("s3_bucket")
def test_a_dask_batch_reads_its_data_from_the_bucket_and_writes_its_csv_there(
    upload, credit_csv, admin_user, settings, plain_cluster
):
    from apps.datasets.models import DatasetVersion
    from apps.tasks.engines import dask_readable

    settings.DASK_SCHEDULER_ADDRESS = plain_cluster
    r = upload(credit_csv, "credit.csv", name="credit", labelColumn="is_bad", keyColumns=["application_id"])
    dataset_version = DatasetVersion.objects.get(pk=r.json()["data"]["id"])
    version = _train(admin_user, dataset_version.dataset_id, params={"num_boost_round": 5})
    local = _score(admin_user, version, dataset_version, "local")
    dask = _score(admin_user, version, dataset_version, "dask")

    _assert_same_csv(local, dask)
    assert dask_readable(dataset_version.parquet)[0].startswith("s3://")
    assert not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.rglob("*.csv"))
