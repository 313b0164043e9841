"""OMM on an S3-compatible bucket (a real server: moto in server mode, over HTTP): datasets
uploaded, validated and profiled, a model trained, exported and scored, a batch prediction
written and downloaded, Dask reading the Parquet copy, all without a file under MEDIA_ROOT;
a missing bucket or a dead endpoint answers 503 or fails the task with a clear message."""

from __future__ import annotations

import csv
import io
import time
import zipfile

import pyarrow.parquet as pq
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage

from apps.core.files import StorageUnavailable, StoredFileWriter, stored_local_path
from apps.datasets.models import DatasetVersion
from apps.models import artifacts, training_tasks
from apps.models.models import BatchPrediction, ModelVersion
from apps.models.services import version_load
from apps.tasks import runner as task_runner
from apps.tasks.engines import dask_readable
from apps.tasks.models import Task
from tests.core.s3 import PREFIX, bucket_keys, files_under, free_port, s3_options, use_s3
from tests.core.test_settings import run_manage

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3_credit_version(s3_bucket, upload, credit_csv) -> DatasetVersion:
    response = upload(
        credit_csv,
        "credit.csv",
        name="credit",
        kind="tabular",
        labelColumn="is_bad",
        timeColumn="application_date",
        keyColumns=["application_id"],
    )
    assert response.status_code == 201, response.content
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    assert version.status == "validated", version.error_message
    return version


def _train(user, dataset_id: int) -> ModelVersion:
    task = training_tasks.training_create(
        user=user,
        request={"name": "credit", "dataset": dataset_id, "params": {"num_boost_round": 5}},
        enqueue=False,
    )
    outcome = task_runner.task_execute(task_id=task.pk, worker="w:1")
    assert outcome == "completed", Task.objects.get(pk=task.pk).error
    return ModelVersion.objects.get(task=task)


def test_an_uploaded_dataset_is_validated_and_profiled_from_the_bucket(
    s3_bucket, s3_credit_version, api, settings
):
    client, bucket = s3_bucket
    version = s3_credit_version
    assert version.row_count == 3000 and version.quality_score is not None
    keys = bucket_keys(client, bucket)
    # The original and its Parquet copy are objects under the prefix, and only there.
    assert {f"{PREFIX}/{version.file.name}", f"{PREFIX}/{version.parquet.name}"} <= keys
    assert version.parquet.name.endswith(".parquet") and not version.file.name.startswith(PREFIX)
    quality = api.get(f"/api/datasets/{version.dataset_id}/quality")
    assert quality.status_code == 200, quality.content
    assert quality.json()["score"] == pytest.approx(version.quality_score)
    assert files_under(settings.MEDIA_ROOT) == []


