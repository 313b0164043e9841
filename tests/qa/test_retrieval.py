# ruff: noqa: RUF001 - full-width and traditional characters are what these tests feed in
"""The QA retrieval model: normal form, wrappers, aliases, codes, not-sure answers, bad input,
serialisation, and accuracy on generated questions.

No database: records are built in memory (a small hand-made set, and 20,000 demo records).
"""

from __future__ import annotations

import io
import pickle
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from apps.datasets.cnaps import make_code
from apps.datasets.demo_data import bank_records_bad_lines, bank_records_frame
from apps.qa import questions as qgen
from apps.qa.questions import Question, generate_questions
from apps.qa.retrieval import (
    MAX_QUESTION_CHARS,
    SURE_THRESHOLD,
    EmptyQuestionError,
    RetrievalIndex,
    normalise,
    strip_wrappers,
)
from apps.qa.retrieval.distance import osa_distances_points as osa_distances

# (name, bank category, city code, branch number); the clearing branch of a group is 0001.
NAMES = [
    ("中国工商银行股份有限公司北京市分行营业部", "102", "1000", "0001"),
    ("中国工商银行股份有限公司北京海淀支行", "102", "1000", "0002"),
    ("中国工商银行股份有限公司北京朝阳支行", "102", "1000", "0003"),
    ("中国工商银行股份有限公司北京海淀区人民路支行", "102", "1000", "0004"),
    ("中国工商银行股份有限公司北京海淀区人民路分理处", "102", "1000", "0005"),
    ("中国工商银行股份有限公司北京兴业路支行", "102", "1000", "0006"),
    ("中国工商银行股份有限公司天津市分行营业部", "102", "1100", "0001"),
    ("中国工商银行股份有限公司天津河北区支行", "102", "1100", "0002"),
    ("中国工商银行股份有限公司石家庄桥西支行", "102", "1210", "0002"),
    ("中国建设银行股份有限公司北京市分行营业部", "105", "1000", "0001"),
    ("中国建设银行股份有限公司北京海淀支行", "105", "1000", "0002"),
    ("中国农业银行股份有限公司北京海淀支行", "103", "1000", "0002"),
    ("中国银行股份有限公司北京海淀支行", "104", "1000", "0002"),
    ("兴业银行股份有限公司北京海淀支行", "309", "1000", "0002"),
    ("招商银行股份有限公司上海浦东支行", "308", "2900", "0002"),
    ("中国邮政储蓄银行股份有限公司南京鼓楼支行", "403", "3010", "0002"),
    ("交通银行股份有限公司广州天河支行", "301", "5810", "0002"),
    # Two lines that differ only by 股份有限公司 share one normal form: ambiguous.
    ("平安银行股份有限公司杭州西湖支行", "307", "3310", "0002"),
    ("平安银行杭州西湖支行", "307", "3310", "0003"),
]


def _records() -> pd.DataFrame:
    rows = [
        {
            "bank_name": name,
            "bank_code": make_code(bank, city, branch),
            "clearing_code": make_code(bank, city, "0001"),
        }
        for name, bank, city, branch in NAMES
    ]
    return pd.DataFrame(rows)


RECORDS = _records()
CODE = dict(zip(RECORDS["bank_name"], RECORDS["bank_code"], strict=True))


@pytest.fixture(scope="module")
def index() -> RetrievalIndex:
    return RetrievalIndex.build(RECORDS)


def code_of(name: str) -> str:
    return CODE[name]


# --- normal form and wrappers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("中国工商银行股份有限公司北京海淀支行", "中国工商银行北京海淀支行"),
        ("中國工商銀行北京海澱支行", "中国工商银行北京海澱支行"),  # 澱 is not in the table: kept
        ("中國農業銀行廣東省分行營業部", "中国农业银行广东省分行营业部"),
        ("ＩＣＢＣ　北京（海淀）支行", "icbc北京海淀支行"),
        ("  Bank\tOf\nChina  ", "bankofchina"),
        ("工行\x00北京\u200b海淀\x1b支行", "工行北京海淀支行"),
        ("某某有限责任公司、某某有限公司", "某某某某"),
        ("！？。，……", ""),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    "question",
    [
        "工行北京海淀支行的联行号是多少？",
        "请问工行北京海淀支行联行号",
        "查一下工行北京海淀支行",
        "帮我查工行北京海淀支行的行号",
        "你好，请问工行北京海淀支行的联行号是多少？谢谢",
        "工行北京海淀支行的清算行号是什么",
        "What is the code of 工行北京海淀支行?",
        "clearing code for 工行北京海淀支行",
        "What's 工行北京海淀支行's clearing code?",
        "工行北京海淀支行 bank code",
    ],
)
def test_wrappers_are_stripped(question):
    assert strip_wrappers(normalise(question)) == "工行北京海淀支行"


def test_a_question_of_wrappers_only_is_empty():
    assert strip_wrappers(normalise("请问联行号是多少？")) == ""


# --- answers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("工行北京海淀支行的联行号是多少", "中国工商银行股份有限公司北京海淀支行"),
        ("建行北京海淀支行", "中国建设银行股份有限公司北京海淀支行"),
        ("农行北京海淀支行联行号", "中国农业银行股份有限公司北京海淀支行"),
        ("中行北京海淀支行", "中国银行股份有限公司北京海淀支行"),
        ("ICBC 北京海淀支行", "中国工商银行股份有限公司北京海淀支行"),
        ("招行上海浦东支行", "招商银行股份有限公司上海浦东支行"),
        ("邮储南京鼓楼支行", "中国邮政储蓄银行股份有限公司南京鼓楼支行"),
        ("交行广州天河支行", "交通银行股份有限公司广州天河支行"),
        ("中國工商銀行北京海澱支行", "中国工商银行股份有限公司北京海淀支行"),  # 澱: a typo to the model
    ],
)
def test_aliases_and_wrappers_find_the_branch(index, question, name):
    answer = index.ask(question)
    assert answer.bank_code == code_of(name)
    assert answer.bank_name == name
    assert answer.sure and answer.confidence >= SURE_THRESHOLD


@pytest.mark.parametrize(
    ("question", "prepared", "name"),
    [
        (
            "What is the CNAPS code of ICBC Beijing Haidian Sub-branch?",
            "中国工商银行北京海淀支行",
            "中国工商银行股份有限公司北京海淀支行",
        ),
        ("Bank of China beijing haidian", "中国银行北京海淀", "中国银行股份有限公司北京海淀支行"),
        ("China Merchants Bank Shanghai Pudong", "招商银行上海浦东", "招商银行股份有限公司上海浦东支行"),
        (
            "Postal Savings Bank of China Nanjing Gulou branch",
            "中国邮政储蓄银行南京鼓楼",
            "中国邮政储蓄银行股份有限公司南京鼓楼支行",
        ),
        ("bank code of BOCOM Guangzhou Tianhe", "交通银行广州天河", "交通银行股份有限公司广州天河支行"),
        ("ICBC Shijiazhuang Qiaoxi", "中国工商银行石家庄桥西", "中国工商银行股份有限公司石家庄桥西支行"),
        (  # "sub-branch" tells the 支行 from the 分理处 of the same street
            "ICBC Beijing Haidian District Renminlu Sub-branch",
            "中国工商银行北京海淀区人民路支行",
            "中国工商银行股份有限公司北京海淀区人民路支行",
        ),
        ("工商银行 Tianjin Hebei", "中国工商银行天津河北", "中国工商银行股份有限公司天津河北区支行"),
    ],
)
def test_pinyin_and_english_questions_are_read_in_the_records_characters(index, question, prepared, name):
    answer = index.ask(question)
    assert answer.question == prepared
    assert answer.bank_name == name
    assert answer.sure


def test_letters_that_read_as_nothing_are_kept_and_the_rest_still_found(index):
    answer = index.ask("ICBC Beijing Haidian xqzv")
    assert answer.question == "中国工商银行北京海淀xqzv"
    assert answer.bank_name == "中国工商银行股份有限公司北京海淀支行"


def test_a_long_run_of_letters_is_read_within_the_question_bound(index):
    answer = index.ask("ICBC " + "beijinghaidian" * 70 + "xyz" * 10)  # 1,000 characters at most are read
    assert len(answer.question) <= MAX_QUESTION_CHARS
    assert answer.question.startswith("中国工商银行北京海淀北京海淀")
    assert not index.ask("qqqqqqqqqqqq").sure  # letters that read as nothing: not sure, no error


def test_the_pinyin_reader_is_made_once_and_warm_makes_it_ahead(index):
    fresh = RetrievalIndex.from_bytes(index.to_bytes())
    assert fresh._latin is None
    fresh.warm()
    reader = fresh._latin
    assert reader is not None
    assert fresh.ask("ICBC Beijing Haidian").bank_name == "中国工商银行股份有限公司北京海淀支行"
    assert fresh._latin is reader


def test_the_issue_question_is_an_exact_match(index):
    answer = index.ask("工行北京海淀支行的联行号是多少")
    assert (answer.matched_by, answer.confidence, answer.question) == (
        "exact",
        1.0,
        "中国工商银行北京海淀支行",
    )
    assert answer.clearing_code == make_code("102", "1000", "0001")
    # The next candidates come with it, best first, the answer itself left out.
    assert answer.candidates and answer.bank_code not in [c.bank_code for c in answer.candidates]
    assert [c.score for c in answer.candidates] == sorted((c.score for c in answer.candidates), reverse=True)


def test_weak_alias_expands_only_where_a_bank_is_named(index):
    assert "兴业" in index.aliases.weak  # the records have a 兴业路支行
    assert index.ask("兴业北京海淀支行").bank_code == code_of("兴业银行股份有限公司北京海淀支行")
    assert index.ask("工行北京兴业路支行").bank_code == code_of("中国工商银行股份有限公司北京兴业路支行")


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("中国工商银行北京市海淀区支行", "中国工商银行股份有限公司北京海淀支行"),  # 市/区 added
        ("工行北京海淀人民路", "中国工商银行股份有限公司北京海淀区人民路支行"),  # 支行 dropped
        ("工行北京海淀区人民路分理处", "中国工商银行股份有限公司北京海淀区人民路分理处"),  # office named
        ("工行北京分行海淀支行", "中国工商银行股份有限公司北京海淀支行"),  # parent 分行
        ("工行河北省石家庄桥西支行", "中国工商银行股份有限公司石家庄桥西支行"),  # province in front
        ("工行天津河北区支行", "中国工商银行股份有限公司天津河北区支行"),  # 河北 here is a district
        ("工行北京分行", "中国工商银行股份有限公司北京市分行营业部"),
        ("工行北京海淀人民路支航", "中国工商银行股份有限公司北京海淀区人民路支行"),  # homophone typo
    ],
)
def test_noisy_names_find_the_branch(index, question, name):
    assert index.ask(question).bank_code == code_of(name)


def test_bank_named_wins_over_a_closer_spelling_of_another_bank(index):
    answer = index.ask("中国银行北京海淀支行")
    assert answer.bank_code == code_of("中国银行股份有限公司北京海淀支行")
    assert answer.matched_by == "exact"


@pytest.mark.parametrize(
    "question",
    [
        "102100000029",
        "联行号102100000029是哪个行",
        "102100000029".translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"}),  # full width
        "1021 0000 0029",
        "行号 102100000029？",
    ],
)
def test_a_code_is_looked_up(index, question):
    code = code_of("中国工商银行股份有限公司北京海淀支行")
    assert code == "102100000029"
    answer = index.ask(question)
    assert (answer.matched_by, answer.bank_code, answer.sure, answer.question) == ("code", code, True, code)


def test_an_unknown_code_is_not_sure(index):
    answer = index.ask("999999999999是哪个银行")
    assert (answer.matched_by, answer.bank_code, answer.sure, answer.confidence) == ("code", None, False, 0.0)


def test_an_unknown_code_with_a_name_falls_back_to_the_name(index):
    answer = index.ask("工行北京海淀支行 999999999999")
    assert answer.bank_code == code_of("中国工商银行股份有限公司北京海淀支行")


def test_records_sharing_a_normal_form_are_ambiguous(index):
    answer = index.ask("平安银行杭州西湖支行的联行号")
    assert answer.matched_by == "exact" and not answer.sure and answer.confidence == 0.5
    both = {answer.bank_code, answer.candidates[0].bank_code}
    assert both == {code_of("平安银行股份有限公司杭州西湖支行"), code_of("平安银行杭州西湖支行")}


@pytest.mark.parametrize("question", ["今天天气怎么样", "asdfqwer zxcv", "我爱北京天安门", "随便问问"])
def test_gibberish_is_not_sure(index, question):
    answer = index.ask(question)
    assert not answer.sure and answer.confidence < SURE_THRESHOLD


def test_k_bounds_the_candidates(index):
    assert len(index.ask("工行北京海淀支行", k=3).candidates) == 2
    assert len(index.ask("工行北京海淀支行", k=1).candidates) == 0
    assert len(index.ask("工行北京海淀支行", k=0).candidates) == 0  # clamped to 1
    assert index.ask("工行北京海淀支行", k=10_000).codes(100) == index.ask("工行北京海淀支行", k=20).codes(
        100
    )


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", ["", "   \t\n", "？？！！。。...", "\x00\x01\x02", "请问联行号是多少？", "code?"]
)
def test_nothing_to_look_up_raises_a_value_error(index, question):
    with pytest.raises(EmptyQuestionError):
        index.ask(question)
    assert issubclass(EmptyQuestionError, ValueError)


def test_a_question_that_is_not_a_string_is_refused(index):
    with pytest.raises(TypeError):
        index.ask(None)  # type: ignore[arg-type]


def test_a_long_question_is_bounded(index):
    question = "工行北京海淀支行" + "啊" * 10_000
    start = time.perf_counter()
    answer = index.ask(question)
    assert time.perf_counter() - start < 1.0  # generous: the question is cut before any work
    assert len(answer.question) <= MAX_QUESTION_CHARS
    assert answer.bank_code == code_of("中国工商银行股份有限公司北京海淀支行")


def test_control_characters_are_ignored(index):
    answer = index.ask("工行\x00北京\u200b海淀\x07支行\x1b[0m")
    assert answer.bank_code == code_of("中国工商银行股份有限公司北京海淀支行")


@pytest.mark.parametrize(
    "question", ["'; DROP TABLE qa_history; --", "<script>alert('x')</script>", "1 OR 1=1 UNION SELECT *"]
)
def test_sql_and_html_are_just_text(index, question):
    answer = index.ask(question)
    assert not answer.sure
    assert "<" not in answer.question and ";" not in answer.question  # punctuation is gone


def test_html_around_a_real_question_still_finds_it(index):
    answer = index.ask("<b>工行北京海淀支行</b>")
    assert answer.bank_code == code_of("中国工商银行股份有限公司北京海淀支行")


def test_build_refuses_a_malformed_code():
    bad = RECORDS.copy()
    bad.loc[0, "bank_code"] = "10210000001"
    with pytest.raises(ValueError, match="12 digits"):
        RetrievalIndex.build(bad)


def test_build_takes_frames_mappings_and_rows_alike():
    columns = {name: RECORDS[name].tolist() for name in RECORDS.columns}
    rows = RECORDS.to_dict("records")
    rows.append({"bank_name": None, "bank_code": "102100000099", "clearing_code": "102100000011"})
    answers = []
    for records in (RECORDS, columns, rows):
        index = RetrievalIndex.build(records)
        assert len(index) == len(RECORDS)  # the nameless record is left out
        answers.append(index.ask("工行北京朝阳支行").to_dict())
    assert answers[0] == answers[1] == answers[2]


# --- serialisation -----------------------------------------------------------------------

QUESTIONS = [
    "工行北京海淀支行的联行号是多少",
    "工行北京海淀人民路",
    "102100000029",
    "平安银行杭州西湖支行",
    "今天天气怎么样",
    "兴业北京海淀支行",
]


def test_round_trip_gives_equal_answers(index):
    data = index.to_bytes()
    loaded = RetrievalIndex.from_bytes(data)
    assert len(loaded) == len(index)
    assert [loaded.ask(q).to_dict() for q in QUESTIONS] == [index.ask(q).to_dict() for q in QUESTIONS]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:  # plain arrays and JSON, nothing else
        assert all(name.endswith((".npy", ".json")) for name in zf.namelist())


def _replace_member(data: bytes, name: str, payload: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, payload if info.filename == name else src.read(info.filename))
    return out.getvalue()


def test_from_bytes_refuses_pickle_and_garbage(index):
    data = index.to_bytes()
    object_array = io.BytesIO()
    np.save(object_array, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    bad_offsets = io.BytesIO()
    np.save(bad_offsets, np.full(len(index), 10**9, dtype=np.int32), allow_pickle=False)
    payloads = {
        "pickle": pickle.dumps({"names": ["x"]}),
        "garbage": b"\x00" * 100,
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "object array": _replace_member(data, "postings.npy", object_array.getvalue()),
        "out of range": _replace_member(data, "postings.npy", bad_offsets.getvalue()),
        "bad json": _replace_member(data, "meta.json", b"{not json"),
        "wrong format": _replace_member(data, "meta.json", b'{"format": "other"}'),
    }
    for payload in payloads.values():
        with pytest.raises(ValueError, match="not an OMM retrieval index"):
            RetrievalIndex.from_bytes(payload)


# --- generated questions and accuracy ----------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    frame = bank_records_frame(20_000, seed=7)
    records = frame.drop(index=bank_records_bad_lines(frame)["row"]).reset_index(drop=True)
    return records, RetrievalIndex.build(records)


def test_generated_questions_are_seeded_and_labelled(demo):
    records, _ = demo
    first = generate_questions(records, 300, seed=3)
    assert first == generate_questions(records, 300, seed=3)
    assert first != generate_questions(records, 300, seed=4)
    assert all(isinstance(q, Question) for q in first)
    by_code = dict(zip(records["bank_code"], records["clearing_code"], strict=True))
    assert all(by_code[q.bank_code] == q.clearing_code for q in first)
    kinds = {kind for q in first for kind in q.noise.split("+")}
    assert {"code", "alias", "wrapper", "no_company"} <= kinds
    # Noisy variants: most questions are not a record's name as written.
    names = set(records["bank_name"])
    assert sum(q.text in names for q in first) < len(first) * 0.2


def _osa(a: str, b: str) -> int:
    """Optimal string alignment distance, the textbook table."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def _points(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(n) for n in names])
    points = np.full((len(names), max(int(lengths.max()), 1)), -1)
    for row, name in enumerate(names):
        points[row, : len(name)] = [ord(ch) for ch in name]
    return points, lengths


def test_osa_distances_match_the_textbook_table():
    names = ["北京东街", "北京东结", "北京街东", "北京东", "北京", ""]
    # A swap of neighbours (街东) is one edit, as the generator's typo makes it.
    assert list(osa_distances("北京东街", *_points(names))) == [0, 1, 1, 1, 2, 4]
    rng = np.random.default_rng(5)
    for _ in range(200):
        names = ["".join(rng.choice(list("abcd"), size=rng.integers(0, 8))) for _ in range(12)]
        text = "".join(rng.choice(list("abcd"), size=rng.integers(0, 8)))
        assert list(osa_distances(text, *_points(names))) == [_osa(text, n) for n in names]


TWINS = [  # one bank, one city: typos can leave two of these equally close
    ("中国工商银行股份有限公司北京市分行营业部", "0001"),
    ("中国工商银行股份有限公司北京江北支行", "0002"),
    ("中国工商银行股份有限公司北京北湖支行", "0003"),
    ("中国工商银行股份有限公司北京东街支行", "0004"),
    ("中国工商银行股份有限公司北京东湖支行", "0005"),
]


def test_a_typo_as_close_to_another_branch_is_drawn_again(monkeypatch):
    """Only typos, on the branch words: every question kept is closer to its own branch than
    to any other of its bank and city, and the ambiguous draws were thrown away."""
    quiet = dict.fromkeys(qgen.NOISE, 0.0) | {"bank_full": 1.0, "typo": 1.0}
    for key, value in quiet.items():
        monkeypatch.setitem(qgen.NOISE, key, value)
    for kind in qgen.TYPOS:
        monkeypatch.setitem(qgen.TYPOS, kind, 1.0 if kind == "drop" else 0.0)
    clearing = make_code("102", "1000", "0001")
    records = pd.DataFrame(
        [
            {"bank_name": n, "bank_code": make_code("102", "1000", b), "clearing_code": clearing}
            for n, b in TWINS
        ],
    )
    redrawn: dict[str, int] = {}
    questions = generate_questions(records, 300, seed=1, redrawn=redrawn)
    assert redrawn.get("typo_as_close", 0) > 10  # 江北 -> 北 beside 北湖, 东街 -> 东 beside 东湖 …
    keys = [qgen._same_name(n) for n, _ in TWINS]
    codes = [make_code("102", "1000", b) for _, b in TWINS]
    for q in questions:
        assert q.noise.startswith("typo:drop")
        distances = list(osa_distances(qgen._same_name(q.text), *_points(keys)))
        own = distances[codes.index(q.bank_code)]
        assert all(d > own for d, c in zip(distances, codes, strict=True) if c != q.bank_code), q


def test_accuracy_on_generated_questions(demo):
    records, index = demo
    questions = generate_questions(records, 2_000, seed=11)
    answers = [index.ask(q.text) for q in questions]
    answered = [(q, a) for q, a in zip(questions, answers, strict=True) if a.sure]
    right = sum(a.bank_code == q.bank_code for q, a in answered)
    assert right / len(answered) >= 0.995
    assert 1 - len(answered) / len(questions) <= 0.02


def test_an_answer_as_a_dict_holds_every_field_and_plain_candidates(index):
    from dataclasses import asdict

    answer = index.ask("工行北京朝阳支行", k=3)
    assert answer.to_dict() == asdict(answer)
    assert answer.to_dict()["candidates"] is not answer.candidates
