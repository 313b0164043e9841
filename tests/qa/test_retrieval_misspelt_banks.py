"""A bank's name misspelt around another bank's name, a bank named by its first word, a code
shared by two records typed as one of them carries it.
Fixtures are real entries of the registers schwifty ships (bank_registry: NBP for Poland,
SAMA for Saudi Arabia, ČNB for the Czech Republic)."""

from __future__ import annotations

import pytest

from apps.qa.retrieval import RetrievalIndex
from tests.qa.test_retrieval_register_names import index_of

RECORDS = [
    # (name, code, bic, country)
    ("Bank of China (Europe) S.A. Spółka Akcyjna Oddział w Polsce", "26000000", "", "PL"),
    (
        "Industrial and Commercial Bank of China (Europe) S.A. (Spółka Akcyjna) Oddział w Polsce",
        "26200006",
        "ICBKPLPWXXX",
        "PL",
    ),
    ("Bank of China (CEE) Ltd. Prague Branch", "8250", "", "CZ"),
    ("Industrial and Commercial Bank of China Limited, Prague Branch, odštěpný závod", "8265", "", "CZ"),
    ("INDUSTRIAL AND COMMERCIAL BANK OF CHINA RIYADH BRANCH, SA", "ICBKSARI", "ICBKSARI", "SA"),
    ("BNP PARIBAS SAUDI ARABIA", "BNPASARI", "BNPASARI", "SA"),
    ("BNP PARIBAS INVESTMENT COMPANY KSA", "BNPASARB", "BNPASARB", "SA"),
    ("MUFG BANK, LTD. RIYADH BRANCH", "BOTKSARI", "BOTKSARI", "SA"),
]


@pytest.fixture(scope="module")
def index() -> RetrievalIndex:
    return index_of(RECORDS)


@pytest.mark.parametrize(
    ("question", "code"),
    [
        # A typo in "Industrial" or "Commercial" leaves "Bank of China" whole: still ICBC.
        ("bank code of Industral And Commercial Bank Of China (Europe) Oddział W Polsce", "26200006"),
        ("INDUSTRIAL AND COMERCIAL BANK OF CHINA RIYADH BRANCH", "ICBKSARI"),
        ("Inddustrial And Commercial Bank Of China Limited, Prague Branch", "8265"),
        # Bank of China itself, spelt right, stays Bank of China.
        ("Bank of China (Europe) Oddział w Polsce", "26000000"),
        ("Bank of China Prague Branch", "8250"),
    ],
)
def test_a_misspelt_bank_name_around_another_names_its_own_bank(index, question, code) -> None:
    answer = index.ask(question)
    assert answer.bank_code == code
    assert answer.sure


def test_a_misspelt_name_never_gives_a_sure_answer_of_the_bank_it_holds(index) -> None:
    # The question asks ICBC (misspelt); the Bank of China it holds makes no other bank sure.
    answer = index.ask("Industrail and Commercial Bank of China Riyadh")
    assert answer.bank_code == "ICBKSARI" or not answer.sure


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("bnp saudi arabia", "BNPASARI"),
        ("What's BNP SAUDI ARABIA's SWIFT code?", "BNPASARI"),
        ("BNP investment company KSA", "BNPASARB"),
    ],
)
def test_a_bank_named_by_its_first_word_is_read_as_its_name(index, question, code) -> None:
    answer = index.ask(question)
    assert answer.bank_code == code
    assert answer.sure


def test_the_first_word_alone_is_not_sure_between_two_records_of_that_bank(index) -> None:
    answer = index.ask("BNP")
    assert not answer.sure
    assert {"BNPASARI", "BNPASARB"} <= {answer.bank_code, *answer.codes(5)}


def test_a_code_as_typed_names_the_record_that_carries_it_so() -> None:
    # The Central Bank of Cyprus register (schwifty): ANCOCY2N and ANCOCY2NXXX are one BIC
    # (ISO 9362: XXX is the primary office) carried by two records.
    index = RetrievalIndex.build(
        {
            "bank_name": ["ANCORIA BANK LTD", "ANCORIA BANK LTD, LIMASSOL BANKING CENTRE"],
            "bank_code": ["ANCOCY2NXXX", "029"],
            "clearing_code": ["", ""],
            "bic": ["ANCOCY2NXXX", "ANCOCY2N"],
            "country": ["CY", "CY"],
            "scheme": ["bic", "national"],
        }
    )
    typed = index.ask("ancocy2nxxx")
    assert (typed.bank_code, typed.sure) == ("ANCOCY2NXXX", True)
    short = index.ask("BIC ANCOCY2N")
    assert (short.bank_code, short.sure) == ("029", True)
    assert {"ANCOCY2NXXX", "029"} == {typed.bank_code, *typed.codes(5)}
