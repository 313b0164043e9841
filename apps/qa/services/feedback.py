"""Sessions, feedback on answers, and corrections (answers marked wrong with the right code)
exported as a question set a QA evaluation can run on."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from django.core.files.base import ContentFile
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.csvsafe import cell
from apps.datasets.models import DatasetKind, DatasetVersion
from apps.datasets.services import dataset_upload

from ..errors import FeedbackInvalid, NoCorrections
from ..models import Feedback, QAHistory, QASession
from ..selectors import corrections

CORRECTION_COLUMNS = ("question", "expected_code", "answered_code", "history_id")


def session_create(*, user, title: str = "") -> QASession:
    return QASession.objects.create(user=user, title=(title or "").strip()[:200])


def feedback_give(*, entry: QAHistory, value: Any, correct_code: Any = "") -> QAHistory:
    """Mark an answer right (+1) or wrong (-1), optionally with the right 12-digit code.

    Feedback may be changed; the newest counts. The caller checks the entry is the user's.
    """
    errors: dict[str, list[str]] = {}
    if isinstance(value, bool) or value not in (Feedback.RIGHT, Feedback.WRONG):
        errors["value"] = [_("Feedback is 1 (right) or -1 (wrong); got %(value)r.") % {"value": value}]
    code = correct_code.strip() if isinstance(correct_code, str) else correct_code
    if code in (None, ""):
        code = ""
    elif not isinstance(code, str) or not re.fullmatch(r"[0-9]{12}", code):
        errors["correct_code"] = [_("A correct code is the 12-digit bank code.")]
    elif value == Feedback.RIGHT and code != entry.bank_code:
        errors["correct_code"] = [_("A correct code goes with feedback -1 (the answer was wrong).")]
    if errors:
        raise FeedbackInvalid(errors)
    entry.feedback = value
    entry.correct_code = code if value == Feedback.WRONG else ""
    entry.feedback_at = timezone.now()
    entry.save(update_fields=["feedback", "correct_code", "feedback_at"])
    return entry


def corrections_csv(*, entries: QuerySet[QAHistory]) -> bytes:
    """Wrong answers with a correct code, as a labelled question set (UTF-8 CSV)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CORRECTION_COLUMNS)
    for e in corrections(entries).order_by("pk"):
        # The code columns are digits; a question is text a user typed: neutralised.
        writer.writerow([cell(e.question), e.correct_code, e.bank_code, e.pk])
    return out.getvalue().encode("utf-8")


def corrections_export(
    *, entries: QuerySet[QAHistory], user, dataset_name: str = "qa-corrections"
) -> tuple[DatasetVersion, bool]:
    """Store the corrections among ``entries`` as a new version of a tabular dataset that a
    QA evaluation can run on (question, expected_code); returns (version, created): the
    same corrections again give the version already stored. Raises NoCorrections when none."""
    body = corrections_csv(entries=entries)
    if body.count(b"\n") <= 1:
        raise NoCorrections(_("None of these answers was marked wrong with a correct code."))
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return dataset_upload(
        name=dataset_name,
        kind=DatasetKind.TABULAR,
        file=ContentFile(body, name=f"qa-corrections-{stamp}.csv"),
        original_name=f"qa-corrections-{stamp}.csv",
        user=user,
        description=_("Questions answered wrong, with the code users gave as right."),
    )
