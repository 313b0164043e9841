"""Model artifacts: a signed, checksummed container and the only safe ways to load a model.

An artifact blob is::

    b"OMM-ARTIFACT\\n" + <header JSON, one line> + b"\\n" + <payload>

The header holds ``format``, ``formatVersion``, ``checksum`` (SHA-256 hex of the payload),
``signature`` and ``meta``. The signature is HMAC-SHA256 over the canonical header
*without* the signature field, a newline, and the payload, so neither the metadata nor
the payload can be altered without the key. Nothing is parsed as a model until both
checks pass.

Supported model formats load without running code: ``"lightgbm-text"`` (LightGBM's own
text model) and ``"skops"`` (scikit-learn objects, loaded against an explicit list of
trusted types). Pickle, joblib and cloudpickle are never loaded. Other apps add the
formats they own with ``register_format`` from their ``AppConfig.ready()`` (the QA app's
``"omm-retrieval"`` index); their blobs are verified here like any other.

No Django import here: the registry and upload API call these functions.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext

from .errors import ArtifactError

FORMAT_VERSION = 1
MAGIC = b"OMM-ARTIFACT\n"
# The formats this module loads itself; the only ones accepted as uploads.
BUILTIN_FORMATS = ("lightgbm-text", "skops")


@dataclass(frozen=True)
class _Loader:
    """How to read the payload of a format another app owns: ``load(payload)`` gives the
    object and raises ValueError for bytes it cannot read; ``name`` words the error."""

    load: Callable[[bytes], Any]
    name: str


# The formats other apps own, by format. They are only ever written by the platform,
# never accepted as uploads.
_LOADERS: dict[str, _Loader] = {}

# Upper bound on the header line; a real header is a few KB, and bounding it stops a
# malformed blob from making us scan or json-parse the whole payload.
_MAX_HEADER_BYTES = 1 << 20

_PICKLE_EXTENSIONS = (".pkl", ".pickle", ".joblib", ".jbl", ".sav", ".dill", ".cloudpickle", ".pt", ".pth")

# Magic bytes of the compressors joblib writes (zlib, gzip, bz2, xz, lzma, lz4) and of
# joblib's legacy "ZF" container: what is inside is a pickle, so we refuse without
# decompressing.
_COMPRESSED_PICKLE_MAGICS = (
    b"\x78\x01",
    b"\x78\x5e",
    b"\x78\x9c",
    b"\x78\xda",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\x5d\x00\x00",
    b"\x04\x22\x4d\x18",
    b"ZF",
)


def register_format(fmt: str, loader: Callable[[bytes], Any], *, name: str = "") -> None:
    """Let artifacts of format ``fmt`` be packed and loaded, ``loader`` reading their payload.

    Called from an app's ``AppConfig.ready()``; the payload reaches ``loader`` only once its
    checksum and signature have been verified. ``name`` (e.g. "retrieval index") words the
    error when ``loader`` refuses the bytes with a ValueError.
    """
    if fmt in BUILTIN_FORMATS:
        raise ValueError(f"{fmt!r} is a built-in artifact format")
    _LOADERS[fmt] = _Loader(loader, name or f"{fmt} artifact")


def formats() -> tuple[str, ...]:
    """Every format an artifact may have: the built-in ones, then the registered ones."""
    return BUILTIN_FORMATS + tuple(_LOADERS)


@dataclass
class Artifact:
    """A verified artifact: model format, raw model payload, its checksum, signature and meta."""

    format: str
    payload: bytes
    checksum: str
    signature: str
    meta: dict = field(default_factory=dict)


def sha256(data: bytes) -> str:
    """SHA-256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sign(data: bytes, key: bytes) -> str:
    """HMAC-SHA256 hex digest of ``data`` under ``key``."""
    if not key:
        raise ArtifactError("bad_signature", gettext("an empty signing key is not allowed"))
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _canonical(header: dict) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _signed_bytes(header_without_signature: dict, payload: bytes) -> bytes:
    return _canonical(header_without_signature) + b"\n" + payload


