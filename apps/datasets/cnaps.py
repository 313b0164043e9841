"""China's 12-digit bank codes (CNAPS 行号, 联行号): the bank categories OMM knows by name,
and a builder of made-up codes for generated data.

A published code reads ``BBB CCCC NNNN D``: a 3-digit bank category (行别代码, e.g. 102 for
ICBC), a 4-digit city code (城市代码), a 4-digit branch sequence and a last digit. The
People's Bank of China publishes no rule for that last digit, and real codes fail the
usual check-digit schemes (102100099996, 中国工商银行清算中心, fails Luhn), so validation
checks only that a code is twelve ASCII digits (see :mod:`apps.datasets.codes`).

Pure module: no Django import.
"""

from __future__ import annotations

# Bank category -> (full name, common short names). Used by demo data and QA aliases.
BANK_CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "102": ("中国工商银行", ("工行", "工商银行", "ICBC")),
    "103": ("中国农业银行", ("农行", "农业银行", "ABC")),
    "104": ("中国银行", ("中行", "BOC")),
    "105": ("中国建设银行", ("建行", "建设银行", "CCB")),
    "301": ("交通银行", ("交行", "BOCOM")),
    "302": ("中信银行", ("中信", "CITIC")),
    "303": ("中国光大银行", ("光大", "光大银行", "CEB")),
    "304": ("华夏银行", ("华夏",)),
    "305": ("中国民生银行", ("民生", "民生银行", "CMBC")),
    "306": ("广发银行", ("广发",)),
    "307": ("平安银行", ("平安",)),
    "308": ("招商银行", ("招行", "CMB")),
    "309": ("兴业银行", ("兴业", "CIB")),
    "310": ("上海浦东发展银行", ("浦发", "浦发银行", "SPDB")),
    "403": ("中国邮政储蓄银行", ("邮储", "邮储银行", "邮政储蓄银行", "PSBC")),
}


def _filler_digit(digits: str) -> str:
    # Any digit would do; this one (Luhn's) varies with the other eleven, so made-up codes
    # do not all end alike. It is OMM's generator's choice, not a CNAPS rule.
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_code(category: str, city: str, branch: str) -> str:
    """A made-up 12-digit code for generated data (demo records, tests) from its parts
    (3 + 4 + 4 digits) and a last digit of the generator's choosing."""
    body = f"{category:0>3}{city:0>4}{branch:0>4}"
    if not body.isdigit() or len(body) != 11:
        raise ValueError(f"bad code parts: {category!r}, {city!r}, {branch!r}")
    return body + _filler_digit(body)
