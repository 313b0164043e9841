# ruff: noqa: RUF001 - bank names and wrappers in Cyrillic and Greek are the point
"""Question wrappers in words (English, German, French, Spanish, Italian, Polish, Czech,
Dutch, Russian, Ukrainian, Greek) and the field a question asks for.

These work on a question's folded words (:func:`legal_forms.folded_words`: case folded,
diacritics removed) joined by single spaces, so a wrapper only ever takes whole words:
"BLZ der Dessauer Bank" loses "blz der", never "des" from Dessauer. Chinese wrappers,
written without spaces, are the compact patterns of ``normalise.QUESTION_WRAPPERS``.

A question is stripped, at its start, of greetings, polite words, a question head (what
is, wie lautet, quel est …), an article, then code words (bank code, BLZ, BIC, код банка
…) and a connector after them (of, der, de la, del …); at its end, of code words (after a
possessive "s") and polite words. Nothing is stripped when nothing would be left.

Pure module: no Django import.
"""

from __future__ import annotations

import re
from typing import Literal

from .legal_forms import folded_words

Asked = Literal["bank_code", "clearing_code", "bic"]


def _any(*phrases: str) -> str:
    """An alternation of ``phrases`` as questions' words read (folded: какой -> какои)."""
    folded = {" ".join(folded_words(p)) for p in phrases}
    return "(?:" + "|".join(sorted((re.escape(p) for p in folded), key=len, reverse=True)) + ")"


_GREETING = _any(
    "hi", "hello", "hey", "hallo", "guten tag", "bonjour", "salut", "hola", "buenos dias", "buongiorno",
    "dzien dobry", "dobry den", "привет", "здравствуите", "добрыи день", "γεια", "γεια σασ",
)  # fmt: skip
_POLITE = _any(
    "please", "pls", "kindly", "bitte", "s il vous plait", "svp", "por favor", "per favore", "prosze",
    "prosim", "alstublieft", "пожалуиста", "будь ласка", "παρακαλω",
    "can you tell me", "could you tell me", "can you give me", "could you give me", "tell me", "give me",
)  # fmt: skip
_HEAD = _any(
    "what is", "what s", "whats", "what are", "which is", "which", "what bank is", "which bank is",
    "which bank has", "what bank has", "whose is", "whose code is", "who is", "find me", "find",
    "look up", "lookup",
    "search for", "search", "get me", "get", "show me", "show", "i need", "i want", "i am looking for",
    "wie lautet", "wie ist", "was ist", "welche ist", "welches ist", "wie heisst", "gib mir", "suche",
    "quel est", "quelle est", "c est quoi", "donne moi", "cual es", "que es", "dime", "dame", "busco",
    "qual e", "quale e", "dammi", "jaki jest", "podaj", "jaky je", "jake je", "wat is", "geef me",
    "какои", "какая", "какое", "каков", "скажите", "подскажите", "скажи", "наиди", "найти", "дайте",
    "який", "яка", "яке", "τι", "ποιοσ ειναι", "ποιο ειναι", "ποιοσ", "ποιο",
)  # fmt: skip
_ARTICLE = _any("the", "a", "an", "die", "der", "das", "le", "la", "les", "l", "el", "los", "las", "il", "lo",
                "het", "de", "ο", "η", "το")  # fmt: skip

