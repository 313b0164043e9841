"""Bank codes as banks publish them (issue #16): CNAPS codes without an invented check
digit, BICs (ISO 9362, countries from ISO 3166-1), national codes, and the bad input
real registers carry. No database: the pure validator on in-memory tables."""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pytest

from apps.datasets import bank_issues, codes
from apps.datasets.bank_records import validate_bank_records
from apps.datasets.cnaps import make_code

# Codes as the People's Bank of China's directory publishes them, with their banks.
PUBLISHED = [
    ("中国工商银行清算中心", "102100099996"),
    ("中国农业银行资金清算中心", "103100000026"),
    ("中国银行总行", "104100000004"),
    ("中国建设银行总行", "105100000017"),
    ("交通银行", "301290000007"),
    ("招商银行", "308584000013"),
]
REAL_BICS = [
    ("Deutsche Bank AG", "DEUTDEFFXXX", "DE"),
    ("BNP Paribas", "BNPAFRPPXXX", "FR"),
    ("Industrial and Commercial Bank of China", "ICBKCNBJ", "CN"),
    ("Bank of China Beijing Branch", "BKCHCNBJ110", "CN"),
]


def luhn_ok(code: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(code)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def run(columns: dict[str, list], **options):
    data = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
    return validate_bank_records(data, None, [], **options)


@pytest.mark.parametrize("scheme", ["auto", "cnaps"])
def test_published_cnaps_codes_validate_though_they_fail_luhn(scheme):
    assert not any(luhn_ok(code) for _, code in PUBLISHED)  # why OMM checks no check digit
    names, bank_codes = zip(*PUBLISHED, strict=True)
    result = run(
        {"银行名称": list(names), "联行号": list(bank_codes), "清算行行号": list(bank_codes)}, scheme=scheme
    )
    assert result.is_valid.all(), result.error_message
    assert result.problems_by_kind == {} and result.warnings_by_kind == {}
    assert result.scheme == ["cnaps"] * 6 and result.country == ["CN"] * 6
    assert result.bank_code == list(bank_codes)


def test_a_5000_line_register_of_luhn_failing_codes_has_no_invalid_line():
    bank_codes = [make_code("102", f"{1000 + i // 1000}", f"{i % 1000:04d}") for i in range(5000)]
    bank_codes = [c[:11] + str((int(c[11]) + 3) % 10) for c in bank_codes]  # none passes Luhn
    assert not any(luhn_ok(c) for c in bank_codes)
    names = [f"中国工商银行股份有限公司北京市分行第{i}支行" for i in range(5000)]
    result = run({"行名": names, "行号": bank_codes, "清算行号": [bank_codes[0]] * 5000})
    assert (result.valid, result.invalid) == (5000, 0)


def test_real_bics_validate_as_a_bic_register():
    names, bics, countries = zip(*REAL_BICS, strict=True)
    result = run(
        {"bank_name": list(names), "SWIFT": list(bics), "city": ["Frankfurt", "Paris", "北京", "北京"]}
    )
    assert result.is_valid.all(), result.error_message
    assert result.scheme == ["bic"] * 4
    assert result.country == list(countries)
    assert result.bic == list(bics) and result.bank_code == list(bics)
    assert result.city == ["Frankfurt", "Paris", "北京", "北京"]


@pytest.mark.parametrize("scheme", ["auto", "bic"])
def test_a_bic_of_no_iso_3166_country_cannot_be_used(scheme):
    result = run(
        {"bank_name": ["Deutsche Bank", "Nowhere Bank"], "bic": ["DEUTDEFF", "DEUTZZFFXXX"]}, scheme=scheme
    )
    assert result.is_valid.tolist() == [True, False]
    assert result.problems[1] == [
        ["bank_code_country", {"field": "bank_code", "code": "DEUTZZFFXXX", "country": "ZZ"}]
    ]
    assert result.error_message[1] == "bank_code: ZZ in BIC DEUTZZFFXXX is not an ISO 3166-1 country code"


def test_a_bic_column_beside_the_codes_is_checked_and_kept():
    result = run(
        {
            "bank_name": ["中国银行北京分行", "中国银行上海分行", "某行"],
            "bank_code": ["104100004013", "104290003033", "104100000004"],
            "bic": ["bkchcnbj110", "BKCH CN BJ 300", "BKCHXXBJ"],
        }
    )
    assert result.is_valid.tolist() == [True, True, False]
    assert result.bic[:2] == ["BKCHCNBJ110", "BKCHCNBJ300"]
    assert result.problems_by_kind == {"bic_country": 1}
    assert result.warnings_by_kind == {"code_normalised": 2}


def test_a_national_code_register_loads_with_latin_and_cyrillic_names():
    result = run(
        {
            "Bank name": ["First Bank", "Deutsche Bundesbank Berlin", "Сбербанк", "Banque de France"],
            "Bank code": ["01-0001", "DE10010010", "10010010", "30001 00064"],
            "Country": ["NZ", "Germany", "Россия", "法国"],
        },
        scheme="national",
    )
    assert result.is_valid.all(), result.error_message
    assert result.scheme == ["national"] * 4
    assert result.bank_code == ["01-0001", "DE10010010", "10010010", "30001 00064"]
    # Country names in English or Chinese read as ISO 3166-1 codes; others are kept and warned.
    assert result.country == ["NZ", "DE", "Россия", "FR"]
    assert result.warnings_by_kind == {"country_unknown": 1}


def test_national_codes_are_detected_per_line_too():
    result = run({"bank_name": ["a", "b", "c"], "bank_code": ["01-0001", "DE10010010", "10010010"]})
    assert result.is_valid.all()
    assert result.scheme == ["national"] * 3 and result.country == ["", "DE", ""]


def test_full_width_digits_and_spaces_are_read_with_a_warning():
    written = "１０２１ ０００９ ９９９６"  # noqa: RUF001
    result = run({"银行名称": ["中国工商银行清算中心", "交通银行"], "联行号": [written, "3012-9000-0007"]})
    assert result.is_valid.all()
    assert result.bank_code == ["102100099996", "301290000007"]
    assert result.warnings[0] == [
        ["code_normalised", {"field": "bank_code", "raw": written, "code": "102100099996"}]
    ]
    assert bank_issues.render(*result.warnings[1][0]) == "bank_code: 3012-9000-0007 read as 301290000007"


def test_codes_that_lost_their_leading_zeros_are_explained():
    published = "001100000015"  # 中国人民银行营业管理部: a code that starts with zeros
    result = run(
        {
            "银行名称": ["中国人民银行营业管理部", "中国工商银行清算中心"],
            "联行号": ["1100000015", "102100099996"],
        }
    )
    assert result.is_valid.tolist() == [False, True]
    message = result.error_message[0]
    assert "lost its leading zero(s) in a spreadsheet" in message and "store the column as text" in message
    assert f"it would be {published}" in message
    assert result.problems_by_kind == {"bank_code_leading_zeros": 1}


def test_duplicate_names_stay_valid_and_duplicate_codes_do_not():
    result = run(
        {
            "银行名称": ["中国农业银行", "中国农业银行", "中国银行"],
            "联行号": ["103100000026", "103100000018", "103100000026"],
        }
    )
    assert result.is_valid.tolist() == [True, True, False]
    assert result.warnings[1] == [["duplicate_name", {"line": 2}]]
    assert result.error_message[2] == "duplicate bank_code, first on line 2"


def test_mixed_schemes_are_each_judged_by_their_own_scheme():
    columns = {
        "bank_name": ["工行", "农行", "Deutsche Bank", "Nowhere"],
        "bank_code": ["102100099996", "103100000026", "DEUTDEFFXXX", "DEUTZZFF"],
    }
    auto = run(columns)
    assert auto.is_valid.tolist() == [True, True, True, False]
    assert auto.scheme == ["cnaps", "cnaps", "bic", ""]
    assert auto.main_scheme == "cnaps" and auto.schemes == {"cnaps": 2, "bic": 1}
    assert bank_issues.render(*auto.warnings[2][0]) == (
        "bank_code: a BIC/SWIFT code, while most codes of the file are CNAPS"
    )
    declared = run(columns, scheme="cnaps")
    assert declared.is_valid.tolist() == [True, True, False, False]
    assert declared.error_message[2] == (
        "bank_code: DEUTDEFFXXX is a BIC/SWIFT code, but the dataset's code scheme is CNAPS"
    )


def test_every_issue_kind_renders_and_translates_with_its_template():
    for kind, template in bank_issues.TEMPLATES.items():
        names = [part.split(")")[0] for part in template.split("%(")[1:]]
        text = bank_issues.render(kind, dict.fromkeys(names, "X"), lambda t: "<" + t + ">")
        assert text.startswith("<") and "%(" not in text, kind


@pytest.mark.parametrize(
    ("value", "declared", "scheme", "problem"),
    [
        ("102100099996", "auto", "cnaps", ""),
        ("DEUTDEFF", "auto", "bic", ""),
        ("deutdeffxxx", "bic", "bic", ""),
        ("RBKOXKPR", "bic", "bic", ""),  # Kosovo: XK, as SWIFT's directory uses it
        ("DEUTDEF", "bic", "", "bic_format"),
        ("102100099996", "bic", "", "scheme"),
        ("01-0001", "national", "national", ""),
        ("01--0001", "national", "", "national_format"),
        ("银行", "auto", "", "unrecognised"),
        ("10210009999", "cnaps", "", "leading_zeros"),
        ("1021-0009-999", "cnaps", "", "format"),
    ],
)
def test_judge(value, declared, scheme, problem):
    verdict = codes.judge(value, declared)
    assert (verdict.scheme, verdict.problem) == (scheme, problem)


def test_150000_cnaps_lines_stay_fast():
    n = 150_000
    bank_codes = [f"{102 + i % 3}{1000 + i // 10000:04d}{i % 10000:04d}{i % 10}" for i in range(n)]
    data = pa.table(
        {"银行名称": [f"网点{i}" for i in range(n)], "联行号": bank_codes, "清算行行号": bank_codes}
    )
    best = min(_timed(lambda: validate_bank_records(data, np.arange(2, n + 2), [])) for _ in range(2))
    assert best < 1.5, best  # about 0.1 s on a developer machine; generous for a loaded CI


def _timed(fn) -> float:
    started = time.perf_counter()
    result = fn()
    assert result.valid == len(result.is_valid)
    return time.perf_counter() - started
