"""Bank-records validation: header aliases, every rule, bad lines, and a 150,000-line run.

No database: tables are built in memory or read from files in tmp_path. (Issue #16: the
Luhn check digit is gone from validation and a clearing code of another bank category is
a warning; the tests that asserted those rules now assert the new behaviour.)
"""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from apps.datasets import cnaps, codes
from apps.datasets.bank_records import HEADER_ALIASES, map_headers, validate_bank_records
from apps.datasets.cnaps import make_code
from apps.datasets.readers import BadLine, IngestError, convert_to_parquet, read_parquet_columns

ICBC = make_code("102", "1000", "0001")
ICBC_2 = make_code("102", "1000", "0002")
ICBC_3 = make_code("102", "1000", "0003")
ABC = make_code("103", "1000", "0001")
# The same digits in full width (U+FF10..U+FF19): Python's \d matches them, a code must not.
FULL_WIDTH = ICBC.translate({ord(str(d)): 0xFF10 + d for d in range(10)})


def other_last_digit(code: str) -> str:
    """The code with another last digit (a Luhn-failing code when ``code`` passes Luhn)."""
    return code[:11] + str((int(code[11]) + 1) % 10)


def table(rows: list[tuple], names=("bank_name", "bank_code", "clearing_code")) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    return pa.table({n: pa.array(list(c), pa.string()) for n, c in zip(names, columns, strict=True)})


def check(rows: list[tuple], bad_lines: list[BadLine] | None = None, scheme: str = "cnaps", **kwargs):
    """Validate ``rows`` as a CNAPS register unless told otherwise."""
    return validate_bank_records(table(rows, **kwargs), None, bad_lines or [], scheme=scheme)


LOST_ZEROS = (
    "bank_code: 11 digits where a CNAPS code has 12 digits: looks like a code that lost its leading "
    "zero(s) in a spreadsheet (it would be 0{code}); store the column as text"
)


def messages(result) -> list[str]:
    return list(result.error_message)


# --- headers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "columns",
    [
        ["bank_name", "bank_code", "clearing_code"],
        ["Bank Name", "BANK_CODE", " Clearing-Code "],
        ["银行名称", "联行号", "清算行行号"],
        ["行名", "行号", "清算行号"],
        ["网点名称", "支付行号", "清算号"],
        ["机构名称", "银行代码", "清算代码"],
    ],
)
def test_headers_are_found_by_english_or_chinese_alias(columns):
    mapping = map_headers(["序号", *columns])
    assert list(mapping) == ["bank_name", "bank_code", "clearing_code"]
    assert list(mapping.values()) == columns


def test_the_more_specific_alias_wins():
    # 名称 is a fallback for the name; 银行名称 is preferred wherever it stands.
    assert map_headers(["名称", "联行号", "清算行行号", "银行名称"])["bank_name"] == "银行名称"


def test_aliases_do_not_overlap_between_fields():
    seen: dict[str, str] = {}
    for field, aliases in HEADER_ALIASES.items():
        for alias in aliases:
            key = "".join(alias.split()).casefold().replace("_", "").replace("-", "")
            assert seen.setdefault(key, field) == field, alias


def test_missing_fields_are_named_with_what_was_found():
    with pytest.raises(IngestError) as info:
        map_headers(["银行名称", "金额"])
    assert info.value.code == "missing_columns"
    assert "bank_code" in info.value.message
    assert "clearing_code" not in info.value.message  # optional since issue #16
    assert "bank_name (" not in info.value.message
    assert "金额" in info.value.message


def test_optional_columns_and_a_bic_column_standing_for_the_code():
    assert map_headers(["行名", "SWIFT代码", "国家/地区", "城市", "地址"]) == {
        "bank_name": "行名",
        "bank_code": "SWIFT代码",
        "country": "国家/地区",
        "city": "城市",
        "address": "地址",
    }
    mapping = map_headers(["Bank Name", "Bank Code", "BIC", "Country", "City"])
    assert mapping["bank_code"] == "Bank Code" and mapping["bic"] == "BIC" and "clearing_code" not in mapping


# --- rules ----------------------------------------------------------------------------------