# Code words by the field they ask for. БИК is Russia's national bank code, not a SWIFT BIC.
_BIC = _any(
    "bic", "swift", "swift code", "bic code", "swift bic", "bic swift", "swift bic code", "bic8", "bic11",
    "swift kod", "swift kod banky", "codigo swift", "codigo bic", "code swift", "code bic", "codice swift",
    "codice bic", "kod swift", "kod bic", "swift код", "код swift", "свифт", "свифт код",
    "κωδικοσ swift", "κωδικοσ bic",
)  # fmt: skip
_CLEARING = _any("clearing code", "clearing number", "clearing bank code", "clearing nummer", "clearing")
_BANK = _any(
    "code", "number", "no", "nr", "num", "id", "bank code", "bank number", "bank id", "bank identifier",
    "branch code", "branch number", "branch no", "sort code", "routing number", "routing code",
    "aba number", "aba routing number", "cnaps", "cnaps code", "cnaps number", "interbank code",
    "national code", "national bank code", "bank identification code", "bankcode", "bank nummer",
    "bank name", "name of the bank",
    "blz", "bankleitzahl", "bank leitzahl", "bc nummer", "code banque", "code bancaire",
    "code etablissement", "code de la banque", "codigo del banco", "codigo de banco", "codigo bancario",
    "codigo de entidad", "numero de banco", "numero de entidad", "codice abi", "codice banca", "abi",
    "numer rozliczeniowy", "numer banku", "kod banku", "kod banky", "kod banka", "cislo banky",
    "бик", "бик банка", "мфо", "мфо банку", "код банка", "код банку", "номер банка", "код",
    "κωδικοσ", "κωδικοσ τραπεζασ",
)  # fmt: skip
_CODE = f"(?:{_BIC}|{_CLEARING}|{_BANK})"
_CONNECTOR = _any(
    "of", "for", "at", "der", "des", "von", "vom", "fur", "bei", "de", "du", "d", "de la", "de l", "del",
    "da", "di", "della", "dello", "dei", "van", "voor", "banku", "banky", "у", "для", "банка", "банку",
    "τησ", "του",
)  # fmt: skip
_THANKS = _any("please", "pls", "thanks", "thank you", "bitte", "danke", "merci", "gracias", "grazie",
               "dziekuje", "dekuji", "спасибо", "дякую", "ευχαριστω")  # fmt: skip

_PREFIX = re.compile(
    rf"^(?:{_GREETING} )*(?:{_POLITE} )*(?:{_HEAD} )?"
    rf"(?:(?:{_ARTICLE} )?(?:{_CODE} )+(?:(?:is|ist|est|es|e|je) )?(?:{_CONNECTOR} )?)?"
)
_SUFFIX = re.compile(  # a possessive "s", not the last letter of "a. s.": (?<!\b\w)
    rf"(?:(?<!\b\w) s)?(?: {_ARTICLE})?(?: {_CODE})+(?: (?:is|ist|est|es))?(?: {_THANKS})*$"
    rf"| (?:{_THANKS})+$"
)

# Asked fields: a word that names the BIC or the clearing code anywhere in the question;
# bounded by anything but a Latin, Cyrillic or Greek letter (so 工行SWIFT码 counts).
_EDGE_BEFORE = r"(?<![^\W\u3400-\u9fff])"
_EDGE_AFTER = r"(?![^\W\u3400-\u9fff])"
_ASKS_BIC = re.compile(f"{_EDGE_BEFORE}(?:bic|bic8|bic11|swift|свифт){_EDGE_AFTER}")
_ASKS_CLEARING = re.compile(f"清算|{_EDGE_BEFORE}clearing{_EDGE_AFTER}")


def _span(spaced: str) -> tuple[int, int]:
    head = _PREFIX.match(spaced)
    start = head.end() if head else 0
    tail = _SUFFIX.search(spaced, start)
    return start, tail.start() if tail and tail.start() > start else len(spaced)


def strip_word_wrappers(spaced: str) -> str:
    """``spaced`` (folded words joined by single spaces) without its wrappers; unchanged
    when they are all there is (then the compact wrappers get a say)."""
    start, end = _span(spaced)
    if start >= end:
        return spaced
    return spaced[start:end].strip()


def longer_readings(spaced: str) -> list[tuple[str, str]]:
    """The question read with fewer of its last words taken for a wrapper, longest first:
    (what is looked up, what is left of the question). Words such as "clearing", "the" or
    "a" end some names ("Westpac Palmerston North Clearing Centre", "Saudi British Bank,
    The", "Westpac Transaction Banking 11(A)"): a name written in full is found so."""
    start, end = _span(spaced)
    if start >= end:
        return []
    out = []
    for cut in range(len(spaced), end, -1):
        if spaced[cut - 1] != " " and (cut == len(spaced) or spaced[cut] == " "):
            out.append((spaced[start:cut].strip(), spaced[:start] + spaced[cut:]))
    return out


def asked_field(spaced: str) -> Asked:
    """The field a question asks for: the BIC, the clearing code, or (by default) the bank code."""
    if _ASKS_BIC.search(spaced):
        return "bic"
    if _ASKS_CLEARING.search(spaced):
        return "clearing_code"
    return "bank_code"
