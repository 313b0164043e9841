"""Deterministic demo data: a credit-risk application table and a bank-records (联行号) file.

Both generators are seeded and vectorised, so the same seed gives the same bytes and the
default sizes take well under a few seconds. The data is shaped like what a bank risk team
really gets, with its flaws on purpose: missing values, outliers and duplicated rows in the
credit table; flawed lines (missing name, short code, a letter in a code, foreign clearing
code, duplicated code) in the bank records, with an answer key of which lines and why.

The package: ``credit`` (the application table and its column descriptions) and
``bank_records`` (the branch table, its bad lines and their answer key).

Pure package: no Django import.
"""

from __future__ import annotations

from .bank_records import (
    BAD_REASONS,
    BANK_COLUMNS,
    BANK_HEADERS,
    BRANCH_SUFFIXES,
    BRANCH_WORDS,
    CITIES,
    _short,
    bank_records_bad_lines,
    bank_records_frame,
    write_bank_records_csv,
)
from .credit import (
    CHANNELS,
    EDUCATION_LEVELS,
    TARGET_BAD_RATE,
    credit_feature_descriptions,
    credit_frame,
    write_credit_csv,
)

__all__ = [
    "BAD_REASONS",
    "BANK_COLUMNS",
    "BANK_HEADERS",
    "BRANCH_SUFFIXES",
    "BRANCH_WORDS",
    "CHANNELS",
    "CITIES",
    "EDUCATION_LEVELS",
    "TARGET_BAD_RATE",
    "_short",
    "bank_records_bad_lines",
    "bank_records_frame",
    "credit_feature_descriptions",
    "credit_frame",
    "write_bank_records_csv",
    "write_credit_csv",
]
