"""Fixtures for the datasets tests: small files (the upload helper is in tests/conftest.py)."""

from __future__ import annotations

import io

import pytest

from tests.sample_data import CREDIT_CSV, bank_csv


@pytest.fixture
def gbk_bytes() -> bytes:
    return bank_csv().encode("gbk")


@pytest.fixture
def xlsx_bytes() -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, line in enumerate(CREDIT_CSV.strip().splitlines()):
        for c, value in enumerate(line.split(",")):
            sheet.write(r, c, float(value) if value.replace(".", "").isdigit() and c != 0 else value)
    book.close()
    return buffer.getvalue()
