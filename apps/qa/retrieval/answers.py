"""What a question gets back: Answer, Candidate, EmptyQuestionError, and the confidence
of an n-gram answer (CONFIDENCE_*, SURE_THRESHOLD).

Definitions are in the package docstring (apps.qa.retrieval). Pure module: no Django import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

# Confidence = 1 / (1 + exp(-(A * best + C * margin + B))), from bench_qa.py --calibrate
# (records in Chinese characters) and bench_qa_registers.py --calibrate (records in other
# scripts: their scores spread differently, so they get their own fit).
CONFIDENCE_A = 7.36
CONFIDENCE_B = -4.32
CONFIDENCE_C = 46.21
CONFIDENCE_OTHER_A = 9.05  # fitted on seed 2 of bench_qa_registers.py (schwifty + NZ registers)
CONFIDENCE_OTHER_B = -4.99
CONFIDENCE_OTHER_C = 21.02
SURE_THRESHOLD = 0.87  # confidence at or above which an answer is given as sure
# Confidence at most, whatever the scores, when the question names another bank than the
# answer's: a sure answer never names the wrong bank (for any threshold above this).
BANK_CONFLICT_CONFIDENCE = 0.2

# --- answers -----------------------------------------------------------------------------

MatchedBy = Literal["code", "exact", "ngram", "none"]
Asked = Literal["bank_code", "clearing_code", "bic"]


@dataclass(frozen=True)
class Candidate:
    """A record offered as a possible answer; ``score`` is its similarity in [0, 1]."""

    bank_name: str
    bank_code: str
    clearing_code: str
    score: float
    bic: str = ""


@dataclass(frozen=True)
class Answer:
    """The answer to a question.

    ``bank_name``/``bank_code``/``clearing_code`` are the best guess (None when no record
    came close, ``matched_by="none"``) and ``score`` its similarity (1 for a code or exact
    match); ``confidence`` is the probability that it is right. When ``sure`` is False the guess must not be
    presented as the answer: show ``candidates`` (the next best records, best first, the
    guess excluded) with it. ``question`` is what was looked up: the code, or the
    normalised question with its wrappers stripped and aliases expanded. ``asked`` is the
    field the question asks for (the BIC, the clearing code, or by default the bank code;
    the bank code when the record has no value in the field asked); ``bic`` the record's
    BIC ("" when its register has none).
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
    bic: str | None = None
    asked: Asked = "bank_code"

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


def confidence(best: float, margin: float, cjk: bool = True) -> float:
    """The estimated probability that an n-gram answer is right (see the module docstring);
    ``cjk``: whether the answer's record is named in Chinese characters."""
    if cjk:
        z = CONFIDENCE_A * best + CONFIDENCE_C * margin + CONFIDENCE_B
    else:
        z = CONFIDENCE_OTHER_A * best + CONFIDENCE_OTHER_C * margin + CONFIDENCE_OTHER_B
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
