"""How often a retrieval index answers a labelled question set right (no Django import).

Top-1 is counted among the questions answered as sure and over all questions; top-5 over
all questions (the guess and the next four candidates, sure or not). A question that holds
nothing to look up counts as not sure. Failures list a wrong sure answer first, then a
right code missing from the top 5, then a right guess given as not sure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .retrieval import EmptyQuestionError, RetrievalIndex

MAX_FAILURES = 200
TOP_K = 5

_FAILURE_ORDER = {"wrong": 0, "missed": 1, "not_sure": 2}


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def shown(value: float | None) -> str:
    """A share as a percentage for logs and messages; "n/a" when nothing was counted."""
    return "n/a" if value is None else f"{value:.2%}"


def accuracy(
    index: RetrievalIndex,
    questions: Sequence[str],
    expected: Sequence[str],
    *,
    threshold: float,
    keep_failures: int = MAX_FAILURES,
    every: int = 500,
    tick: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Ask every question and compare with its expected bank code.

    ``threshold`` is the confidence at or above which an answer counts as sure;
    ``tick(done)`` is called every ``every`` questions (progress, cancellation).
    """
    n = len(questions)
    answered = right_sure = right_any = right5 = empty = 0
    failures: list[dict[str, Any]] = []
    for i, (question, want) in enumerate(zip(questions, expected, strict=True)):
        if tick is not None and i and i % every == 0:
            tick(i)
        try:
            answer = index.ask(question, k=TOP_K)
        except EmptyQuestionError:
            empty += 1
            failures.append({"kind": "not_sure", "question": question, "expected": want, "got": None})
            continue
        sure = answer.confidence >= threshold
        right = answer.bank_code == want
        answered += sure
        right_sure += sure and right
        right_any += right
        in_top5 = want in answer.codes(TOP_K)
        right5 += in_top5
        kind = "wrong" if sure and not right else "missed" if not in_top5 else "not_sure" if not sure else ""
        if kind:
            failures.append(
                {
                    "kind": kind,
                    "question": question,
                    "expected": want,
                    "got": answer.bank_code,
                    "got_name": answer.bank_name,
                    "confidence": round(answer.confidence, 4),
                    "candidates": answer.codes(TOP_K)[1:],
                }
            )
    failures.sort(key=lambda f: _FAILURE_ORDER[f["kind"]])
    return {
        "questions": n,
        "answered": answered,
        "empty_questions": empty,
        "top1": share(right_sure, answered),
        "top1_all": share(right_any, n),
        "top5": share(right5, n),
        "not_sure": share(n - answered, n),
        "wrong_sure": answered - right_sure,
        "threshold": threshold,
        "failures_total": len(failures),
        "failures": failures[:keep_failures],
    }
