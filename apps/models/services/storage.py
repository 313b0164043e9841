"""Artifact storage: sign a model's bytes and store them, load a version's model back verified."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext

from .. import artifacts
from ..errors import ArtifactError
from ..models import ModelVersion
from ..training import TrainingResult


def artifact_key() -> bytes:
    """The HMAC key artifacts are signed with: OMM_ARTIFACT_KEY, else one derived from SECRET_KEY."""
    if settings.OMM_ARTIFACT_KEY:
        return settings.OMM_ARTIFACT_KEY.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"omm-model-artifacts", hashlib.sha256).digest()


@dataclass(frozen=True)
class StoredArtifact:
    name: str
    format: str
    checksum: str
    signature: str
    size: int


def artifact_store_bytes(*, model_bytes: bytes, fmt: str, meta: dict) -> StoredArtifact:
    """Sign a model's bytes and write them under a server-chosen name (outside any transaction)."""
    blob = artifacts.pack(model_bytes, fmt, key=artifact_key(), meta=meta)
    header = artifacts.unpack(blob, key=artifact_key())
    name = default_storage.save(f"models/{uuid.uuid4().hex}.omm", ContentFile(blob))
    return StoredArtifact(name, header.format, header.checksum, header.signature, len(blob))


def artifact_store(*, result: TrainingResult) -> StoredArtifact:
    return artifact_store_bytes(model_bytes=result.model_bytes, fmt=result.model_format, meta=result.meta)


def artifact_discard(*, stored: StoredArtifact) -> None:
    default_storage.delete(stored.name)


def version_load(*, version: ModelVersion) -> tuple[artifacts.Artifact, Any]:
    """Read, verify (checksum and signature) and load a version's model; raises ArtifactError."""
    with version.artifact.open("rb") as fh:
        blob = fh.read()
    artifact = artifacts.unpack(blob, key=artifact_key())
    if artifact.checksum != version.checksum:
        raise ArtifactError("checksum_mismatch", gettext("artifact does not match the registered checksum"))
    return artifact, artifacts.load_model(artifact)