def test_a_clean_file_is_all_valid():
    result = check([("中国工商银行北京分行", ICBC, ICBC), ("中国工商银行海淀支行", ICBC_2, ICBC)])
    assert result.is_valid.tolist() == [True, True]
    assert messages(result) == ["", ""]
    assert (result.total, result.valid, result.invalid) == (2, 2, 0)
    assert result.problems_by_kind == {}
    assert result.line_number.tolist() == [2, 3]
    assert result.extra is None


@pytest.mark.parametrize(
    ("row", "message", "kind"),
    [
        (("", ICBC, ICBC), "bank_name: missing", "bank_name_missing"),
        (("  ", ICBC, ICBC), "bank_name: missing", "bank_name_missing"),
        ((None, ICBC, ICBC), "bank_name: missing", "bank_name_missing"),
        (("行", "", ICBC), "bank_code: missing", "bank_code_missing"),
        (("行", ICBC, None), "clearing_code: missing", "clearing_code_missing"),
        (("行", ICBC[:11], ICBC), LOST_ZEROS.format(code=ICBC[:11]), "bank_code_leading_zeros"),
        (("行", ICBC + "0", ICBC), "bank_code: must be 12 digits", "bank_code_format"),
        (("行", "10210000000X", ICBC), "bank_code: must be 12 digits", "bank_code_format"),
        (("行", ICBC, "clearing"), "clearing_code: must be 12 digits", "clearing_code_format"),
        (
            ("行", "DEUTDEFFXXX", ICBC),
            "bank_code: DEUTDEFFXXX is a BIC/SWIFT code, but the dataset's code scheme is CNAPS",
            "bank_code_scheme",
        ),
        (("行" * 201, ICBC, ICBC), "bank_name: longer than 200 characters", "bank_name_too_long"),
        (("行", "1" * 51, ICBC), "bank_code: longer than 50 characters", "bank_code_too_long"),
    ],
)
def test_each_rule_marks_the_record_invalid_with_a_message(row, message, kind):
    result = check([row])
    assert result.is_valid.tolist() == [False]
    assert messages(result) == [message]
    assert result.problems_by_kind == {kind: 1}
    assert (result.valid, result.invalid) == (0, 1)


def test_values_are_stripped_and_long_names_capped():
    result = check([(" 中国工商银行 ", f" {ICBC}\t", f"{ICBC} "), ("行" * 250, ICBC_2, ICBC)])
    assert result.bank_name[0] == "中国工商银行"
    assert result.bank_code[0] == ICBC
    assert result.clearing_code[0] == ICBC
    assert result.is_valid[0]
    assert len(result.bank_name[1]) == 200


def test_several_problems_on_one_line_are_joined():
    result = check([("", ICBC + "1", "ABC")])
    assert messages(result) == [
        "bank_name: missing; bank_code: must be 12 digits; clearing_code: must be 12 digits"
    ]
    assert [kind for kind, _ in result.problems[0]] == [
        "bank_name_missing",
        "bank_code_format",
        "clearing_code_format",
    ]


def test_the_last_digit_is_not_checked_and_another_bank_as_clearing_bank_is_a_warning():
    # Issue #16: no published rule defines a CNAPS check digit; a small bank may clear
    # through another bank.
    result = check([("行", other_last_digit(ICBC), ICBC), ("行二", ICBC_2, ABC)])
    assert result.is_valid.tolist() == [True, True]
    assert result.problems_by_kind == {}
    assert result.warnings_by_kind == {"category_mismatch": 1}
    assert result.warnings[1] == [["category_mismatch", {"clearing": "103", "code": "102"}]]


def test_a_warning_kind_can_be_made_an_error():
    rows = [("行", ICBC, ICBC), ("行二", ICBC_2, ABC)]
    result = validate_bank_records(table(rows), None, [], error_rules=["category_mismatch"])
    assert result.is_valid.tolist() == [True, False]
    assert messages(result)[1] == "clearing_code: bank category 103 differs from bank_code's 102"
    assert result.problems_by_kind == {"category_mismatch": 1} and result.warnings_by_kind == {}


def test_a_duplicate_code_keeps_the_first_line_valid():
    rows = [("a", ICBC, ICBC), ("b", ICBC_2, ICBC), ("c", ICBC, ICBC), ("d", ICBC_3, ICBC), ("e", ICBC, ICBC)]
    result = check(rows)
    assert result.is_valid.tolist() == [True, True, False, True, False]
    assert messages(result)[2] == "duplicate bank_code, first on line 2"
    assert messages(result)[4] == "duplicate bank_code, first on line 2"
    assert result.problems_by_kind == {"duplicate_bank_code": 2}


def test_duplicates_of_malformed_codes_are_found_too_but_not_of_missing_ones():
    rows = [("a", "1234-5", ICBC), ("b", "1234-5", ICBC), ("c", "", ICBC), ("d", "", ICBC)]
    result = check(rows)
    assert messages(result) == [
        "bank_code: must be 12 digits",
        "bank_code: must be 12 digits; duplicate bank_code, first on line 2",
        "bank_code: missing",
        "bank_code: missing",
    ]


def test_duplicates_are_found_on_the_code_as_read():
    spaced = f"{ICBC[:4]} {ICBC[4:8]} {ICBC[8:]}"
    result = check([("a", ICBC, ICBC), ("b", spaced, ICBC)])
    assert result.bank_code == [ICBC, ICBC]
    assert messages(result)[1] == "duplicate bank_code, first on line 2"


def test_duplicates_use_the_given_line_numbers():
    rows = [("a", ICBC, ICBC), ("b", ICBC, ICBC)]
    result = validate_bank_records(table(rows), np.array([10, 42]), [])
    assert result.line_number.tolist() == [10, 42]
    assert messages(result)[1] == "duplicate bank_code, first on line 10"


@pytest.mark.parametrize("scheme", ["auto", "cnaps", "bic", "national"])
def test_the_vectorised_check_agrees_with_the_one_by_one_reading(scheme):
    rng = random.Random(3)
    values = [f"{rng.randint(0, 10**12 - 1):012d}" for _ in range(500)]
    values += [
        "1" * 11,
        "a" * 12,
        "1" * 13,
        "１" * 12,  # noqa: RUF001
        "12345678901２",  # noqa: RUF001
        "\u0661" * 12,
        "1 2",
        "DEUTDEFF",
        "x/y",
    ]
    result = validate_bank_records(
        table([("n", v, ICBC) for v in values]), np.arange(2, len(values) + 2), [], scheme=scheme
    )
    for i, value in enumerate(values):
        verdict = codes.judge(value, scheme, result.main_scheme)
        kinds = [kind for kind, _ in result.problems[i] if kind.startswith("bank_code_")]
        assert kinds == ([f"bank_code_{verdict.problem}"] if verdict.problem else []), value
        assert result.scheme[i] == verdict.scheme, value


def test_extra_columns_are_kept_as_text_per_record():
    # 地址 is a field of its own since issue #16; the other columns stay extras.
    data = pa.table(
        {
            "序号": pa.array([1, 2]),
            "银行名称": ["甲", "乙"],
            "联行号": [ICBC, ICBC_2],
            "清算行行号": [ICBC, ICBC],
            "备注": ["北京", None],
            "地址": ["北京市西城区复兴门内大街55号", None],
        }
    )
    result = validate_bank_records(data, np.array([2, 3]), [])
    assert result.extra == [{"序号": "1", "备注": "北京"}, {"序号": "2", "备注": None}]
    assert result.address == ["北京市西城区复兴门内大街55号", ""]
    assert result.is_valid.all()


def test_codes_read_as_integers_are_checked_as_text():
    data = pa.table({"bank_name": ["甲"], "bank_code": pa.array([int(ICBC)]), "clearing_code": [ICBC]})
    result = validate_bank_records(data, None, [])
    assert result.bank_code == [ICBC]
    assert result.is_valid.tolist() == [True]


def test_bad_lines_become_invalid_records_in_line_order():
    rows = [("a", ICBC, ICBC), ("b", ICBC_2, ICBC), ("c", ICBC_3, ICBC)]
    bad = [
        BadLine(3, "x,y", "expected 3 fields, found 2"),
        BadLine(7, "1,2,3,4", "expected 3 fields, found 4"),
    ]
    result = validate_bank_records(table(rows), np.array([2, 4, 5]), bad)
    assert result.line_number.tolist() == [2, 3, 4, 5, 7]
    assert result.is_valid.tolist() == [True, False, True, True, False]
    assert result.bank_name == ["a", "", "b", "c", ""]
    assert result.bank_code[1] == "" and result.clearing_code[4] == ""
    assert messages(result)[1] == "line could not be read: expected 3 fields, found 2"
    assert (result.total, result.valid, result.invalid) == (5, 3, 2)
    assert result.problems_by_kind == {"bad_line": 2}


