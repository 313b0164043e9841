# ruff: noqa: RUF001 - bank names in Cyrillic are the point
"""Legal forms written out in full and typed loosely, and names inside longer names.
Fixtures are real entries of the registers schwifty ships (bank_registry: Central Bank of
Cyprus, National Bank of Ukraine, National Bank of Kazakhstan)."""

from __future__ import annotations

import pytest

from apps.qa.retrieval import RetrievalIndex, normalise
from apps.qa.retrieval.legal_forms import _one_edit

RECORDS = [
    # (name, code, bic, country)
    ("ASTROBANK PUBLIC COMPANY LIMITED", "008", "PIRBCY2N", "CY"),
    ("BANK OF CYPRUS PUBLIC COMPANY LIMITED", "002", "BCYPCY2N", "CY"),
    ("HELLENIC BANK PUBLIC COMPANY LTD.", "005", "HEBACY2N", "CY"),
    ("CENTRAL BANK OF CYPRUS", "CBCYCY2NXXX", "CBCYCY2NXXX", "CY"),
    ('ПУБЛІЧНЕ АКЦІОНЕРНЕ ТОВАРИСТВО АКЦІОНЕРНИЙ БАНК "УКРГАЗБАНК"', "320478", "", "UA"),
    ('ПУБЛІЧНЕ АКЦІОНЕРНЕ ТОВАРИСТВО АКЦІОНЕРНИЙ БАНК "ПІВДЕННИЙ"', "328209", "", "UA"),
    ('АКЦІОНЕРНЕ ТОВАРИСТВО "СЕБ КОРПОРАТИВНИЙ БАНК"', "380797", "", "UA"),
    ('АКЦІОНЕРНЕ ТОВАРИСТВО "БАНК КРЕДИТ ДНІПРО"', "305749", "", "UA"),
    ('АО "БТА Банк"', "319", "ABKZKZKX", "KZ"),
    ('ДО АО "БТА БАНК"', "780", "JSRBKZKA", "KZ"),
    ('АО "Евразийский Банк"', "948", "EURIKZKA", "KZ"),
    ('АО "Евразийский банк развития"', "700", "EABRKZKA", "KZ"),
]


@pytest.fixture(scope="module")
def index() -> RetrievalIndex:
    return RetrievalIndex.build(
        {
            "bank_name": [r[0] for r in RECORDS],
            "bank_code": [r[1] for r in RECORDS],
            "clearing_code": ["" for _ in RECORDS],
            "bic": [r[2] for r in RECORDS],
            "country": [r[3] for r in RECORDS],
            "scheme": ["national" for _ in RECORDS],
        }
    )


# --- "Public Company (Limited)": an ISO 20275 legal form name ----------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "ASTROBANK PUBLIC COMPANY LIMITED",
        "ASTROBANK PUBLIC COMPANY LTD",
        "Astrobank Public Company",
        "ASTROBANK",
    ],
)
def test_public_company_limited_is_one_legal_form_however_it_ends(name):
    # It once lost "Company Limited" only, and kept "Public": Ltd and Limited differed.
    assert normalise(name) == "astrobank"


# --- spelled-out forms typed loosely -----------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ('ПУБЛІЧНЕ АКЦІОНРЕНЕ ТОВАРИСТВО АКЦІОНЕРНИЙ БАНК "УКРГАЗБАНК"', "акціонерниибанкукргазбанк"),  # swap
        ('публічне акаіонерне товариство акціонерний банк "південний"', "акціонерниибанкпівденнии"),  # key
        ('КЦІОНЕРНЕ ТОВАРИСТВО "БАНК КРЕДИТ ДНІПРО"', "банккредитдніпро"),  # a letter dropped
        ('ТОВАРИСТВО АКЦІОНЕРНЕ "БАНК КРЕДИТ ДНІПРО"', "банккредитдніпро"),  # words swapped
        ('АКЦІОНЕРНЕ "СЕБ ТОВАРИСТВО КОРПОРАТИВНИЙ БАНК"', "себкорпоративниибанк"),  # a name word in between
        ('публічне акціонерне акціонерний товариство банк "південний"', "акціонерниибанкпівденнии"),
        ("BANK OF CYPRUS PUBLIC COMPANY LIMICED", "bankofcyprus"),  # a one-word form, last
        ("ASTROBANK PUBKIC COMPANY", "astrobank"),
    ],
)
def test_a_spelled_out_legal_form_typed_loosely_is_still_a_legal_form(typed, expected):
    assert normalise(typed) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Limitd Bank", "limitdbank"),  # a misspelt one-word form only as the last word
        ("Акціонерне товариство", "акціонернетовариство"),  # never the whole name
        ("Акціонерне Перший Банк Товариство", "акціонернепершиибанктовариство"),  # two words apart
        ("Pblic Crmpany Bank", "pbliccrmpanybank"),  # one misspelt word per form at most
        ("Company Savings Public", "companysavingspublic"),  # around a name word: only in order
        ("Public Savings Company", "savings"),
    ],
)
def test_a_loose_legal_form_needs_its_words_together_and_one_typo_at_most(name, expected):
    assert normalise(name) == expected


def test_one_edit_is_an_insertion_deletion_substitution_or_swap():
    assert (
        _one_edit("limited", "limiced") and _one_edit("limited", "limted") and _one_edit("limited", "limtied")
    )
    assert _one_edit("limited", "limitedd")
    assert not _one_edit("limited", "limited") and not _one_edit("limited", "lmitde")


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ('ПУБЛІЧНЕ АКЦІОНЕРНЕ ТнВАРИСТВО АКЦІОНЕРНИЙ БАНК "ПІВДЕННИЙ"', "328209"),
        ('Акціонерне "Себ Товариство Корпоративний Банк"', "380797"),
        ('какой код банка ТОВАРИСТВО АКЦІОНЕРНЕ "БАНК КРЕДИТ ДНІПРО"?', "305749"),
    ],
)
def test_a_question_with_a_loosely_typed_form_is_answered_sure(index, question, code):
    answer = index.ask(question, k=5)
    assert (answer.bank_code, answer.sure) == (code, True), answer


# --- a name inside a longer one ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "code"),
    [('БИК "бта бан"', "319"), ('SWIFT code for "вразийский банк"', "948")],
)
def test_a_question_all_in_a_name_that_a_longer_name_holds_is_the_shorter(index, question, code):
    # Both names hold the whole (misspelt) question, but the longer adds words it does not say.
    answer = index.ask(question, k=5)
    assert (answer.bank_code, answer.sure) == (code, True), answer
