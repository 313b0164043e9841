"""``backup`` and ``restore`` when the files live in an S3 bucket (a real server: moto in server
mode): the archive holds the bucket's objects, a restore into a new bucket gives the same
predictions, and a failed restore puts back the objects it replaced."""

from __future__ import annotations

import json
import tarfile
from io import StringIO
from pathlib import Path, PurePosixPath

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from apps.core.backups import _StoredPlacement
from apps.datasets.demo_data import credit_frame
from apps.models import training_tasks
from apps.models.models import ModelVersion
from apps.tasks import runner as task_runner
from tests.conftest import _clear_process_caches
from tests.core.s3 import PREFIX, bucket_keys, files_under, s3_client, s3_options, use_s3
from tests.core.test_backup import _counts, _empty_database, _record, _scores

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_content_types():
    yield
    ContentType.objects.clear_cache()  # ids cached while the database was flushed die with the test


def _new_bucket(endpoint: str, name: str) -> str:
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def test_backup_of_a_bucket_restores_into_a_new_bucket_with_the_same_predictions(
    s3_endpoint, s3_bucket, api, admin_user, credit_version, settings, tmp_path
):
    client, bucket = s3_bucket
    task = training_tasks.training_create(
        user=admin_user,
        request={"name": "credit", "dataset": credit_version.dataset_id, "params": {"num_boost_round": 5}},
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    version = ModelVersion.objects.get(task=task)
    assert (
        api.post(f"/api/model-versions/{version.pk}/promote", {"reason": "go"}, format="json").status_code
        == 200
    )
    frame = credit_frame(3000, seed=11)
    records = [_record(version, frame, i) for i in range(25)]
    before = _scores(api, version, records)["scores"]
    rows = _counts()
    stored = {k.removeprefix(f"{PREFIX}/") for k in bucket_keys(client, bucket)}
    assert {version.artifact.name, credit_version.file.name, credit_version.parquet.name} <= stored

    call_command("backup", str(tmp_path / "omm.tar.gz"), stdout=StringIO())
    with tarfile.open(tmp_path / "omm.tar.gz", "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    manifest = json.loads(members.pop("manifest.json"))
    assert {n.removeprefix("media/") for n in members if n.startswith("media/")} == stored
    artifact = client.get_object(Bucket=bucket, Key=f"{PREFIX}/{version.artifact.name}")["Body"].read()
    assert members[f"media/{version.artifact.name}"] == artifact
    assert manifest["rows"] == rows

    _empty_database()
    use_s3(settings, s3_options(s3_endpoint, _new_bucket(s3_endpoint, f"{bucket}-restored")))
    _clear_process_caches()
    cache.clear()
    out = StringIO()
    call_command("restore", str(tmp_path / "omm.tar.gz"), stdout=out, stderr=out)
    assert f"{len(stored)} files" in out.getvalue()
    assert _counts() == rows
    restored = client.get_object(Bucket=f"{bucket}-restored", Key=f"{PREFIX}/{version.artifact.name}")
    assert restored["Body"].read() == artifact
    after = _scores(api, version, records)
    assert after["cached"] is False and after["scores"] == before
    assert files_under(settings.MEDIA_ROOT) == []

    # The files are in the bucket now: a restore into an empty database refuses to replace
    # them unless forced.
    _empty_database()
    with pytest.raises(CommandError, match="exist already"):
        call_command("restore", str(tmp_path / "omm.tar.gz"), stdout=StringIO(), stderr=StringIO())
    call_command("restore", str(tmp_path / "omm.tar.gz"), "--force", stdout=StringIO(), stderr=StringIO())
    assert _counts() == rows
    assert {k.removeprefix(f"{PREFIX}/") for k in bucket_keys(client, f"{bucket}-restored")} == stored


def test_a_failed_restore_puts_back_the_objects_it_replaced(s3_bucket, tmp_path):
    client, bucket = s3_bucket
    kept = default_storage.save("models/a.omm", ContentFile(b"the original"))
    staged = tmp_path / "staged"
    (staged / "models").mkdir(parents=True)
    (staged / "models" / "a.omm").write_bytes(b"from the backup")
    (staged / "models" / "b.omm").write_bytes(b"new")
    placement = _StoredPlacement(staged, tmp_path / "aside")
    placement.place(PurePosixPath("models/a.omm"))
    placement.place(PurePosixPath("models/b.omm"))
    assert default_storage.open(kept).read() == b"from the backup"
    assert default_storage.exists("models/b.omm")

    placement.undo()
    assert default_storage.open(kept).read() == b"the original"
    assert bucket_keys(client, bucket) == {f"{PREFIX}/models/a.omm"}
    assert Path(tmp_path / "aside" / "models" / "a.omm").read_bytes() == b"the original"
