"""Backup and restore of a whole OMM: every app's rows, the media files (uploaded datasets,
model artifacts, prediction files) and a manifest, in one archive (``backup_archive``).

The rows travel as Django's JSON lines, with their primary keys, so a backup taken on SQLite
restores on PostgreSQL and the other way round. The dump is one consistent snapshot (a single
read transaction). A restore replaces the whole database in one transaction, after the
archive has been checked member by member: it needs the same migrations as the backup, and
a database holding nothing but what ``migrate`` creates, unless forced.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError, connection, router, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from . import sealing
from .backup_archive import DATABASE, MEDIA, ArchiveWriter, archive_extract, archive_verify
from .config import config_local_clear
from .errors import Conflict, Invalid
from .files import storage_has_paths, storage_walk
from .models import SystemConfig

FORMAT, FORMAT_VERSION = "omm-backup", 1
LOAD_BATCH = 5000  # rows of one model deserialized before they are inserted
# Not data: who is logged in now, and which processes were alive.
SKIPPED = {"sessions.session", "core.workerheartbeat"}
# What ``migrate`` and ``setup_periodic_tasks`` create (and the governance trail of it, such as
# permissions granted to the role groups): a database holding only these is empty.
SEEDED = {
    "auditlog.logentry",
    "contenttypes.contenttype",
    "auth.permission",
    "auth.group",
    "core.systemconfig",
    "qa.bankalias",
    "django_celery_beat.crontabschedule",
    "django_celery_beat.intervalschedule",
    "django_celery_beat.periodictask",
    "django_celery_beat.periodictasks",
}


@dataclass
class BackupResult:
    path: Path
    rows: dict[str, int]
    files: int
    size: int


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    rows: dict[str, int]
    files: int
    warnings: list[str] = field(default_factory=list)


def _label(model: type[Model]) -> str:
    return model._meta.label_lower


def backed_up_models() -> list[type[Model]]:
    """Every concrete model whose rows a backup holds, dependencies first where known."""
    app_list = [(config, None) for config in apps.get_app_configs() if config.models_module]
    return [
        model
        for model in serializers.sort_dependencies(app_list, allow_cycles=True)
        if not model._meta.proxy
        and model._meta.managed
        and _label(model) not in SKIPPED
        and router.allow_migrate_model(connection.alias, model)
    ]


def _applied_migrations() -> list[str]:
    return sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())


def _omm_version() -> str:
    try:
        with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _key_fingerprints() -> dict[str, Any]:
    # One-way names, to tell on restore whether the keys match; never the keys themselves.
    # Artifacts are signed with OMM_ARTIFACT_KEY, else a key derived from SECRET_KEY.
    artifact = settings.OMM_ARTIFACT_KEY
    signing = (
        sealing.fingerprint(artifact)
        if artifact
        else "secret-key:" + sealing.fingerprint(settings.SECRET_KEY)
    )
    return {
        "artifacts": signing,
        "secrets": sealing.key_fingerprints(),
    }


@contextlib.contextmanager
def _snapshot():
    """One read transaction, so every table is dumped as of the same moment."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _dump_database(path: Path) -> dict[str, int]:
    rows: Counter[str] = Counter()

    def objects():
        for model in backed_up_models():
            label = _label(model)
            rows[label] = 0
            for obj in model._base_manager.order_by(model._meta.pk.name).iterator(chunk_size=2000):
                rows[label] += 1
                yield obj

    with _snapshot(), path.open("w", encoding="utf-8") as fh:
        serializers.serialize("jsonl", objects(), stream=fh)
    return dict(rows)


def _media_files() -> list[tuple[str, Path | None]]:
    """Every regular file under MEDIA_ROOT (links are not followed; ``*.part`` files are
    writes in progress), or every stored file of a storage without local paths (an S3
    bucket), which has no path (None)."""
    if not storage_has_paths():
        return [(name, None) for name in storage_walk() if not name.endswith(".part")]
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.name.endswith(".part"):
            continue
        found.append((path.relative_to(root).as_posix(), path))
    return found


def _archive_path(target: Path) -> Path:
    if target.is_dir():
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        return target / f"omm-backup-{stamp}.tar.gz"
    if target.exists():
        raise Conflict(_("%(path)s exists already: give a new file name or a folder.") % {"path": target})
    if not target.name.endswith(".tar.gz"):
        raise Invalid(
            _("Give an existing folder, or a file name ending in .tar.gz: %(path)s") % {"path": target}
        )
    if not target.parent.is_dir():
        raise Invalid(_("No such folder: %(path)s") % {"path": target.parent})
    return target