def pack(model_bytes: bytes, fmt: str, *, key: bytes, meta: dict) -> bytes:
    """Wrap ``model_bytes`` of format ``fmt`` into a signed artifact blob."""
    if fmt not in formats():
        raise ArtifactError(
            "unknown_format",
            gettext("unknown model format %(format)s; expected one of %(formats)s")
            % {"format": repr(fmt), "formats": formats()},
        )
    header = {
        "format": fmt,
        "formatVersion": FORMAT_VERSION,
        "checksum": sha256(model_bytes),
        "meta": meta or {},
    }
    header["signature"] = sign(_signed_bytes(header, model_bytes), key)
    return MAGIC + _canonical(header) + b"\n" + model_bytes


def unpack(blob: bytes, *, key: bytes) -> Artifact:
    """Parse and verify an artifact blob; raise ``ArtifactError`` on any mismatch.

    Only the JSON header is parsed before verification; the payload is untouched bytes.
    """
    if not blob.startswith(MAGIC):
        raise ArtifactError("unknown_format", gettext("not an OMM artifact (missing header)"))
    end = blob.find(b"\n", len(MAGIC), len(MAGIC) + _MAX_HEADER_BYTES)
    if end < 0:
        raise ArtifactError("unreadable", gettext("artifact header is missing or too long"))
    try:
        header = json.loads(blob[len(MAGIC) : end].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(
            "unreadable", gettext("artifact header is not valid JSON: %(error)s") % {"error": exc}
        ) from exc
    if not isinstance(header, dict):
        raise ArtifactError("unreadable", gettext("artifact header is not an object"))
    payload = blob[end + 1 :]

    if header.get("formatVersion") != FORMAT_VERSION:
        raise ArtifactError(
            "unknown_format",
            gettext("artifact format version %(version)s is not supported (this platform writes %(current)s)")
            % {"version": repr(header.get("formatVersion")), "current": FORMAT_VERSION},
        )
    signature = header.pop("signature", None)
    checksum = header.get("checksum")
    if not isinstance(signature, str) or not isinstance(checksum, str):
        raise ArtifactError("unreadable", gettext("artifact header lacks checksum or signature"))
    if not hmac.compare_digest(sha256(payload), checksum):
        raise ArtifactError("checksum_mismatch", gettext("artifact payload does not match its checksum"))
    if not hmac.compare_digest(sign(_signed_bytes(header, payload), key), signature):
        raise ArtifactError("bad_signature", gettext("artifact signature does not verify with this key"))
    fmt = header.get("format")
    if fmt not in formats():
        raise ArtifactError(
            "unknown_format", gettext("unknown model format %(format)s") % {"format": repr(fmt)}
        )
    meta = header.get("meta")
    return Artifact(
        format=fmt,
        payload=payload,
        checksum=checksum,
        signature=signature,
        meta=meta if isinstance(meta, dict) else {},
    )


def write(path: str | os.PathLike[str], blob: bytes) -> None:
    """Write ``blob`` to ``path`` atomically: to ``path + ".part"``, fsync, then rename.

    A failure leaves neither ``path`` changed nor a ``.part`` file behind.
    """
    path = os.fspath(path)
    part = path + ".part"
    try:
        with open(part, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(part)
        raise


def read(path: str | os.PathLike[str], *, key: bytes) -> Artifact:
    """Read and verify the artifact stored at ``path``."""
    with open(path, "rb") as fh:
        return unpack(fh.read(), key=key)


@functools.lru_cache(maxsize=1)
def default_trusted_types() -> tuple[str, ...]:
    """Types skops does not trust by default that our own fitted estimators contain.

    Computed once by fitting and dumping a tiny instance of each estimator the training
    engine builds (the preprocessing pipeline with LogisticRegression,
    RandomForestClassifier and RandomForestRegressor) and asking skops which types it
    would refuse. Nothing an upload brings is ever added to this list.
    """
    import skops.io as sio

    from apps.models import training

    found: set[str] = set()
    for prototype in training.prototype_pipelines():
        found.update(sio.get_untrusted_types(data=sio.dumps(prototype)))
    return tuple(sorted(found))


def load_model(artifact: Artifact, *, trusted_types: list[str] | None = None) -> Any:
    """Load the model in ``artifact`` without unpickling.

    ``"lightgbm-text"`` gives a ``lightgbm.Booster``; ``"skops"`` gives the scikit-learn
    object, refused if it holds any type outside ``trusted_types`` (default:
    ``default_trusted_types()``). Any other format raises ``ArtifactError("unsafe_format")``.
    """
    if artifact.format == "lightgbm-text":
        import lightgbm as lgb

        try:
            text = artifact.payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ArtifactError("unreadable", gettext("LightGBM model is not valid UTF-8 text")) from exc
        try:
            return lgb.Booster(model_str=text)
        except Exception as exc:  # LightGBM raises several types for bad text
            raise ArtifactError(
                "unreadable", gettext("LightGBM could not read the model: %(error)s") % {"error": exc}
            ) from exc
    if artifact.format == "skops":
        import skops.io as sio

        trusted = list(default_trusted_types() if trusted_types is None else trusted_types)
        try:
            untrusted = sio.get_untrusted_types(data=artifact.payload)
        except Exception as exc:  # zip/JSON errors surface as many types
            raise ArtifactError(
                "unreadable", gettext("skops file could not be read: %(error)s") % {"error": exc}
            ) from exc
        refused = sorted(set(untrusted) - set(trusted))
        if refused:
            raise ArtifactError(
                "unsafe_format",
                gettext("skops file contains types that are not trusted: %(types)s")
                % {"types": ", ".join(refused)},
            )
        try:
            return sio.loads(artifact.payload, trusted=trusted)
        except Exception as exc:
            raise ArtifactError(
                "unreadable", gettext("skops file could not be loaded: %(error)s") % {"error": exc}
            ) from exc
    loader = _LOADERS.get(artifact.format)
    if loader is not None:
        try:
            return loader.load(artifact.payload)
        except ValueError as exc:
            raise ArtifactError(
                "unreadable",
                gettext("%(name)s could not be read: %(error)s") % {"name": loader.name, "error": exc},
            ) from exc
    raise ArtifactError(
        "unsafe_format",
        gettext("model format %(format)s is not loadable") % {"format": repr(artifact.format)},
    )


def _looks_like_lightgbm_text(data: bytes) -> bool:
    head = data[:4096]
    return head.startswith(b"tree\n") and b"version=v" in head


def _is_skops_zip(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        # Reads the central directory only; nothing is decompressed.
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "schema.json" in zf.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def _is_zip_with_pickle(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return any(n.endswith((".pkl", "data.pkl")) for n in zf.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False


def detect_upload_format(data: bytes, filename: str) -> str:
    """Model format of an uploaded file: ``"lightgbm-text"`` or ``"skops"``.

    Pickle, joblib, cloudpickle and similar (by extension or by content) raise
    ``ArtifactError("unsafe_format")``; anything else unrecognised raises
    ``ArtifactError("unknown_format")``. The data is only inspected, never loaded.
    """
    name = os.path.basename(filename or "").lower()
    if name.endswith(_PICKLE_EXTENSIONS):
        raise ArtifactError(
            "unsafe_format",
            gettext(
                "pickle files are never loaded (they can run code); upload a "
                "LightGBM text model or a skops file"
            ),
        )
    if not data:
        raise ArtifactError("unknown_format", gettext("the uploaded file is empty"))
    # Pickle protocol 2+ starts with PROTO (0x80) and the protocol number; joblib.dump
    # without compression writes exactly that.
    if data[0] == 0x80 and len(data) > 1 and data[1] <= 5:
        raise ArtifactError(
            "unsafe_format",
            gettext(
                "pickle files are never loaded (they can run code); upload a "
                "LightGBM text model or a skops file"
            ),
        )
    if data.startswith(_COMPRESSED_PICKLE_MAGICS):
        raise ArtifactError(
            "unsafe_format",
            gettext(
                "compressed pickle/joblib files are never loaded; upload a "
                "LightGBM text model or a skops file"
            ),
        )
    if _looks_like_lightgbm_text(data):
        return "lightgbm-text"
    if _is_skops_zip(data):
        return "skops"
    if _is_zip_with_pickle(data):
        raise ArtifactError(
            "unsafe_format", gettext("archives holding pickles (e.g. torch files) are never loaded")
        )
    raise ArtifactError(
        "unknown_format", gettext("unrecognised model file; upload a LightGBM text model or a skops file")
    )


def load_upload(data: bytes, filename: str, *, trusted_types: list[str] | None = None) -> tuple[str, Any]:
    """Detect the format of an uploaded model file and load it safely; return ``(format, model)``."""
    fmt = detect_upload_format(data, filename)
    artifact = Artifact(format=fmt, payload=data, checksum=sha256(data), signature="", meta={})
    return fmt, load_model(artifact, trusted_types=trusted_types)
