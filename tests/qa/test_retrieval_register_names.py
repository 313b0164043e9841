"""Names in real registers: shared names, banks named by record names, legal forms, words
that end names and look like wrappers, look-alike names. Fixtures are real entries of the
registers schwifty (bank_registry: Banca d'Italia, Danmarks Nationalbank, Bank of
Lithuania, SAMA) and python-stdnum (nz/banks.dat, Payments NZ) ship."""

from __future__ import annotations

import pytest

from apps.qa.retrieval import RetrievalIndex, normalise
from apps.qa.retrieval.distance import osa_distances
from apps.qa.retrieval.wrappers import longer_readings, strip_word_wrappers

DANSKE = ("0200", "0201", "0202")
RECORDS = [
    # (name, code, bic, country)
    ("BANCA POPOLARE DI CROTONE - SOCIETA' PER AZIONI", "05256", "BPMOIT22", "IT"),
    ("BANCA POPOLARE DI CORTONA - SOCIETA' COOPERATIVA PER AZIONI", "05496", "POCSIT31", "IT"),
    *(("DANSKE BANK A/S", code, "DABADKKK", "DK") for code in DANSKE),
    ("SYDBANK A/S", "0570", "SYBKDK22", "DK"),
    ("MAJ BANK A/S", "7574", "MAAJDKL1", "DK"),
    ("PFA BANK A/S", "1693", "PFUDDKK1", "DK"),
    ("LAN AND SPAR BANK A/S", "0400", "", "DK"),
    ("LÅN OG SPAR BANK", "0404", "", "DK"),
    ("Westpac Palmerston North Clearing Centre", "27-3826", "", "NZ"),
    ("Westpac DPS Palmerston North", "03-0198", "", "NZ"),
    ("Westpac Broadway, Palmerston North", "03-0710", "", "NZ"),
    ("Bank of New Zealand Cromwell", "02-0920", "", "NZ"),
    ("ANZ Bank New Zealand Cromwell", "06-0921", "", "NZ"),
    ("ArcaPay ltd", "30039", "ARPYGB21XXX", "LT"),
    ("Papaya Ltd", "38200", "PAPYMTMTXXX", "LT"),
    ("SAUDI BRITISH BANK, THE", "SABBSARI", "SABBSARI", "SA"),
    ("SAUDI BRITISH BANK, THE (FORMERLY ALAWWAL BANK)", "AAALSARI", "AAALSARI", "SA"),
]


def index_of(records: list[tuple[str, str, str, str]]) -> RetrievalIndex:
    """An index of (name, code, bic, country) records of national schemes."""
    return RetrievalIndex.build(
        {
            "bank_name": [r[0] for r in records],
            "bank_code": [r[1] for r in records],
            "clearing_code": ["" for _ in records],
            "bic": [r[2] for r in records],
            "country": [r[3] for r in records],
            "scheme": ["national" for _ in records],
        }
    )


@pytest.fixture(scope="module")
def index() -> RetrievalIndex:
    return index_of(RECORDS)


# --- normal forms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PFA BANK A/S", "pfabank"),  # an ISO 20275-only form (PFA) stays at the front
        (
            "BANCA POPOLARE DI CORTONA - SOCIETA' COOPERATIVA PER AZIONI",
            "bancapopolaredicortonasocietacooperativaperazioni",
        ),
        ("ELAVON FINANCIAL SERVICES DAC, S.E.", "elavonfinancialservicesdac"),  # S.E. is SE
        ("N. V. Bank", "bank"),
        ("NATIXIS, S.A., S.E.", "natixis"),  # trailing forms last first, not S.A.S. + E
        ("CREDIT SUISSE AG, S.E.", "creditsuisse"),
        ("Bank AS Safe", "bankassafe"),  # still: a two-letter form only at either end
        ("LÅN OG SPAR BANK", "lansparbank"),
        ("LAN AND SPAR BANK A/S", "lansparbank"),
        ("Lån & Spar Bank", "lansparbank"),
        ("And", "and"),  # never the whole name
    ],
)
def test_normal_forms_drop_conjunctions_and_legal_forms_where_they_stand(name, expected):
    assert normalise(name) == expected