def backup_create(*, target: Path) -> BackupResult:
    """Write a backup archive into folder ``target`` (a dated name) or as file ``target``."""
    path = _archive_path(target)
    with ArchiveWriter(path) as writer:
        with tempfile.TemporaryDirectory(prefix="backup-", dir=settings.DATA_DIR) as tmp:
            dump = Path(tmp) / DATABASE
            rows = _dump_database(dump)
            writer.add_file(DATABASE, dump)
        files = 0
        for relative, source in _media_files():
            try:
                if source is None:
                    with default_storage.open(relative, "rb") as fh:
                        writer.add_stream(f"{MEDIA}/{relative}", fh, fh.size)
                else:
                    writer.add_file(f"{MEDIA}/{relative}", source)
            except FileNotFoundError:  # deleted since it was listed (and so since the dump)
                continue
            files += 1
        size = writer.close(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "omm_version": _omm_version(),
                "created_at": timezone.now().isoformat(),
                "database_vendor": connection.vendor,
                "migrations": _applied_migrations(),
                "rows": rows,
                "keys": _key_fingerprints(),
            }
        )
    return BackupResult(path=path, rows=rows, files=files, size=size)


# --------------------------------------------------------------------------- restore


def _check_manifest(manifest: dict[str, Any]) -> None:
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise Invalid(_("This is not an OMM backup archive of a format this version reads."))
    ours, theirs = set(_applied_migrations()), set(manifest.get("migrations") or [])
    if ours != theirs:
        differ = sorted(ours ^ theirs)
        raise Conflict(
            _(
                "The backup was taken at another database schema (migrations differ: %(names)s). "
                "Restore it with the OMM version that took it (%(version)s), then upgrade."
            )
            % {"names": ", ".join(differ[:5]), "version": manifest.get("omm_version", "?")}
        )


def database_data_counts() -> dict[str, int]:
    """Rows in the tables that hold OMM data (not what ``migrate`` creates), where any."""
    counts = {}
    for model in backed_up_models():
        if _label(model) not in SEEDED:
            count = model._base_manager.count()
            if count:
                counts[_label(model)] = count
    return counts


def _refuse_unless_empty(media: list[PurePosixPath]) -> None:
    held = database_data_counts()
    if held:
        shown = ", ".join(f"{label} ({n})" for label, n in sorted(held.items())[:5])
        raise Conflict(
            _(
                "The database is not empty (%(tables)s): restore into an empty one, or use --force "
                "to replace it."
            )
            % {"tables": shown}
        )
    root = Path(settings.MEDIA_ROOT)
    if storage_has_paths():
        clash = [str(p) for p in media if (root / p).exists()]
    else:
        clash = [str(p) for p in media if default_storage.exists(p.as_posix())]
    if clash:
        raise Conflict(
            _("Files to restore exist already in MEDIA_ROOT (%(names)s): use --force to replace them.")
            % {"names": ", ".join(clash[:5])}
        )


def _insert(model: type[Model], loaded: list) -> None:
    """Insert deserialized rows of one model as they are (primary keys, timestamps), many per
    statement, and their many-to-many links. No signals: these are not new changes, so the
    governance trail records none."""
    fields = [f for f in model._meta.local_concrete_fields if not getattr(f, "generated", False)]
    objs = [item.object for item in loaded]
    size = connection.ops.bulk_batch_size(fields, objs) or len(objs)
    for start in range(0, len(objs), size):
        # raw: the values as dumped, not re-computed (auto_now, defaults).
        model._base_manager._insert(
            objs[start : start + size], fields=fields, using=connection.alias, raw=True
        )
    for name in {name for item in loaded for name in item.m2m_data or {}}:
        field = model._meta.get_field(name)
        through = field.remote_field.through
        source = through._meta.get_field(field.m2m_field_name()).attname
        target = through._meta.get_field(field.m2m_reverse_field_name()).attname
        links = [
            through(**{source: item.object.pk, target: pk})
            for item in loaded
            for pk in (item.m2m_data or {}).get(name, [])
        ]
        through._base_manager.bulk_create(links, batch_size=1000)


def _load_rows(dump: Path) -> None:
    batch: list = []
    loaded: set[type[Model]] = set()
    with dump.open(encoding="utf-8") as fh:
        for item in serializers.deserialize("jsonl", fh):
            if batch and (type(item.object) is not type(batch[0].object) or len(batch) >= LOAD_BATCH):
                _insert(type(batch[0].object), batch)
                batch = []
            batch.append(item)
            loaded.add(type(item.object))
    if batch:
        _insert(type(batch[0].object), batch)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(loaded)):
            cursor.execute(sql)
    # Every reference checked before the commit: a dangling one fails the restore, not later.
    connection.check_constraints()


