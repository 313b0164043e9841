"""CSV cells that a spreadsheet will not run: the one place exports neutralise formulas.

A cell starting with = + - @ (or a tab/carriage return that some spreadsheets skip before
one) is read as a formula by Excel, LibreOffice and Google Sheets (OWASP "CSV
injection"). Such text cells are prefixed with a single quote. Numbers are written as
numbers: a negative score stays -0.25, not '-0.25.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """``value`` ready for csv.writer: formula-looking text gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_rows(out: io.TextIOBase, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a header and rows with every cell neutralised; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow([cell(h) for h in header])
    n = 0
    for row in rows:
        writer.writerow([cell(v) for v in row])
        n += 1
    return n


def neutralise_column(column: Any) -> Any:
    """The same rule for a whole Arrow string column (vectorised, for large exports)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return column
    risky = pc.match_substring_regex(column, r"^[=+\-@\t\r]")
    return pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
