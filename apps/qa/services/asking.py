"""Asking: the hot path. A question is cleaned, routed to the active version's index
(loaded once per process), answered through the Redis cache and kept as a history row.

``_indexes`` is this process's one loaded index; nothing else holds one.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.config import config_get_local
from apps.core.hotpath import cache_round_trip, cache_set_later, insert_unflushed
from apps.models import services as registry
from apps.models.errors import ArtifactError
from apps.models.models import ModelVersion

from .. import retrieval
from ..config import qa_model_name, sure_threshold
from ..errors import NoActiveVersion, QuestionInvalid
from ..models import QAHistory, QASession
from ..selectors import active_version_id

CACHE_PREFIX = "omm:qa:"
CACHE_VERSION = 1  # bump when the cached answer's shape changes
logger = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_indexes: dict[int, retrieval.RetrievalIndex] = {}
_load_lock = threading.Lock()


def loaded_index(*, version_id: int) -> retrieval.RetrievalIndex:
    """The verified index of a version, loaded once per process; the one it replaces is freed."""
    hit = _indexes.get(version_id)
    if hit is not None:
        return hit
    with _load_lock:  # one load per process even when threads ask at once
        hit = _indexes.get(version_id)
        if hit is not None:
            return hit
        version = ModelVersion.objects.get(pk=version_id)
        try:
            _stored, index = registry.version_load(version=version)  # checksum and signature checked here
        except (ArtifactError, OSError) as exc:
            raise NoActiveVersion(
                _("%(version)s cannot be loaded: %(error)s") % {"version": version, "error": exc}
            ) from None
        if not isinstance(index, retrieval.RetrievalIndex):
            raise NoActiveVersion(_("%(version)s is not a retrieval index.") % {"version": version})
        _indexes.clear()  # only the active version answers: keep one index in memory
        _indexes[version_id] = index
        return index


def warm_up() -> int | None:
    """Load the active version's index now (a web process starting), so that the first
    question does not wait for it; returns the version loaded, None when there is none or
    it cannot be loaded (asking will then say why)."""
    try:
        version_id = active_version_id()
        if version_id is not None:
            loaded_index(version_id=version_id).warm()
        return version_id
    except Exception:  # never stop a process from starting: the ask path reports the problem
        logger.warning("the QA index could not be loaded at start", exc_info=True)
        return None
    finally:
        connection.close()  # this thread's own connection


def clean_question(*, question: Any) -> str:
    """The question as asked, bounded and without control characters; raises QuestionInvalid."""
    if not isinstance(question, str):
        raise QuestionInvalid(_("The question must be text."))
    if len(question) > retrieval.MAX_RAW_CHARS:
        raise QuestionInvalid(
            _("The question is %(length)s characters long; ask in at most %(limit)s.")
            % {"length": f"{len(question):,}", "limit": f"{retrieval.MAX_RAW_CHARS:,}"}
        )
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", question)).strip()
    if not text:
        raise QuestionInvalid(_("The question is empty."))
    return text


def _cache_key(version_id: int, question: str) -> str:
    normal = retrieval.normalise(question)
    digest = hashlib.blake2b(normal.encode(), digest_size=16).hexdigest()
    return f"{CACHE_PREFIX}{CACHE_VERSION}:{version_id}:{digest}"


@dataclass
class Asked:
    """An answer as served: the answer's fields, the version, whether it came from the cache."""

    answer: dict[str, Any]
    version_id: int
    cached: bool


def answer(*, question: str) -> Asked:
    """Answer a cleaned question with the active version, through the Redis cache.

    Raises NoActiveVersion, or QuestionInvalid when nothing is left to look up.
    """
    version_id = active_version_id()
    if version_id is None:
        raise NoActiveVersion(
            _(
                "No version of the QA model %(name)r is active: train it on a bank-records "
                "dataset (/qa/) and promote a version."
            )
            % {"name": qa_model_name()}
        )
    key = _cache_key(version_id, question)
    hit = cache_round_trip(key)  # with the answers cached by earlier questions, one round trip
    if hit is None:
        try:
            found = loaded_index(version_id=version_id).ask(question, k=5)
        except retrieval.EmptyQuestionError:
            raise QuestionInvalid(
                _("The question names no bank or code once punctuation and wrappers are gone.")
            ) from None
        result = found.to_dict()
        ttl = int(config_get_local("qa-cache-seconds"))
        if ttl > 0:
            cache_set_later(key, result, ttl)  # serialised now: `sure` below is not
    else:
        result = hit
    # Decided on every ask, so a change of the setting applies to cached answers too.
    result["sure"] = result["confidence"] >= sure_threshold()
    return Asked(result, version_id, hit is not None)


def ask(*, user, question: Any, session: QASession | None = None) -> QAHistory:
    """Answer a question and keep it in the user's history (in ``session`` if given)."""
    started = time.perf_counter()
    text = clean_question(question=question)
    asked = answer(question=text)
    elapsed_ms = (time.perf_counter() - started) * 1000
    a = asked.answer
    entry = QAHistory(
        user_id=user.pk,  # a stateless token user (the fast path) is not a row
        session=session,
        model_version_id=asked.version_id,
        question=text,
        bank_name=a["bank_name"] or "",
        bank_code=a["bank_code"] or "",
        clearing_code=a["clearing_code"] or "",
        confidence=a["confidence"],
        sure=a["sure"],
        matched_by=a["matched_by"],
        candidates=a["candidates"],
        response_ms=round(elapsed_ms, 3),
        cached=asked.cached,
    )
    insert_unflushed(entry, name="omm_qa_history")  # a log of an answer given: no flush wait
    # Served with this answer, not kept in the history: the field asked for and the BIC.
    entry.asked, entry.bic = a.get("asked", "bank_code"), a.get("bic") or None
    if session is not None:
        fields = {"updated_at": timezone.now()}
        if not session.title:
            fields["title"] = text[:200]
        QASession.objects.filter(pk=session.pk).update(**fields)
    return entry