def _load_database(dump: Path) -> None:
    """Replace every table's rows by the dump's, in one transaction (all or nothing)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Checks deferred from writes earlier in an enclosing transaction block a TRUNCATE.
            connection.check_constraints()
        # inhibit_post_migrate: the dump brings its own content types, permissions, settings.
        call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
        try:
            _load_rows(dump)
        except (DeserializationError, DatabaseError, ValueError) as exc:
            raise Invalid(_("The archive's database cannot be loaded: %(error)s") % {"error": exc}) from None


class _MediaPlacement:
    """Moves staged media files into MEDIA_ROOT, keeping any file it replaces aside (in the
    staging folder) so ``undo`` can put everything back as it was."""

    def __init__(self, staged: Path, aside: Path):
        self.staged, self.aside, self.root = staged, aside, Path(settings.MEDIA_ROOT)
        self.placed: list[Path] = []
        self.replaced: list[tuple[Path, Path]] = []

    def place(self, relative: PurePosixPath) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            kept = self.aside / relative
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(target, kept)
            self.replaced.append((target, kept))
        shutil.move(self.staged / relative, target)
        self.placed.append(target)

    def undo(self) -> None:
        for target in self.placed:
            target.unlink(missing_ok=True)
        for target, kept in self.replaced:
            shutil.move(kept, target)


class _StoredPlacement:
    """``_MediaPlacement`` for a storage without local paths (an S3 bucket): a file it
    replaces is copied aside first and stored back by ``undo``."""

    def __init__(self, staged: Path, aside: Path):
        self.staged, self.aside = staged, aside
        self.placed: list[str] = []
        self.replaced: list[tuple[str, Path]] = []

    def place(self, relative: PurePosixPath) -> None:
        name = relative.as_posix()
        if default_storage.exists(name):
            kept = self.aside / relative
            kept.parent.mkdir(parents=True, exist_ok=True)
            with default_storage.open(name, "rb") as src, kept.open("wb") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
            default_storage.delete(name)
            self.replaced.append((name, kept))
        with (self.staged / relative).open("rb") as fh:
            stored = default_storage.save(name, File(fh, name=name))
        self.placed.append(stored)
        if stored != name:  # written meanwhile by someone else: the rows would not find it
            raise Conflict(_("%(name)s was written while it was being restored.") % {"name": name})

    def undo(self) -> None:
        for name in self.placed:
            default_storage.delete(name)
        for name, kept in self.replaced:
            with kept.open("rb") as fh:
                default_storage.save(name, File(fh, name=name))


def _after_restore() -> None:
    """What processes remember of the replaced database goes: content type ids, cached
    settings, answers and counters."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    cache.clear()
    config_local_clear()


def _key_warnings(manifest: dict[str, Any]) -> list[str]:
    warnings = []
    keys = manifest.get("keys") or {}
    if keys.get("artifacts") and keys["artifacts"] != _key_fingerprints()["artifacts"]:
        warnings.append(
            _(
                "Model artifacts were signed with another key (OMM_ARTIFACT_KEY, else SECRET_KEY) than "
                "this installation's: they will not load until that key is set as it was."
            )
        )
    unreadable = []
    for key, value in SystemConfig.objects.filter(is_secret=True).values_list("key", "value"):
        try:
            sealing.unseal(value)
        except sealing.SecretUnreadable:
            unreadable.append(key)
    if unreadable:
        warnings.append(
            _(
                "%(n)s secret settings cannot be decrypted (%(keys)s): add the key of the backed-up "
                "installation (its OMM_SECRETS_KEY or OMM_DATA_DIR/secrets_key) to OMM_SECRETS_KEY."
            )
            % {"n": len(unreadable), "keys": ", ".join(unreadable[:5])}
        )
    return warnings


def backup_restore(*, archive: Path, force: bool = False) -> RestoreResult:
    """Restore a backup archive: checked whole first (nothing is written before), then the media
    files placed and the database replaced in one transaction; a failure puts the files back."""
    if not archive.is_file():
        raise Invalid(_("No such file: %(path)s") % {"path": archive})
    verified = archive_verify(archive)
    manifest = verified.manifest
    _check_manifest(manifest)
    if DATABASE not in verified.entries:
        raise Invalid(_("The archive holds no database."))
    media = [PurePosixPath(n).relative_to(MEDIA) for n in verified.entries if n.startswith(MEDIA + "/")]
    if not force:
        _refuse_unless_empty(media)
    staging = Path(tempfile.mkdtemp(prefix="restore-", dir=settings.DATA_DIR))
    try:
        archive_extract(archive, verified, staging / "archive")
        placing = _MediaPlacement if storage_has_paths() else _StoredPlacement
        placement = placing(staging / "archive" / MEDIA, staging / "replaced")
        try:
            for relative in media:
                placement.place(relative)
            _load_database(staging / "archive" / DATABASE)
        except BaseException:
            placement.undo()
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _after_restore()
    rows = {label: int(n) for label, n in (manifest.get("rows") or {}).items()}
    return RestoreResult(manifest=manifest, rows=rows, files=len(media), warnings=_key_warnings(manifest))


def describe_created_at(manifest: dict[str, Any]) -> str:
    """When the backup was taken, in local time, for messages."""
    try:
        return timezone.localtime(datetime.fromisoformat(manifest["created_at"])).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
    except (KeyError, TypeError, ValueError):
        return "?"
