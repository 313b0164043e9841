# ruff: noqa: RUF001 - wrappers in Cyrillic and Greek are part of the noise
"""Noisy questions about the records of a register in any script (bank names in Latin with
diacritics, Cyrillic, Greek), for evaluating the QA model on registers it did not make.

:func:`generate_register_questions` draws records at random (seeded) and writes a question
the way people type them, with the record's codes as the expected answer. The parameters
below were fixed before any result was seen; they are not tuned on results.

Noise, each applied with its own probability (``NOISE``), several per question:

- code: the question is the record's bank_code (spaces or hyphens inside, sometimes) or,
  for a share, its BIC (lower case, sometimes), alone or in a wrapper;
- bank: a well-known alias for the bank (``DEFAULT_ALIASES``: Deutsche Bank -> DB);
- legal forms dropped (AG, S.A., a.s. …: ``retrieval.legal_forms``), case changed (lower,
  upper, title), diacritics dropped (Komerční -> Komercni), two neighbouring words
  swapped, a word dropped from a name of three words or more;
- typos inside words of four letters or more: two letters swapped, one dropped, one
  doubled, one replaced by a neighbouring key (QWERTY rows, for Latin letters) or by
  another letter of the name's script (``TYPOS``);
- wrappers in English or the register's language (``WRAPPERS``), asking for the bank
  code or, for a share, the BIC (the question then expects ``asked="bic"``).

Rules that keep the set honest (no system could answer such a question right, so its
label would be a coin toss), as in apps/qa/questions.py:

- a code (bank code or BIC) that several records carry gives no question;
- a record whose name (normal form) another record shares gets no name questions in the
  set: they go to ``ambiguous`` instead, where the right answer is "not sure" with the
  records of that name as candidates;
- a noisy name that equals another record's name (normal form) is drawn again;
- a noisy name (typos, a dropped word) at least as close by optimal string alignment
  distance to another record's normal form as to its own is drawn again.

Pure module: no Django import.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import numpy as np

from .questions import Question, generate_questions
from .retrieval import DEFAULT_ALIASES, normalise, read_records
from .retrieval.codes import bic_key, code_key
from .retrieval.distance import osa_distances_points
from .retrieval.legal_forms import folded_words, forms
from .retrieval.records import read_optional

NOISE: dict[str, float] = {
    "code": 0.10,  # the question is a code
    "code_bic": 0.40,  # share of code questions that give the BIC (records with one)
    "code_written": 0.30,  # a code written with spaces / hyphens, or a BIC in lower case
    "alias": 0.50,  # an alias for the bank, where the table has one
    "drop_legal": 0.60,
    "case": 0.40,
    "diacritics": 0.30,
    "typo": 0.20,
    "second_typo": 0.05,
    "word_order": 0.08,
    "drop_word": 0.05,
    "wrapper": 0.60,
    "ask_bic": 0.30,  # share of wrappers asking for the BIC (records with one)
    "local_wrapper": 0.50,  # share of wrappers in the register's language (else English)
}
_CJK = re.compile("[\u3400-\u9fff]")
TYPOS = {"swap": 0.25, "drop": 0.25, "double": 0.15, "key": 0.20, "any": 0.15}

_QWERTY = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _row_i, _row in enumerate(_QWERTY):
    for _i, _ch in enumerate(_row):
        near = _row[max(0, _i - 1) : _i] + _row[_i + 1 : _i + 2]
        _NEIGHBOURS[_ch] = near

# Wrappers: (language, asks for the BIC) -> templates.
WRAPPERS: dict[tuple[str, bool], tuple[str, ...]] = {
    ("en", False): (
        "what is the code of {q}",
        "{q} bank code",
        "bank code of {q}",
        "{q} branch number",
        "What is the bank code for {q}?",
        "{q}?",
        "code for {q} please",
    ),
    ("en", True): ("what is the BIC of {q}", "SWIFT code for {q}", "{q} BIC", "What's {q}'s SWIFT code?"),
    ("de", False): ("BLZ der {q}", "Bankleitzahl von {q}", "Wie lautet die BLZ der {q}?", "{q} BLZ"),
    ("de", True): ("BIC der {q}", "Wie lautet der BIC von {q}?"),
    ("fr", False): ("code banque de {q}", "Quel est le code banque de {q} ?"),
    ("fr", True): ("code BIC de {q}", "Quel est le code SWIFT de {q} ?"),
    ("es", False): ("código del banco {q}", "¿Cuál es el código de entidad de {q}?"),
    ("es", True): ("código SWIFT de {q}", "¿Cuál es el BIC de {q}?"),
    ("it", False): ("codice ABI di {q}", "qual è il codice ABI di {q}?"),
    ("it", True): ("codice BIC di {q}",),
    ("nl", False): ("bankcode van {q}", "wat is de bankcode van {q}"),
    ("nl", True): ("BIC van {q}",),
    ("pl", False): ("numer rozliczeniowy {q}", "jaki jest numer banku {q}?"),
    ("pl", True): ("kod SWIFT {q}",),
    ("cs", False): ("kód banky {q}", "jaký je kód banky {q}?"),
    ("cs", True): ("SWIFT kód {q}",),
    ("ru", False): ("БИК {q}", "какой код банка {q}?", "код банка {q}"),
    ("ru", True): ("SWIFT код {q}",),
    ("uk", False): ("МФО {q}", "який код банку {q}?"),
    ("uk", True): ("SWIFT код {q}",),
    ("el", False): ("κωδικός τράπεζας {q}", "ποιος είναι ο κωδικός της {q};"),
    ("el", True): ("κωδικός SWIFT {q}",),
}
LANGUAGES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("DE", "AT", "LI"), ("de",)),
    "CH": ("de", "fr", "it"),
    "LU": ("fr", "de"),
    "BE": ("fr", "nl"),
    **dict.fromkeys(("FR", "MC"), ("fr",)),
    **dict.fromkeys(("ES", "CR"), ("es",)),
    **dict.fromkeys(("IT", "SM"), ("it",)),
    "NL": ("nl",),
    "PL": ("pl",),
    **dict.fromkeys(("CZ", "SK"), ("cs",)),
    **dict.fromkeys(("KZ", "RU", "BY"), ("ru",)),
    "UA": ("uk", "ru"),
    **dict.fromkeys(("GR", "CY"), ("el",)),
}


def _words(name: str) -> list[str]:
    return name.split()


def _strip_marks(text: str) -> str:
    nfd = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in nfd if not ("\u0300" <= ch <= "\u036f")))


def _drop_legal(name: str) -> str:
    """``name`` without the words that are legal forms (as the normal form drops them)."""
    out, table = [], forms()
    for word in name.replace(",", " ").split():
        folded = folded_words(word)
        if folded and tuple(folded) in table.by_first.get(folded[0], []):
            continue
        out.append(word)
    return " ".join(out) if out else name


def _typo(name: str, rng: random.Random) -> tuple[str, str]:
    spots = list(re.finditer(r"\w{4,}", name))
    if not spots:
        return name, "none"
    word = rng.choice(spots)
    i = rng.randrange(word.start(), word.end())
    kind = rng.choices(list(TYPOS), weights=list(TYPOS.values()))[0]
    ch = name[i]
    if kind == "swap" and i + 1 < word.end():
        return name[:i] + name[i + 1] + ch + name[i + 2 :], kind
    if kind == "drop":
        return name[:i] + name[i + 1 :], kind
    if kind == "double":
        return name[:i] + ch + name[i:], kind
    if kind == "key" and ch.lower() in _NEIGHBOURS:
        new = rng.choice(_NEIGHBOURS[ch.lower()])
        return name[:i] + (new.upper() if ch.isupper() else new) + name[i + 1 :], kind
    letters = sorted({c for c in name.lower() if c.isalpha() and c != ch.lower()})
    return name[:i] + rng.choice(letters) + name[i + 1 :], "any"


def _code_text(code: str, rng: random.Random) -> str:
    if len(code) >= 6 and code.isalnum() and rng.random() < 0.5:
        cut = len(code) // 2
        return code[:cut] + rng.choice((" ", "-")) + code[cut:]
    return code.lower() if not code.isdigit() else " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def questions_for(
    records: Any, n: int, *, seed: int = 0, aliases: Mapping[str, str] | None = None
) -> list[Question]:
    """``n`` noisy questions about ``records``: the Chinese generator (apps/qa/questions.py)
    when most names are in Chinese characters, else :func:`generate_register_questions`."""
    names = read_records(records)[0]
    cjk = sum(1 for name in names if _CJK.search(name))
    if names and cjk * 2 >= len(names):
        return generate_questions(records, n, seed=seed, aliases=aliases)
    return generate_register_questions(records, n, seed=seed, aliases=aliases).questions


class RegisterQuestions:
    """The questions of one draw: ``questions`` (the set), ``ambiguous`` (name questions
    about records whose name others share) and ``redrawn`` (draws thrown away, by rule)."""

    def __init__(self) -> None:
        self.questions: list[Question] = []
        self.ambiguous: list[Question] = []
        self.redrawn: dict[str, int] = {}


def generate_register_questions(
    records: Any,
    n: int,
    *,
    seed: int = 0,
    aliases: Mapping[str, str] | None = None,
    ambiguous: int = 0,
) -> RegisterQuestions:
    """``n`` noisy questions (and up to ``ambiguous`` about shared names) about ``records``."""
    names, codes, clearing = read_records(records)
    extra = read_optional(records, len(names))
    normal = [normalise(name) for name in names]
    rows = [i for i, t in enumerate(normal) if t]
    if not rows and n > 0:
        raise ValueError("no record has a name")
    sharing: dict[str, set[int]] = {}
    for i in rows:
        sharing.setdefault(normal[i], set()).add(i)
    # Codes several records carry (a national code in two countries' registers, a BIC for
    # several bank codes) name no one record: no question gives them.
    code_count: dict[str, int] = {}
    for i in rows:
        for key in {code_key(codes[i]), "bic:" + bic_key(extra["bic"][i])} - {"bic:"}:
            code_count[key] = code_count.get(key, 0) + 1
    table = DEFAULT_ALIASES if aliases is None else aliases
    by_full: dict[str, list[str]] = {}
    for short, full in table.items():
        by_full.setdefault(normalise(full), []).append(short)
    fulls = sorted(by_full, key=len, reverse=True)
    near = _Near(normal, rows)
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    out = RegisterQuestions()
    shared_rows = [i for i in rows if len(sharing[normal[i]]) > 1]
    unique_rows = [i for i in rows if len(sharing[normal[i]]) == 1]
    for _ in range(ambiguous if shared_rows else 0):
        i = rng.choice(shared_rows)
        for _attempt in range(20):
            text, noise, typed = _name_question(names[i], extra["country"][i], "", fulls, by_full, rng)
            if near.rule(normalise(typed), i) is None:
                break
        out.ambiguous.append(Question(text, codes[i], clearing[i], "+".join(noise) or "clean"))
    for _ in range(n):
        i = rows[rng.randrange(len(rows))]
        bic = extra["bic"][i]
        own_code = code_count[code_key(codes[i])] == 1
        own_bic = bool(bic) and code_count["bic:" + bic_key(bic)] == 1
        if (rng.random() < NOISE["code"] or not unique_rows) and (own_code or own_bic):
            use_bic = own_bic and (rng.random() < NOISE["code_bic"] or not own_code)
            code = bic if use_bic else codes[i]
            if rng.random() < NOISE["code_written"]:
                code = _code_text(code, rng)
            if rng.random() < 0.3:
                code = rng.choice(("what bank is {c}?", "{c} bank name", "code {c}")).format(c=code)
            out.questions.append(Question(code, codes[i], clearing[i], "code:bic" if use_bic else "code"))
            continue
        if len(sharing[normal[i]]) > 1:  # its name tells it from no other: ask about another
            i = unique_rows[rng.randrange(len(unique_rows))]
            bic = extra["bic"][i]
        for _attempt in range(20):
            text, noise, typed = _name_question(names[i], extra["country"][i], bic, fulls, by_full, rng)
            rule = near.rule(normalise(typed), i)
            if rule is None:
                break
            out.redrawn[rule] = out.redrawn.get(rule, 0) + 1
        asked = "bic" if "ask_bic" in noise else "bank_code"
        out.questions.append(Question(text, codes[i], clearing[i], "+".join(noise) or "clean", asked))
    return out


class _Near:
    """The records' normal forms as padded code points, for the honesty rules."""

    def __init__(self, normal: list[str], rows: list[int]) -> None:
        self.normal = normal
        self.known = {normal[r] for r in rows}
        group: dict[str, int] = {}
        self.group = np.array([group.setdefault(normal[r], len(group)) for r in rows], dtype=np.int64)
        self.group_of = group
        self.lengths = np.array([len(normal[r]) for r in rows], dtype=np.int64)
        self.points = np.full((len(rows), int(self.lengths.max(initial=1))), -1, dtype=np.int64)
        for at, r in enumerate(rows):
            self.points[at, : len(normal[r])] = [ord(ch) for ch in normal[r]]

    def rule(self, key: str, own: int) -> str | None:
        """Which honesty rule throws the draw away, if any (module docstring)."""
        mine = self.normal[own]
        if key == mine:
            return None
        if key in self.known:
            return "same_name"
        own_points = np.array([[ord(ch) for ch in mine]], dtype=np.int64)
        mine_distance = int(osa_distances_points(key, own_points, np.array([len(mine)]))[0])
        # Only names within that many edits in length can be as close.
        close = np.abs(self.lengths - len(key)) <= mine_distance
        others = close & (self.group != self.group_of[mine])
        if not others.any():
            return None
        distances = osa_distances_points(key, self.points[others], self.lengths[others])
        return "as_close" if distances.min() <= mine_distance else None


