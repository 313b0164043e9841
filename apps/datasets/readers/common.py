"""What the text and workbook readers share: IngestError, Limits, the result types
(ColumnInfo, Problem, BadLine, ConvertResult), the header check and the NA tokens.

Pure module: no Django import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa


class IngestError(ValueError):
    """A file that cannot be taken in, with a stable ``code`` and, if known, a 1-based line."""

    def __init__(self, code: str, message: str, line: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line

    def __reduce__(self):
        # Pickle with all three arguments (Celery may carry the error between processes).
        return (type(self), (self.code, self.message, self.line))

    def __repr__(self) -> str:
        return f"IngestError({self.code!r}, {self.message!r}, line={self.line!r})"


@dataclass(frozen=True)
class Limits:
    """Safety limits. Sizes are in bytes.

    ``max_line_bytes`` bounds a physical line and a whole record (a quoted field may span
    lines). ``xlsx_max_uncompressed_bytes`` bounds the sum of a workbook's parts as
    inflated; ``xlsx_max_ratio`` (inflated / compressed size) applies to each part larger
    than 1 MiB, since smaller parts cannot be bombs whatever their ratio.
    """

    max_line_bytes: int = 1_048_576
    max_columns: int = 2000
    xlsx_max_uncompressed_bytes: int = 2_147_483_648
    xlsx_max_ratio: int = 200


@dataclass
class ColumnInfo:
    """A column of the converted table; ``dtype`` is the Arrow type as a string."""

    name: str
    dtype: str


@dataclass
class Problem:
    """Something worth telling the uploader that did not stop the conversion."""

    line: int | None
    message: str


@dataclass
class BadLine:
    """A record that could not be split into the header's columns (``line`` is where it starts)."""

    line: int
    text: str
    message: str


@dataclass
class ConvertResult:
    """What :func:`convert_to_parquet` wrote.

    ``line_numbers`` holds, for each row of the Parquet table, the 1-based line it came from
    (int64): the physical line a CSV record starts on, or the worksheet row number of an
    XLSX row. It is always set by :func:`convert_to_parquet`.
    """

    row_count: int
    columns: list[ColumnInfo]
    encoding: str | None
    delimiter: str | None
    line_numbers: np.ndarray | None
    bad_lines: list[BadLine] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _columns_of(table: pa.Table) -> list[ColumnInfo]:
    return [ColumnInfo(f.name, str(f.type)) for f in table.schema]


def _check_header(names: list[str], limits: Limits, line: int | None) -> list[str]:
    """Header names stripped of surrounding whitespace; refuses empty, duplicate or too many."""
    if len(names) > limits.max_columns:
        raise IngestError(
            "too_many_columns",
            f"The file has {len(names):,} columns; the limit is {limits.max_columns:,}.",
            line,
        )
    names = [n.strip() for n in names]
    empty = [i + 1 for i, n in enumerate(names) if not n]
    if empty:
        where = ", ".join(map(str, empty[:10]))
        raise IngestError("empty_column_name", f"Column(s) {where} of the header have no name.", line)
    seen: set[str] = set()
    dups: list[str] = []
    for n in names:
        if n in seen and n not in dups:
            dups.append(n)
        seen.add(n)
    if dups:
        raise IngestError("duplicate_columns", f"Duplicate column names: {', '.join(dups[:10])}.", line)
    return names


# Cell texts read as missing when types are inferred (CSV/TXT and XLSX alike).
_NULL_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip
