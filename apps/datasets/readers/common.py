"""What the text and workbook readers share: IngestError, Limits, the result types
(ColumnInfo, Problem, BadLine, ConvertResult), the header check and the NA tokens.

Messages are English templates marked with ``_`` (a no-op here) and carried with their
parameters, so the Django side shows them in the reader's language:
``gettext(error.template) % error.params``.

Pure module: no Django import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa


def _(text: str) -> str:
    """Marks a message template for extraction; the Django side translates it."""
    return text


def msg(template: str, **params) -> dict:
    """A message inside another one's parameters: ``{"t": template, "p": params}`` (a list
    of them reads joined by ", ")."""
    return {"t": template, "p": params}


def _fill(template: str, params: dict) -> str:
    if not params:
        return template
    values = {}
    for key, value in params.items():
        if isinstance(value, dict) and "t" in value:
            value = _fill(value["t"], value.get("p") or {})
        elif isinstance(value, list):
            value = ", ".join(_fill(v["t"], v.get("p") or {}) for v in value)
        values[key] = value
    return template % values


class IngestError(ValueError):
    """A file that cannot be taken in, with a stable ``code`` and, if known, a 1-based line.

    ``template`` is the English message with ``%(name)s`` placeholders, ``params`` their
    values, ``message`` the two combined.
    """

    def __init__(self, code: str, template: str, line: int | None = None, params: dict | None = None):
        self.code = code
        self.template = template
        self.params = dict(params or {})
        self.message = _fill(template, self.params)
        self.line = line
        super().__init__(self.message)

    def __reduce__(self):
        # Pickle with every argument (Celery may carry the error between processes).
        return (type(self), (self.code, self.template, self.line, self.params))

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
    template: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return _fill(self.template, self.params)


@dataclass
class BadLine:
    """A record that could not be split into the header's columns (``line`` is where it starts)."""

    line: int
    text: str
    template: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return _fill(self.template, self.params)


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
            _("The file has %(columns)s columns; the limit is %(limit)s."),
            line,
            {"columns": f"{len(names):,}", "limit": f"{limits.max_columns:,}"},
        )
    names = [n.strip() for n in names]
    empty = [i + 1 for i, n in enumerate(names) if not n]
    if empty:
        where = ", ".join(map(str, empty[:10]))
        raise IngestError(
            "empty_column_name",
            _("Column(s) %(columns)s of the header have no name."),
            line,
            {"columns": where},
        )
    seen: set[str] = set()
    dups: list[str] = []
    for n in names:
        if n in seen and n not in dups:
            dups.append(n)
        seen.add(n)
    if dups:
        raise IngestError(
            "duplicate_columns",
            _("Duplicate column names: %(names)s."),
            line,
            {"names": ", ".join(dups[:10])},
        )
    return names


# Cell texts read as missing when types are inferred (CSV/TXT and XLSX alike).
_NULL_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip
