"""What a question gets back: Answer, Candidate, EmptyQuestionError, and the confidence
of an n-gram answer (CONFIDENCE_*, SURE_THRESHOLD).

Definitions are in the package docstring (apps.qa.retrieval). Pure module: no Django import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

# Confidence = 1 / (1 + exp(-(A * best + C * margin + B))), from bench_qa.py --calibrate.
CONFIDENCE_A = 7.36
CONFIDENCE_B = -4.32
CONFIDENCE_C = 46.21
SURE_THRESHOLD = 0.87  # confidence at or above which an answer is given as sure

# --- answers -----------------------------------------------------------------------------

MatchedBy = Literal["code", "exact", "ngram", "none"]


@dataclass(frozen=True)
class Candidate:
    """A record offered as a possible answer; ``score`` is its similarity in [0, 1]."""

    bank_name: str
    bank_code: str
    clearing_code: str
    score: float


@dataclass(frozen=True)
class Answer:
    """The answer to a question.

    ``bank_name``/``bank_code``/``clearing_code`` are the best guess (None when no record
    came close, ``matched_by="none"``) and ``score`` its similarity (1 for a code or exact
    match); ``confidence`` is the probability that it is right. When ``sure`` is False the guess must not be
    presented as the answer: show ``candidates`` (the next best records, best first, the
    guess excluded) with it. ``question`` is what was looked up: the code, or the
    normalised question with its wrappers stripped and aliases expanded.
    """

    question: str
    bank_name: str | None
    bank_code: str | None
    clearing_code: str | None
    score: float
    confidence: float
    sure: bool
    matched_by: MatchedBy
    candidates: list[Candidate] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every field, a tenth of an answer's time.
        out = dict(self.__dict__)
        out["candidates"] = [dict(c.__dict__) for c in self.candidates]
        return out

    def codes(self, k: int) -> list[str]:
        """The bank codes of the guess and the candidates, at most ``k``."""
        head = [self.bank_code] if self.bank_code else []
        return (head + [c.bank_code for c in self.candidates])[:k]


class EmptyQuestionError(ValueError):
    """The question holds no bank name or code once wrappers and punctuation are gone."""


def confidence(best: float, margin: float) -> float:
    """The estimated probability that an n-gram answer is right (see the module docstring)."""
    z = CONFIDENCE_A * best + CONFIDENCE_C * margin + CONFIDENCE_B
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
