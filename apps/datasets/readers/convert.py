"""convert_to_parquet, which hands a file to the text or the workbook reader and writes
the table as Parquet, and read_parquet_columns.

Pure module: no Django import.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .common import ConvertResult, IngestError, Limits, _
from .text import _read_text
from .xlsx import _read_xlsx

# --- conversion ------------------------------------------------------------------------


def convert_to_parquet(
    src: Path,
    dest: Path,
    *,
    fmt: str,
    declared_encoding: str | None = None,
    all_strings: bool = False,
    tolerate_bad_lines: bool = False,
    limits: Limits = Limits(),  # noqa: B008 - frozen, so one shared default is safe
    progress: Callable[[float], None] | None = None,
) -> ConvertResult:
    """Read ``src`` (a "csv", "txt" or "xlsx" file) and write it as one Parquet file at ``dest``.

    ``all_strings`` keeps every value as text (codes keep their leading zeros); otherwise
    column types are inferred and empty cells and NA tokens become null. With
    ``tolerate_bad_lines`` a record with the wrong number of fields is skipped and
    returned in ``bad_lines``; without it the file is refused. ``dest`` appears only
    complete (written to ``dest.part`` then renamed). Raises IngestError.
    """
    src, dest = Path(src), Path(dest)
    report = progress or (lambda _fraction: None)
    report(0.0)
    if fmt in ("csv", "txt"):
        table, result = _read_text(
            src, dest, fmt, declared_encoding, all_strings, tolerate_bad_lines, limits, report
        )
    elif fmt == "xlsx":
        table, result = _read_xlsx(src, all_strings, limits, report)
    else:
        raise IngestError(
            "unknown_extension", _("Unsupported format %(format)s."), None, {"format": repr(fmt)}
        )
    report(0.85)
    _write_parquet(table, dest)
    report(1.0)
    return result


def read_parquet_columns(path: Path, columns: list[str] | None = None) -> pa.Table:
    """The Parquet file at ``path`` as an Arrow table (only ``columns`` if given)."""
    return pq.read_table(path, columns=columns)


def _write_parquet(table: pa.Table, dest: Path) -> None:
    part = dest.with_name(dest.name + ".part")
    try:
        pq.write_table(table, part, compression="zstd")
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
