"""Bank codes as registers publish them: which scheme a code is written in, and whether it
can be used.

Three schemes:

- ``cnaps``: China's payment-system participant codes (大额支付系统行号, 联行号), twelve
  ASCII digits. OMM checks the length and the digits only: the People's Bank of China
  publishes no check-digit rule, and published codes (102100099996 中国工商银行清算中心,
  104100000004 中国银行) fail the Luhn test, so no check digit is computed.
- ``bic``: ISO 9362 business identifier codes (BIC, SWIFT codes): 4 letters for the
  institution, the institution's country as an ISO 3166-1 alpha-2 code, 2 letters or digits
  for the location, then optionally 3 letters or digits for the branch: 8 or 11 characters.
- ``national``: other countries' bank or branch codes (sort codes, routing numbers,
  Bankleitzahlen...), written as letters and digits in groups separated by ``-``, ``.``,
  ``/`` or a space, sometimes after an ISO 3166-1 alpha-2 country code (``DE10010010``).

Codes are read after Unicode NFKC normalisation (full-width digits become ASCII), and a
CNAPS code with spaces or separators inside is read without them; the caller keeps a
warning saying so. Country codes come from pycountry, which ships the ISO 3166-1 list.

Pure module: no Django import.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import pycountry

CNAPS, BIC, NATIONAL, AUTO = "cnaps", "bic", "national", "auto"
SCHEMES = (CNAPS, BIC, NATIONAL)
CNAPS_DIGITS = 12

# ISO 9362 structure (see the module docstring); checked on upper-case text without spaces.
_BIC_RE = re.compile(r"[A-Z]{4}([A-Z]{2})[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
# Letters and digits, in groups joined by one separator each.
_NATIONAL_RE = re.compile(r"[A-Za-z0-9]+(?:[-./ ][A-Za-z0-9]+)*")
# A leading ISO 3166-1 alpha-2 country code, then a digit (after an optional separator).
_COUNTRY_PREFIX_RE = re.compile(r"([A-Za-z]{2})[-./ ]?[0-9]")
_SEPARATORS_RE = re.compile(r"[\s\-./]+")

# SWIFT's BIC directory uses XK for Kosovo, a code from ISO 3166-1's user-assigned range
# (XA-XZ) that the standard's own list does not carry.
_BIC_EXTRA_COUNTRIES = frozenset({"XK"})


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 country codes (as pycountry ships them)."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Every name a country column may hold -> alpha-2: ISO 3166-1 alpha-2 and alpha-3
    codes, the English names, and the Simplified and Traditional Chinese names of
    pycountry's translations of the standard."""
    names: dict[str, str] = {}
    catalogues = []
    for language in ("zh_CN", "zh_TW"):
        try:
            catalogues.append(gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]))
        except OSError:  # a pycountry build without that translation
            continue
    for country in pycountry.countries:
        english = [country.name, getattr(country, "official_name", ""), getattr(country, "common_name", "")]
        for text in [country.alpha_2, country.alpha_3, *english]:
            if text:
                names.setdefault(text.casefold(), country.alpha_2)
        for catalogue in catalogues:
            for text in english:
                if text:
                    names.setdefault(catalogue.gettext(text).casefold(), country.alpha_2)
    return names


def country_of(value: str) -> str | None:
    """The alpha-2 code of a country column's value (a code or a name in English or Chinese)."""
    text = unicodedata.normalize("NFKC", value).strip() if not value.isascii() else value.strip()
    return _country_names().get(text.casefold())


@dataclass(slots=True)
class Verdict:
    """How one code reads: its ``scheme`` ("" when it cannot be used), the ``code`` as it
    is stored and compared, the ``country`` the code names ("" if none), and when it
    cannot be used the ``problem`` (an issue suffix, see ``bank_records``) with ``params``.
    ``normalised`` is true when ``code`` differs from the text as written."""

    scheme: str
    code: str
    country: str = ""
    problem: str = ""
    params: dict = field(default_factory=dict)
    normalised: bool = False


@dataclass(slots=True)
class _Reading:
    text: str  # NFKC, stripped
    digits: str | None  # the text without separators, when only digits remain
    bic: str | None  # the upper-case text without spaces, when it has the ISO 9362 structure
    national: bool


