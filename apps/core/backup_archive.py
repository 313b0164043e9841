"""The backup archive file: one tar.gz holding ``database.jsonl``, ``media/<path>`` files and,
last, ``manifest.json`` (the sha256 and size of every other member).

Written to ``<name>.part`` (mode 0600) and renamed when complete. Read back member by member,
in two passes: ``archive_verify`` checks every member's name, type and checksum against the
manifest without writing anything; ``archive_extract`` then writes the members under a
staging folder, checking each again as it goes. A member that is not a regular file, a name
outside the known layout (absolute, with ``..``, a link) or a member the manifest does not
list refuses the whole archive: nothing is ever written outside the folder given.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.utils.translation import gettext as _

from .errors import Invalid

MANIFEST = "manifest.json"
DATABASE = "database.jsonl"
MEDIA = "media"
CHUNK = 1024 * 1024
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError, UnicodeDecodeError)


@dataclass(frozen=True)
class Entry:
    sha256: str
    size: int


@dataclass(frozen=True)
class Verified:
    manifest: dict[str, Any]
    entries: dict[str, Entry]  # every member but the manifest, by name


def member_path(name: str) -> PurePosixPath:
    """The relative path a member name stands for, or Invalid when the name is not one of the
    layout's: ``manifest.json``, ``database.jsonl`` or ``media/<relative path>``."""
    path = PurePosixPath(name)
    parts = path.parts
    safe = (
        bool(parts)
        and "\x00" not in name
        and "\\" not in name
        and not path.is_absolute()
        and str(path) == name  # no "./", "//" or trailing "/"
        and all(part not in ("", ".", "..") for part in parts)
    )
    known = name in (MANIFEST, DATABASE) or (len(parts) > 1 and parts[0] == MEDIA)
    if not (safe and known):
        raise Invalid(
            _("The archive holds a member with a name outside its layout: %(name)r.") % {"name": name}
        )
    return path


class _Hashing(io.RawIOBase):
    """Reads through ``source`` while hashing and counting what was read."""

    def __init__(self, source: IO[bytes]):
        self.source, self.digest, self.size = source, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.source.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data

    def entry(self) -> Entry:
        return Entry(self.digest.hexdigest(), self.size)


class ArchiveWriter:
    """Builds an archive at ``path`` (which must not exist); ``close`` adds the manifest last
    and renames the finished file into place. Leaving early removes the partial file."""

    def __init__(self, path: Path):
        self.path = path
        self.part = path.with_name(path.name + ".part")
        fd = os.open(self.part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._raw = os.fdopen(fd, "wb")
        # Open across add_file calls; closed by close() or __exit__.
        self._tar = tarfile.open(fileobj=self._raw, mode="w:gz", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.entries: dict[str, Entry] = {}

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._tar.close()
            self._raw.close()
            self.part.unlink(missing_ok=True)

    def _add(self, name: str, source: IO[bytes], size: int) -> Entry:
        member_path(name)
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(time.time())
        reader = _Hashing(source)
        self._tar.addfile(info, reader)
        self.entries[name] = reader.entry()
        return self.entries[name]

    def add_file(self, name: str, path: Path) -> Entry:
        with path.open("rb") as fh:
            return self._add(name, fh, os.fstat(fh.fileno()).st_size)

    def add_stream(self, name: str, source: IO[bytes], size: int) -> Entry:
        """Add ``size`` bytes read from ``source`` (a stored file without a local path)."""
        return self._add(name, source, size)

    def close(self, manifest: dict[str, Any]) -> int:
        """Write the manifest (with every member's checksum) and publish the archive; its size."""
        manifest = {
            **manifest,
            "files": {n: {"sha256": e.sha256, "size": e.size} for n, e in self.entries.items()},
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
        self._tar.addfile(info, io.BytesIO(data))
        self._tar.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self.part, self.path)
        return self.path.stat().st_size


def _members(path: Path):
    """(member, readable stream) of each member in order, refusing anything but a safe regular file."""
    seen: set[str] = set()
    with tarfile.open(path, mode="r|gz") as tar:
        for member in tar:
            member_path(member.name)
            if not member.isreg():
                raise Invalid(_("The archive member %(name)r is not a regular file.") % {"name": member.name})
            if member.name in seen:
                raise Invalid(_("The archive holds %(name)r twice.") % {"name": member.name})
            seen.add(member.name)
            yield member, tar.extractfile(member)


def _manifest_files(manifest: Any) -> dict[str, Entry]:
    try:
        files = {name: Entry(str(v["sha256"]), int(v["size"])) for name, v in manifest["files"].items()}
    except (TypeError, KeyError, ValueError, AttributeError):
        raise Invalid(_("The archive's manifest does not list its files.")) from None
    for name in files:
        if name == MANIFEST:
            raise Invalid(_("The archive's manifest lists itself."))
        member_path(name)
    return files


def archive_verify(path: Path) -> Verified:
    """Check every member of the archive against its manifest, writing nothing."""
    found: dict[str, Entry] = {}
    manifest: Any = None
    try:
        for member, stream in _members(path):
            if member.name == MANIFEST:
                if member.size > MAX_MANIFEST_BYTES:
                    raise Invalid(_("The archive's manifest is too large."))
                manifest = json.loads(stream.read().decode("utf-8"))
                continue
            reader = _Hashing(stream)
            while reader.read(CHUNK):
                pass
            found[member.name] = reader.entry()
    except json.JSONDecodeError:
        raise Invalid(_("The archive's manifest is not valid JSON.")) from None
    except READ_ERRORS as exc:
        raise Invalid(
            _("%(path)s is not a readable OMM backup archive (%(error)s).") % {"path": path, "error": exc}
        ) from None
    if not isinstance(manifest, dict):
        raise Invalid(_("%(path)s has no manifest: it is not an OMM backup archive.") % {"path": path})
    listed = _manifest_files(manifest)
    if set(found) != set(listed):
        missing, extra = sorted(set(listed) - set(found)), sorted(set(found) - set(listed))
        raise Invalid(
            _("The archive does not match its manifest (missing: %(missing)s; not listed: %(extra)s).")
            % {"missing": ", ".join(missing[:5]) or "-", "extra": ", ".join(extra[:5]) or "-"}
        )
    changed = sorted(name for name, entry in found.items() if entry != listed[name])
    if changed:
        raise Invalid(
            _("Checksum mismatch in the archive, nothing was restored: %(names)s.")
            % {"names": ", ".join(changed[:5])}
        )
    return Verified(manifest, found)


def archive_extract(path: Path, verified: Verified, staging: Path) -> None:
    """Write every member but the manifest under ``staging`` (an empty folder), checking each
    against the checksums ``archive_verify`` found; Invalid if the file changed meanwhile."""
    root, written = staging.resolve(), set()
    try:
        for member, stream in _members(path):
            if member.name == MANIFEST:
                continue
            target = (root / member_path(member.name)).resolve()
            if not target.is_relative_to(root) or member.name not in verified.entries:
                raise Invalid(_("The archive changed while it was being restored."))
            target.parent.mkdir(parents=True, exist_ok=True)
            reader = _Hashing(stream)
            with open(target, "xb") as out:
                while chunk := reader.read(CHUNK):
                    out.write(chunk)
            if reader.entry() != verified.entries[member.name]:
                raise Invalid(_("The archive changed while it was being restored."))
            written.add(member.name)
    except READ_ERRORS as exc:
        raise Invalid(
            _("%(path)s is not a readable OMM backup archive (%(error)s).") % {"path": path, "error": exc}
        ) from None
    if written != set(verified.entries):
        raise Invalid(_("The archive changed while it was being restored."))
