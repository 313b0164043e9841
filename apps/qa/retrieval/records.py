"""Bank records read as (bank_name, bank_code, clearing_code) stripped strings.

Pure module: no Django import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# --- records -----------------------------------------------------------------------------


def read_records(records: Any) -> tuple[list[str], list[str], list[str]]:
    """(bank_name, bank_code, clearing_code) of ``records`` as stripped strings.

    ``records`` is a DataFrame, a mapping of column name -> values, or a sequence of
    mappings; a missing value (None, NaN, NA) reads as "".
    """
    names, codes, clearing = (_column(records, name) for name in ("bank_name", "bank_code", "clearing_code"))
    return names, codes, clearing


def _column(records: Any, name: str) -> list[str]:
    if isinstance(records, Mapping) or hasattr(records, "columns"):
        values = records[name]
        values = values.tolist() if hasattr(values, "tolist") else list(values)
    else:
        values = [record[name] for record in records]
    return [_text(v) for v in values]


def _text(value: Any) -> str:
    """A field as stripped text; None, NaN and pandas' NA are ""."""
    if isinstance(value, str):
        return value.strip()
    if value is None or (isinstance(value, float) and math.isnan(value)) or type(value).__name__ == "NAType":
        return ""
    return str(value).strip()


OPTIONAL = ("scheme", "country", "city", "bic")  # columns records may carry besides the three


def read_optional(records: Any, n: int) -> dict[str, list[str]]:
    """The optional columns of ``records`` (``OPTIONAL``), "" where a column is absent."""
    out: dict[str, list[str]] = {}
    for name in OPTIONAL:
        try:
            out[name] = _column(records, name)
        except (KeyError, TypeError):
            out[name] = [""] * n
    return out