# --- records sharing a name ------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", ["DANSKE BANK", "What is the bank code for DANSKE BANJ?", "Danske Bnak A/S"]
)
def test_a_name_several_records_share_is_not_sure_with_all_of_them_as_candidates(index, question):
    answer = index.ask(question, k=5)
    assert not answer.sure
    assert set(DANSKE) <= set(answer.codes(5)), answer


def test_a_shared_name_is_one_candidate_so_a_typo_still_finds_it(index):
    # Many records of one name once made its grams common: a typo then found another bank.
    answer = index.ask("DANSKE BANJ", k=5)
    assert answer.bank_code in DANSKE
    assert answer.matched_by == "ngram"


def test_two_spellings_of_and_make_one_name(index):
    answer = index.ask("Lån & Spar Bank", k=5)
    assert not answer.sure
    assert {"0400", "0404"} <= set(answer.codes(5))


# --- banks named by record names -------------------------------------------------------------


def test_a_question_naming_one_record_answered_by_another_is_not_sure(index):
    # Crotone's name and Cortona's BIC: the question names another bank than the answer.
    answer = index.ask("Banca Popolare di Crotone POCSIT31")
    assert (answer.bank_code, answer.matched_by, answer.sure) == ("05496", "code", False)
    assert index.ask("Banca Popolare di Cortona POCSIT31").sure


def test_the_banks_a_question_names_are_whole_record_names(index):
    said = ["banca", "popolare", "di", "crotone", "sociea", "azioni"]
    assert index._named_in(said) == ("bancapopolaredicrotone",)
    assert index._named_in(["banca", "popolare", "di", "crotone"][:3]) == ()
    assert index._named_in([]) == ()
    # A name inside a longer one found too counts once, as the longer one.
    assert index._named_in(["saudi", "british", "bank", "the"]) == ("saudibritishbankthe",)


def test_sure_answers_hold_every_record_name_the_question_holds(index):
    for name, *_ in RECORDS:
        for question in (name, f"{name} SOCIEA AZIONI", f"Westpac {name}"):
            answer = index.ask(question)
            if answer.sure:
                named = index._named_in(question.casefold().split())
                own = normalise(answer.bank_name)
                assert all(n in own for n in named), question


# --- names that end in words read as wrappers ------------------------------------------------


def test_a_possessive_s_is_not_the_last_letter_of_a_legal_form():
    assert strip_word_wrappers("csob a s bank code") == "csob a s"
    assert strip_word_wrappers("what s deutsche bank s swift code") == "deutsche bank"


def test_longer_readings_give_back_the_last_words_one_by_one():
    assert longer_readings("westpac palmerston north clearing") == [("westpac palmerston north clearing", "")]
    assert longer_readings("deutsche bank") == []
    assert longer_readings("bank code") == [("bank code", "")]  # "bank" alone is no wrapper
    assert longer_readings("bic") == []


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("Westpac Palmerston North Clearing", "27-3826"),  # "clearing" is part of the name
        ("SAUDI BRITISH BANK, THE bank code", "SABBSARI"),  # so is "the"
    ],
)
def test_a_name_ending_in_a_wrapper_word_is_found_whole(index, question, code):
    answer = index.ask(question)
    assert (answer.bank_code, answer.sure, answer.asked) == (code, True, "bank_code")


# --- codes inside question words -------------------------------------------------------------


@pytest.mark.parametrize("question", ["what bank is 05256?", "what bank is 0570", "code 05256"])
def test_a_short_code_after_question_words_is_a_code(index, question):
    answer = index.ask(question)
    assert answer.matched_by == "code"
    assert answer.sure
    assert answer.bank_code == question.split()[-1].strip("?")


# --- look-alike names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "code"),
    [("ArpaPay", "30039"), ("BANK NEW ZEALAND CROMWELL", "02-0920"), ("SbDBANK A/S", "0570")],
)
def test_an_answer_another_name_is_as_close_to_by_edit_distance_is_not_sure_unless_right(
    index, question, code
):
    answer = index.ask(question, k=5)
    assert answer.sure is False or answer.bank_code == code, answer
    assert code in answer.codes(5)


def test_osa_distances_count_swaps_as_one_edit():
    assert osa_distances("arpapay", ["arcapay", "papaya", ""]).tolist() == [1, 3, 7]
    assert osa_distances("ab", ["ba"]).tolist() == [1]
    assert osa_distances("", ["abc"]).tolist() == [3]
    assert osa_distances("abc", []).tolist() == []