def _read(value: str) -> _Reading:
    text = value if value.isascii() else unicodedata.normalize("NFKC", value).strip()
    compact = _SEPARATORS_RE.sub("", text)
    digits = compact if compact.isascii() and compact.isdigit() else None
    upper = "".join(text.split()).upper()
    bic = upper if _BIC_RE.fullmatch(upper) else None
    return _Reading(text, digits, bic, bool(_NATIONAL_RE.fullmatch(text)))


def plain_digits(text: str) -> bool:
    """Whether ``text`` is ASCII digits only (no separators), as a spreadsheet's number is."""
    return text.isascii() and text.isdigit()


def detect(value: str) -> str:
    """The scheme a non-empty code reads as on its own, or "" when it matches none.

    A code of digits only, of another length than twelve, reads as national here; in a
    column of CNAPS codes, :func:`judge` reads it as a CNAPS code that lost digits.
    """
    r = _read(value)
    if r.digits is not None and len(r.digits) == CNAPS_DIGITS:
        return CNAPS
    if r.bic is not None:
        return BIC
    return NATIONAL if r.national else ""


def judge(value: str, declared: str = AUTO, main: str = "") -> Verdict:
    """Read a non-empty, stripped code under the ``declared`` scheme (``auto``: its own).

    ``main`` is the scheme most codes of the column read as; in ``auto`` it decides how
    an all-digit code of a wrong length reads (a CNAPS code that lost digits, or a
    national code).
    """
    r = _read(value)
    scheme = declared
    if declared == AUTO:
        if r.digits is not None and (len(r.digits) == CNAPS_DIGITS or (main == CNAPS and r.text.isdigit())):
            scheme = CNAPS
        elif r.bic is not None:
            scheme = BIC
        elif r.national:
            scheme = NATIONAL
        else:
            return Verdict("", r.text, problem="unrecognised", params={"code": r.text})
    if scheme == CNAPS:
        return _cnaps(r, value, declared)
    if scheme == BIC:
        return _bic(r, value)
    return _national(r, value)


def _cnaps(r: _Reading, value: str, declared: str) -> Verdict:
    if r.digits is not None and len(r.digits) == CNAPS_DIGITS:
        return Verdict(CNAPS, r.digits, "CN", normalised=r.digits != value)
    if r.digits is not None and len(r.digits) < CNAPS_DIGITS and r.text.isdigit():
        # Spreadsheets read a code as a number and drop its leading zeros.
        padded = r.digits.zfill(CNAPS_DIGITS)
        return Verdict(
            "", r.digits, problem="leading_zeros", params={"digits": len(r.digits), "padded": padded}
        )
    if declared == CNAPS and r.bic is not None and _bic_country_known(r.bic):
        return Verdict("", r.bic, problem="scheme", params={"code": r.bic, "found": BIC, "declared": CNAPS})
    return Verdict("", r.text, problem="format")


def _bic(r: _Reading, value: str) -> Verdict:
    if r.bic is None:
        if r.digits is not None and len(r.digits) == CNAPS_DIGITS:
            return Verdict(
                "", r.digits, problem="scheme", params={"code": r.digits, "found": CNAPS, "declared": BIC}
            )
        return Verdict("", r.text, problem="bic_format", params={"code": r.text})
    if not _bic_country_known(r.bic):
        return Verdict("", r.bic, problem="country", params={"code": r.bic, "country": r.bic[4:6]})
    country = r.bic[4:6]
    return Verdict(BIC, r.bic, country, normalised=r.bic != value)


def _bic_country_known(bic: str) -> bool:
    return bic[4:6] in country_codes() or bic[4:6] in _BIC_EXTRA_COUNTRIES


def _national(r: _Reading, value: str) -> Verdict:
    if not r.national:
        return Verdict("", r.text, problem="national_format", params={"code": r.text})
    prefix = _COUNTRY_PREFIX_RE.match(r.text)
    country = prefix.group(1).upper() if prefix and prefix.group(1).upper() in country_codes() else ""
    return Verdict(NATIONAL, r.text, country, normalised=r.text != value)