def _name_question(
    name: str, country: str, bic: str, fulls: list[str], by_full: dict[str, list[str]], rng: random.Random
) -> tuple[str, list[str], str]:
    """A noisy question about ``name``, the noise applied, and the name as typed (no wrapper)."""
    noise: list[str] = []
    text = name
    if rng.random() < NOISE["drop_legal"]:
        dropped = _drop_legal(text)
        if dropped != text:
            text = dropped
            noise.append("drop_legal")
    if rng.random() < NOISE["typo"]:
        text, kind = _typo(text, rng)
        noise.append(f"typo:{kind}")
        if rng.random() < NOISE["second_typo"]:
            text, kind = _typo(text, rng)
            noise.append(f"typo2:{kind}")
    words = _words(text)
    if len(words) >= 2 and rng.random() < NOISE["word_order"]:
        j = rng.randrange(len(words) - 1)
        words[j], words[j + 1] = words[j + 1], words[j]
        noise.append("word_order")
    if len(words) >= 3 and rng.random() < NOISE["drop_word"]:
        del words[rng.randrange(1, len(words))]
        noise.append("drop_word")
    text = typed = " ".join(words)
    key = normalise(text)
    full = next((f for f in fulls if key.startswith(f)), "")
    if full and rng.random() < NOISE["alias"]:
        # The alias replaces the words that spell the bank's name.
        for cut in range(1, len(words) + 1):
            if normalise(" ".join(words[:cut])) == full:
                text = " ".join([rng.choice(by_full[full]), *words[cut:]])
                noise.append("alias")
                break
    if rng.random() < NOISE["diacritics"]:
        plain = _strip_marks(text)
        if plain != text:
            text = plain
            noise.append("diacritics")
    if rng.random() < NOISE["case"]:
        text = rng.choice((str.lower, str.upper, str.title))(text)
        noise.append("case")
    if rng.random() < NOISE["wrapper"]:
        ask_bic = bool(bic) and rng.random() < NOISE["ask_bic"]
        local = LANGUAGES.get(country.upper(), ())
        language = rng.choice(local) if local and rng.random() < NOISE["local_wrapper"] else "en"
        text = rng.choice(WRAPPERS[(language, ask_bic)]).format(q=text)
        noise.append(f"wrapper:{language}")
        if ask_bic:
            noise.append("ask_bic")
    return text, noise, typed
