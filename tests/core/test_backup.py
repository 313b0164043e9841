"""``manage.py backup`` and ``restore``: the database, media files and model artifacts in one
checked archive; restored into an empty database and fresh data folders, the platform gives
the same predictions; a tampered or unsafe archive is refused with nothing written."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection

from apps.core.backup_archive import member_path
from apps.core.backups import backed_up_models
from apps.core.config import config_get
from apps.core.errors import Invalid
from apps.core.models import SystemConfig
from apps.models import training_tasks
from apps.models.models import ModelVersion
from apps.tasks import runner as task_runner
from apps.users.models import User
from tests.conftest import _clear_process_caches

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    """Media and data folders of this test (the restore gets fresh ones)."""
    settings.MEDIA_ROOT = tmp_path / "media-a"
    settings.DATA_DIR = tmp_path / "data-a"
    settings.DATA_DIR.mkdir()
    (tmp_path / "backups").mkdir()
    yield tmp_path
    # The ids of content types cached while the database was flushed and restored die with
    # the test's transaction: later tests must not be handed them.
    ContentType.objects.clear_cache()


def _fresh_folders(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media-b"
    settings.DATA_DIR = tmp_path / "data-b"
    settings.DATA_DIR.mkdir()


def _empty_database() -> None:
    """An empty database, as ``migrate`` leaves it: content types, permissions, role groups,
    default settings."""
    if connection.vendor == "postgresql":
        connection.check_constraints()  # the test's own writes, checked now, so TRUNCATE may run
    call_command("flush", interactive=False, verbosity=0)
    assert not User.objects.exists()


def _counts() -> dict[str, int]:
    return {model._meta.label_lower: model._base_manager.count() for model in backed_up_models()}


def _backup(target: Path) -> tuple[Path, str]:
    out = StringIO()
    call_command("backup", str(target), stdout=out)
    archive = target if target.suffix == ".gz" else next(target.glob("omm-backup-*.tar.gz"))
    return archive, out.getvalue()


def _restore(archive: Path, *args: str) -> str:
    out = StringIO()
    call_command("restore", str(archive), *args, stdout=out, stderr=out)
    return out.getvalue()


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def _write_archive(path: Path, members: dict[str, bytes], *, links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


def _manifest_for(members: dict[str, bytes], manifest: dict) -> bytes:
    files = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for n, d in members.items()}
    return json.dumps({**manifest, "files": files}).encode()


def _record(version: ModelVersion, frame: pd.DataFrame, i: int) -> dict:
    row = frame.iloc[i]
    return {
        name: None if pd.isna(row[name]) else (row[name].item() if hasattr(row[name], "item") else row[name])
        for name in version.feature_schema["features"]
    }


def _scores(api, version: ModelVersion, records: list[dict]) -> dict:
    response = api.post(f"/api/models/{version.model_id}/predict", {"records": records}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["data"]


@pytest.fixture
def small_archive(folders, make_user):
    """A backup of a few rows (a user, a secret setting) and two media files."""
    make_user(username="ana")
    SystemConfig.objects.create(key="test-token", value_type="string", value="t0ken-Value", is_secret=True)
    (folders / "media-a" / "datasets").mkdir(parents=True)
    (folders / "media-a" / "datasets" / "a.csv").write_text("x,y\n1,2\n")
    (folders / "media-a" / "models").mkdir()
    (folders / "media-a" / "models" / "m.omm").write_bytes(b"\x00model")
    archive, _ = _backup(folders / "backups" / "small.tar.gz")
    return archive


def test_backup_and_restore_into_an_empty_database_give_the_same_predictions(
    api, admin_user, make_user, credit_version, settings, folders
):
    from apps.datasets.demo_data import credit_frame

    task = training_tasks.training_create(
        user=admin_user,
        request={"name": "credit", "dataset": credit_version.dataset_id, "params": {"num_boost_round": 5}},
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    version = ModelVersion.objects.get(task=task)
    promoted = api.post(f"/api/model-versions/{version.pk}/promote", {"reason": "go"}, format="json")
    assert promoted.status_code == 200
    frame = credit_frame(3000, seed=11)
    records = [_record(version, frame, i) for i in range(25)]
    before = _scores(api, version, records)["scores"]
    rows = _counts()
    artifact = Path(settings.MEDIA_ROOT) / version.artifact.name
    assert artifact.is_file() and (Path(settings.MEDIA_ROOT) / credit_version.file.name).is_file()

    archive, out = _backup(folders / "backups")
    assert f"Backup written to {archive}" in out and f"{sum(rows.values())} rows" in out
    assert archive.stat().st_mode & 0o077 == 0  # only the server's account reads it
    members = _members(archive)
    manifest = json.loads(members.pop("manifest.json"))
    assert set(manifest["files"]) == set(members)
    assert {f"media/{version.artifact.name}", f"media/{credit_version.file.name}", "database.jsonl"} <= set(
        members
    )
    for name, data in members.items():
        assert manifest["files"][name] == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert manifest["rows"] == rows
    assert "models.0001_initial" in manifest["migrations"] and manifest["omm_version"]

    _empty_database()
    _fresh_folders(settings, folders)
    _clear_process_caches()  # a new process: no model loaded yet
    cache.clear()

    out = _restore(archive)
    assert f"Restored {sum(rows.values())} rows" in out and f"{len(members) - 1} files" in out
    assert _counts() == rows
    assert (folders / "media-b" / version.artifact.name).read_bytes() == artifact.read_bytes()
    assert not list((folders / "data-b").iterdir())  # the staging folder is gone
    after = _scores(api, version, records)
    assert after["cached"] is False and after["versionId"] == version.pk
    assert after["scores"] == before
    # The restored database keeps working: new rows get fresh ids.
    assert make_user(username="newcomer").pk > max(
        User.objects.exclude(username="newcomer").values_list("pk", flat=True)
    )


def test_restore_refuses_a_database_with_data_unless_forced(small_archive, make_user):
    make_user(username="bob")
    with pytest.raises(CommandError, match=r"not empty \(.*users\.user \(2\)"):
        _restore(small_archive)
    assert set(User.objects.values_list("username", flat=True)) == {"ana", "bob"}

    out = _restore(small_archive, "--force")
    assert "Restored" in out
    assert set(User.objects.values_list("username", flat=True)) == {"ana"}
    assert config_get("test-token") == "t0ken-Value"
    assert _restore(small_archive, "--force").startswith("Restored")  # and again


def test_restore_warns_when_the_secrets_key_differs(small_archive, settings, folders):
    from cryptography.fernet import Fernet

    _empty_database()
    _fresh_folders(settings, folders)
    settings.OMM_SECRETS_KEYS = [Fernet.generate_key().decode()]
    out = _restore(small_archive)
    assert "1 secret settings cannot be decrypted (test-token)" in out
    assert "t0ken-Value" not in out


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m: m.update({"media/datasets/a.csv": b"x,y\n1,3\n"}),  # a changed file
        lambda m: m.pop("media/models/m.omm"),  # a missing file
        lambda m: m.update({"media/extra.bin": b"?"}),  # a file the manifest does not list
        lambda m: m.update({"database.jsonl": m["database.jsonl"].replace(b'"ana"', b'"eve"')}),
    ],
)
def test_a_tampered_archive_is_refused_with_nothing_written(small_archive, settings, folders, tamper):
    members = _members(small_archive)
    manifest = members.pop("manifest.json")
    tamper(members)
    tampered = _write_archive(folders / "tampered.tar.gz", {**members, "manifest.json": manifest})
    _empty_database()
    _fresh_folders(settings, folders)
    with pytest.raises(CommandError, match=r"Checksum mismatch|does not match its manifest"):
        _restore(tampered)
    assert not User.objects.exists()
    assert not (folders / "media-b").exists() and not list((folders / "data-b").iterdir())


def test_restore_refuses_another_schema(small_archive, settings, folders):
    members = _members(small_archive)
    manifest = json.loads(members.pop("manifest.json"))
    manifest["migrations"].remove("models.0001_initial")
    other = _write_archive(
        folders / "other.tar.gz", {**members, "manifest.json": json.dumps(manifest).encode()}
    )
    _empty_database()
    with pytest.raises(CommandError, match="another database schema"):
        _restore(other)
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "media/../../escape.txt",
        "../escape.txt",
        "ABSOLUTE",
        "media/./a.txt",
        "media//a.txt",
        "media",
        "elsewhere/a.txt",
        "media\\..\\escape.txt",
    ],
)
def test_a_member_outside_the_layout_is_refused(small_archive, settings, folders, name):
    name = str(folders / "abs-escape.txt") if name == "ABSOLUTE" else name
    with pytest.raises(Invalid):
        member_path(name)
    members = _members(small_archive)
    manifest = json.loads(members.pop("manifest.json"))
    members[name] = b"escaped"
    crafted = {**members, "manifest.json": _manifest_for(members, manifest)}  # checksums right
    archive = _write_archive(folders / "crafted.tar.gz", crafted)
    _empty_database()
    _fresh_folders(settings, folders)
    with pytest.raises(CommandError, match="outside its layout"):
        _restore(archive)
    assert not User.objects.exists() and not (folders / "media-b").exists()
    assert not (folders / "escape.txt").exists() and not (folders / "abs-escape.txt").exists()


def test_a_link_member_is_refused(small_archive, settings, folders):
    members = _members(small_archive)
    manifest = json.loads(members.pop("manifest.json"))
    crafted = {**members, "manifest.json": _manifest_for(members, manifest)}
    archive = _write_archive(folders / "link.tar.gz", crafted, links={"media/models/link.omm": "/etc/passwd"})
    _empty_database()
    _fresh_folders(settings, folders)
    with pytest.raises(CommandError, match="not a regular file"):
        _restore(archive)
    assert not (folders / "media-b").exists()


def test_what_is_not_a_backup_is_refused(folders):
    junk = folders / "junk.tar.gz"
    junk.write_bytes(b"not a tar file at all")
    with pytest.raises(CommandError, match="not a readable OMM backup archive"):
        _restore(junk)
    no_manifest = _write_archive(folders / "bare.tar.gz", {"database.jsonl": b""})
    with pytest.raises(CommandError, match="has no manifest"):
        _restore(no_manifest)
    with pytest.raises(CommandError, match="No such file"):
        _restore(folders / "missing.tar.gz")


def test_backup_never_overwrites_an_archive(small_archive):
    with pytest.raises(CommandError, match="exists already"):
        _backup(small_archive)
    with pytest.raises(CommandError, match=r"ending in \.tar\.gz"):
        _backup(small_archive.parent / "no-such-folder")
    with pytest.raises(CommandError, match="No such folder"):
        _backup(small_archive.parent / "missing" / "b.tar.gz")
    assert not list(small_archive.parent.glob("*.part"))


@pytest.mark.parametrize(
    "line",
    [
        # A setting naming an account that is not in the backup.
        b'{"model": "core.systemconfig", "pk": 99999, "fields": {"key": "test-dangling", "value_type": '
        b'"string", "value": "", "description": "", "is_secret": false, '
        b'"updated_at": "2026-01-01T00:00:00Z", "updated_by": 424242}}',
        b'{"model": "nosuch.model", "pk": 1, "fields": {}}',
        b"{not json",
    ],
)
def test_a_database_that_cannot_load_leaves_everything_as_it_was(small_archive, settings, folders, line):
    members = _members(small_archive)
    manifest = json.loads(members.pop("manifest.json"))
    members["database.jsonl"] = members["database.jsonl"].rstrip(b"\n") + b"\n" + line + b"\n"
    archive = _write_archive(
        folders / "bad-db.tar.gz", {**members, "manifest.json": _manifest_for(members, manifest)}
    )
    _empty_database()
    _fresh_folders(settings, folders)
    with pytest.raises(CommandError, match="database cannot be loaded"):
        _restore(archive)
    assert not User.objects.exists() and SystemConfig.objects.filter(key="tasks-log-retention-days").exists()
    assert not [p for p in (folders / "media-b").rglob("*") if p.is_file()]
    assert not list((folders / "data-b").iterdir())
