"""Codes of any scheme: the key a code is looked up by, and the codes a question may hold.

A record carries a bank_code (CNAPS 12 digits, or a national code: BLZ, sort code, bank
number … as its register writes it), a clearing_code (may be empty) and a BIC (may be
empty). Each is looked up by its *key*: letters and digits only, upper case, so "01-0001",
"01 0001" and "010001" are one code. A BIC's key is its 8-character form when its branch
part is empty or XXX (the head office), as ISO 9362 lets a BIC8 stand for BIC11 + XXX.

In a question, candidates for a code are tried in this order: words of letters and
digits, alone or two or three neighbouring words joined ("DEUT DE FF"), then the digit
runs of the compact question (separators gone: "1021 0000 0029") and of its words (not
those inside a BIC: the 102 of RZSTAT2G102 is a branch). A
word of letters only is tried as a BIC when it has a BIC's shape (ISO 9362: 4 letters,
2 letters, 2 letters or digits, optionally 3 more), and as a bank code only when it is all
the question holds (a question "ABNA" is a code; "ABNA bank" is not).

Pure module: no Django import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

MAX_CODE_CHARS = 50  # as DatasetRecord stores a code
CNAPS_RE = re.compile(r"[0-9]{12}")
LONG_DIGITS = 8  # an unknown run of this many digits is taken for a code, not a name part
_DIGITS = re.compile(r"[0-9]+")
_BIC_SHAPE = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def code_key(code: str) -> str:
    """The key a code is looked up by: ASCII letters and digits, upper case."""
    return _NOT_ALNUM.sub("", code).upper()


def bic_key(bic: str) -> str:
    """A BIC's key: 8 characters for a head office (no branch part, or XXX), else 11."""
    key = code_key(bic)
    return key[:8] if len(key) == 11 and key.endswith("XXX") else key


def is_bic(word: str) -> bool:
    return _BIC_SHAPE.fullmatch(word.upper()) is not None


def question_codes(compact: str, words: list[str], unwrapped: list[str]) -> Iterator[tuple[str, str]]:
    """(key, kind) for each candidate code of a question, in the order they are tried.

    ``kind`` is "digits" (try every field), "word" (letters and digits: every field),
    "bic" (a BIC shape: BIC keys only) or "alone" (letters only, the whole question: every
    field). ``compact`` is the compact question, ``words`` its folded words, ``unwrapped``
    those left once its wrappers are stripped.
    """
    seen: set[str] = set()
    # A code cut by a space or hyphen (DEUT DE FF, 01-0011AB): neighbouring words joined too.
    spans = [words[i : i + j] for j in (2, 3) for i in range(len(words) - j + 1)]
    # A word of digits alone is no BIC's branch part: "is 00298" is not the BIC BANKIS00298.
    own = {"".join(span) for span in spans if not any(w.isdigit() for w in span)}
    bics = set()
    for word in (*words, *("".join(span) for span in spans)):
        if not word.isascii() or not word.isalnum():
            continue
        key = word.upper()
        if key in seen:
            continue
        if is_bic(key) and (word in words or word in own):
            bics.add(key)
        if any(ch.isdigit() for ch in key) and any(ch.isalpha() for ch in key):
            seen.add(key)
            yield (bic_key(key) if is_bic(key) else key), "word"
        elif is_bic(key):
            seen.add(key)
            yield bic_key(key), "bic"
    # Digits inside a BIC (RZSTAT2G102) are its branch, not a code of their own.
    inside = {run for bic in bics for run in _DIGITS.findall(bic)}
    for run in (*_DIGITS.findall(compact), *(r for w in words for r in _DIGITS.findall(w))):
        if len(run) >= 3 and run not in seen and run not in inside:
            seen.add(run)
            yield run, "digits"
    alone = unwrapped[0] if len(unwrapped) == 1 else ""
    if alone.isascii() and alone.isalpha() and alone.upper() not in seen:
        yield alone.upper(), "alone"


def check_record_codes(codes: list[str], clearing: list[str], bics: list[str], schemes: list[str]) -> None:
    """Refuse records whose codes the index cannot hold; records without any scheme are CNAPS
    records, as before schemes (12-digit codes)."""
    legacy = not any(schemes)
    for code, clear, bic, scheme in zip(codes, clearing, bics, schemes, strict=True):
        if legacy or scheme.lower() == "cnaps":
            for value in (code, clear) if legacy else (code, *([clear] if clear else [])):
                if not CNAPS_RE.fullmatch(value):
                    raise ValueError(f"bank_code and clearing_code must be 12 digits, got {value[:40]!r}")
        elif not code_key(code):
            raise ValueError(f"a {scheme} record needs a bank_code, got {code[:40]!r}")
        for value in (code, clear, bic):
            if len(value) > MAX_CODE_CHARS:
                raise ValueError(f"codes are at most {MAX_CODE_CHARS} characters, got {value[:40]!r}…")


def as_typed(
    rows: list[int], codes_of: Callable[[int], Iterable[Any]], said: list[str]
) -> tuple[list[int], float]:
    """Records sharing one code key (ANCOCY2NXXX and ANCOCY2N are one BIC) and the confidence
    of the first: the one whose code is written exactly as in the question first and sure;
    else in record order, each one of n."""
    typed = {w.upper() for w in said}
    exact = [i for i in rows if {str(c).upper() for c in codes_of(i)} & typed]
    if len(rows) > 1 and len(exact) == 1:
        return [exact[0], *(i for i in rows if i != exact[0])], 1.0
    return rows, 1 / len(rows)