def test_training_export_scoring_and_batch_prediction_go_through_the_bucket(
    s3_bucket, s3_credit_version, api, admin_user, settings, django_capture_on_commit_callbacks
):
    client, bucket = s3_bucket
    version = _train(admin_user, s3_credit_version.dataset_id)
    key = f"{PREFIX}/{version.artifact.name}"
    assert key in bucket_keys(client, bucket)
    # The stored artifact is the signed, checksummed one the registry recorded.
    blob = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert artifacts.unpack(blob, key=_artifact_key()).checksum == version.checksum
    _, model = version_load(version=version)
    assert model is not None

    exported = api.get(f"/api/model-versions/{version.pk}/export", {"format": "onnx"})
    assert exported.status_code == 200, exported.content
    assert "model.onnx" in zipfile.ZipFile(io.BytesIO(exported.content)).namelist()

    promoted = api.post(f"/api/model-versions/{version.pk}/promote", {"reason": "go"}, format="json")
    assert promoted.status_code == 200, promoted.content
    with django_capture_on_commit_callbacks(execute=False):
        started = api.post(
            f"/api/models/{version.model_id}/batch-predictions",
            {"dataset": s3_credit_version.dataset_id},
            format="json",
        )
    assert started.status_code == 201, started.content
    task_id = started.json()["data"]["id"]
    assert task_runner.task_execute(task_id=task_id, worker="w:1") == "completed", Task.objects.get(
        pk=task_id
    ).error
    batch = BatchPrediction.objects.get(task_id=task_id)
    assert f"{PREFIX}/{batch.file.name}" in bucket_keys(client, bucket)
    assert batch.size == client.head_object(Bucket=bucket, Key=f"{PREFIX}/{batch.file.name}")["ContentLength"]
    download = api.get(f"/api/batch-predictions/{batch.pk}/download")
    assert download.status_code == 200 and download["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0][:2] == ["application_id", "score"]
    assert len(rows) == s3_credit_version.row_count + 1 == batch.rows + 1
    assert all(0 <= float(r[1]) <= 1 for r in rows[1:])

    # A file gone from the bucket is a 404 naming it, not a server error.
    client.delete_object(Bucket=bucket, Key=f"{PREFIX}/{batch.file.name}")
    gone = api.get(f"/api/batch-predictions/{batch.pk}/download")
    assert gone.status_code == 404 and "gone" in gone.json()["message"]
    assert files_under(settings.MEDIA_ROOT) == []


def _artifact_key() -> bytes:
    from apps.models.services.storage import artifact_key

    return artifact_key()


def test_dask_reads_the_parquet_copy_straight_from_the_bucket(s3_bucket, s3_credit_version):
    import dask.dataframe as dd

    _, bucket = s3_bucket
    url, options = dask_readable(s3_credit_version.parquet)
    assert url == f"s3://{bucket}/{PREFIX}/{s3_credit_version.parquet.name}"
    assert options["client_kwargs"]["endpoint_url"].startswith("http://127.0.0.1:")
    assert options["key"] and options["secret"]
    frame = dd.read_parquet(url, storage_options=options)
    assert frame.npartitions >= 1
    computed = frame.compute(scheduler="synchronous")
    assert len(computed) == s3_credit_version.row_count
    assert {"application_id", "is_bad"} <= set(computed.columns)
    # The same rows as the stored copy read whole (the labels in the same order).
    with stored_local_path(s3_credit_version.parquet.name) as path:
        labels = pq.read_table(path, columns=["is_bad"]).column("is_bad").to_pylist()
    assert computed["is_bad"].tolist() == labels


def test_dask_worker_processes_read_the_bucket_with_omms_options(s3_bucket, s3_credit_version, tmp_path):
    """Plain ``dask worker`` processes (no Django, no OMM settings), as on another host."""
    import dask.dataframe as dd
    from distributed import Client

    from tests.dask_cluster import plain_dask_cluster

    url, options = dask_readable(s3_credit_version.parquet)
    with stored_local_path(s3_credit_version.parquet.name) as path:
        events = sum(pq.read_table(path, columns=["is_bad"]).column("is_bad").to_pylist())
    with plain_dask_cluster(tmp_path, workers=1) as address, Client(address, set_as_default=False) as client:
        frame = dd.read_parquet(url, storage_options=options)
        assert client.compute(frame.shape[0]).result() == s3_credit_version.row_count
        assert client.compute(frame["is_bad"].sum()).result() == events > 0


def test_objects_stay_private_and_urls_never_point_at_the_bucket(s3_bucket):
    client, bucket = s3_bucket
    name = default_storage.save("datasets/private.csv", ContentFile(b"a,b\n1,2\n"))
    grants = client.get_object_acl(Bucket=bucket, Key=f"{PREFIX}/{name}")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    assert not any("AllUsers" in str(g) or "AuthenticatedUsers" in str(g) for g in grants)
    url = default_storage.url(name)
    assert url == f"/media/{name}" and "amz" not in url.lower() and bucket not in url
    # Names are never replaced: a second save of the same name gets another one.
    again = default_storage.save(name, ContentFile(b"other"))
    assert again != name and default_storage.open(name).read() == b"a,b\n1,2\n"


def test_stored_file_helpers_stream_through_a_temporary_file_on_s3(s3_bucket, settings):
    client, bucket = s3_bucket
    writer = StoredFileWriter("predictions/x.csv")
    assert writer.name == "" and not writer.in_place
    with pytest.raises(RuntimeError), writer as out:
        out.write(b"half")
        raise RuntimeError("stopped")
    assert writer.name == "" and not any(
        k.startswith(f"{PREFIX}/predictions/") for k in bucket_keys(client, bucket)
    )
    with writer as out:
        out.write(b"id,score\n1,0.5\n")
    assert writer.name == "predictions/x.csv"
    with stored_local_path(writer.name) as path:
        assert path.read_bytes() == b"id,score\n1,0.5\n"
        assert not path.is_relative_to(settings.MEDIA_ROOT)
    assert not path.exists()  # the temporary copy is gone
    writer.discard()
    assert f"{PREFIX}/predictions/x.csv" not in bucket_keys(client, bucket)
    with pytest.raises(FileNotFoundError), stored_local_path("predictions/none.csv"):
        pass


def test_on_the_file_system_the_helpers_keep_writing_in_place(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    writer = StoredFileWriter("predictions/y.csv", storage=storage)
    # The name is claimed at once, as batch scoring always did, and written in place.
    assert writer.in_place and (tmp_path / writer.name).read_bytes() == b""
    with writer as out:
        out.write(b"id\n1\n")
    with stored_local_path(writer.name, storage=storage) as path:
        assert path == tmp_path / writer.name and path.read_bytes() == b"id\n1\n"
    writer.discard()
    assert not (tmp_path / writer.name).exists()


# --------------------------------------------------------------------------- bad storage


def test_an_upload_to_a_missing_bucket_answers_503_naming_it(s3_endpoint, settings, upload, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    use_s3(settings, s3_options(s3_endpoint, "omm-no-such-bucket"))
    response = upload("x,y\n1,2\n", "small.csv", name="small", kind="tabular")
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["code"] == "storage_unavailable"
    assert "omm-no-such-bucket" in body["message"] and "NoSuchBucket" in body["message"]
    assert "Traceback" not in response.content.decode()
    assert not DatasetVersion.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == []


def test_an_unreachable_endpoint_answers_503_within_seconds(settings, upload, tmp_path):
    endpoint = f"http://127.0.0.1:{free_port()}"
    settings.MEDIA_ROOT = tmp_path / "media"
    use_s3(settings, s3_options(endpoint, "omm", connect_timeout=0.5, max_attempts=1))
    started = time.monotonic()
    response = upload("x,y\n1,2\n", "small.csv", name="small", kind="tabular")
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "storage_unavailable"
    assert endpoint in response.json()["message"]
    assert elapsed < 30  # not botocore's default minute of retries per call
    assert not DatasetVersion.objects.exists()


def test_a_validation_whose_bucket_went_away_fails_with_the_cause(s3_endpoint, s3_bucket, upload, settings):
    response = upload("x,y\n1,2\n3,4\n", "small.csv", name="small", kind="tabular", validate=False)
    assert response.status_code == 201, response.content
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    use_s3(settings, s3_options(s3_endpoint, "omm-bucket-deleted"))
    assert task_runner.task_execute(task_id=version.task_id, worker="w:1") == "failed"
    task = Task.objects.get(pk=version.task_id)
    version.refresh_from_db()
    assert version.status == "error"
    assert "omm-bucket-deleted" in task.error and "NoSuchBucket" in task.error
    assert not task.error.startswith("StorageUnavailable")
    assert version.error_message.startswith("The file storage failed:")


def test_storage_unavailable_is_an_unavailable_error():
    from apps.core.errors import Unavailable, http_status_of

    error = StorageUnavailable("down")
    assert isinstance(error, Unavailable) and http_status_of(error) == 503


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"OMM_STORAGE": "nfs"}, "OMM_STORAGE"),
        ({"OMM_STORAGE": "s3"}, "OMM_S3_BUCKET"),
        ({"OMM_STORAGE": "s3", "OMM_S3_BUCKET": "b", "OMM_S3_ACL": "public-read"}, "OMM_S3_ACL"),
        (
            {"OMM_STORAGE": "s3", "OMM_S3_BUCKET": "b", "OMM_S3_ENDPOINT_URL": "ftp://x"},
            "OMM_S3_ENDPOINT_URL",
        ),
    ],
)
def test_a_bad_storage_variable_stops_start_up_naming_it(tmp_path, env, named):
    result = run_manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and named in result.stderr.splitlines()[-1]


def test_the_s3_variables_configure_the_default_storage_without_printing_the_secret(tmp_path):
    env = {
        "OMM_STORAGE": "s3",
        "OMM_S3_BUCKET": "omm-files",
        "OMM_S3_ENDPOINT_URL": "http://minio.internal:9000",
        "OMM_S3_REGION": "cn-north-1",
        "OMM_S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "OMM_S3_SECRET_ACCESS_KEY": "s3cr3t-value-never-shown",
        "OMM_S3_PREFIX": "/omm/",
    }
    code = (
        "from django.core.files.storage import default_storage as s; "
        "print(s.__class__.__name__, s.bucket_name, s.location, s.endpoint_url, s.region_name, "
        "s.addressing_style, s.dask_url('datasets/a.parquet'))"
    )
    result = run_manage("shell", "-c", code, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "S3Storage",
        "omm-files",
        "omm",
        "http://minio.internal:9000",
        "cn-north-1",
        "path",
        "s3://omm-files/omm/datasets/a.parquet",
    ]
    assert "s3cr3t" not in result.stdout + result.stderr