def test_bad_lines_get_empty_extra_fields():
    data = table([("a", ICBC, ICBC, "x")], names=("bank_name", "bank_code", "clearing_code", "note"))
    result = validate_bank_records(data, np.array([3]), [BadLine(2, "oops", "expected 4 fields, found 1")])
    assert result.extra == [{}, {"note": "x"}]


def test_an_empty_table_with_only_bad_lines():
    result = validate_bank_records(
        table([]), np.zeros(0, np.int64), [BadLine(2, "x", "expected 3 fields, found 1")]
    )
    assert result.line_number.tolist() == [2]
    assert (result.total, result.valid, result.invalid) == (1, 0, 1)


# --- from files ------------------------------------------------------------------------------


def test_a_gbk_csv_with_a_broken_line_end_to_end(tmp_path):
    text = (
        "行名,行号,清算行号,备注\n"
        f"中国工商银行北京分行,{ICBC},{ICBC},\n"
        f"中国工商银行海淀支行,{ICBC_2}\n"
        f'"中国工商银行\n朝阳支行",{ICBC_3},{ICBC},多行\n'
        f"中国农业银行,{ABC},{ICBC},\n"
    )
    src = tmp_path / "banks.csv"
    src.write_bytes(text.encode("gbk"))
    converted = convert_to_parquet(
        src, tmp_path / "b.parquet", fmt="csv", all_strings=True, tolerate_bad_lines=True
    )
    result = validate_bank_records(
        read_parquet_columns(tmp_path / "b.parquet"), converted.line_numbers, converted.bad_lines
    )
    assert result.line_number.tolist() == [2, 3, 4, 6]
    assert result.is_valid.tolist() == [True, False, True, True]
    assert result.bank_name[2] == "中国工商银行\n朝阳支行"
    assert messages(result)[1] == "line could not be read: expected 4 fields, found 2"
    assert result.warnings[3] == [["category_mismatch", {"clearing": "102", "code": "103"}]]
    assert result.extra[0] == {"备注": ""}


def test_150000_lines_are_validated_with_exact_counts():
    n = 150_000
    rng = np.random.default_rng(5)
    categories = np.array(list(cnaps.BANK_CATEGORIES))[rng.integers(0, len(cnaps.BANK_CATEGORIES), n)]
    codes = [
        make_code(c, f"{1000 + i // 10000}", f"{i % 10000:04d}") for i, c in enumerate(categories.tolist())
    ]
    clearing = [make_code(code[:3], code[3:7], "0001") for code in codes]
    names = [f"银行网点{i}" for i in range(n)]
    # Break known lines: 100 names, 200 last digits (valid: no check digit), 300 duplicates,
    # 50 foreign clearing codes (warnings), 20 codes that lost their leading zeros.
    for i in range(0, 1000, 10):
        names[i] = ""
    for i in range(1000, 3000, 10):
        codes[i] = other_last_digit(codes[i])
    for i in range(3001, 6001, 10):
        codes[i], clearing[i] = codes[i - 1], clearing[i - 1]
    for i in range(6000, 6500, 10):
        other = next(c for c in cnaps.BANK_CATEGORIES if c != codes[i][:3])
        clearing[i] = make_code(other, "1000", "0001")
    for i in range(7000, 7200, 10):
        codes[i] = "00" + codes[i][2:]
        codes[i] = codes[i].lstrip("0")
    data = pa.table({"银行名称": names, "联行号": codes, "清算行行号": clearing})
    result = validate_bank_records(
        data, np.arange(2, n + 2), [BadLine(n + 2, "x", "expected 3 fields, found 1")]
    )
    assert result.total == n + 1
    assert result.problems_by_kind == {
        "bank_name_missing": 100,
        "bank_code_leading_zeros": 20,
        "duplicate_bank_code": 300,
        "bad_line": 1,
    }
    assert result.warnings_by_kind == {"category_mismatch": 50}
    assert result.schemes == {"cnaps": n - 20} and result.main_scheme == "cnaps"
    assert result.invalid == 100 + 20 + 300 + 1
    assert result.valid == n + 1 - result.invalid
    assert len(result.bank_name) == len(result.error_message) == len(result.is_valid) == n + 1
    assert result.error_message[3001] == "duplicate bank_code, first on line 3002"
