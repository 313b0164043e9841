"""Reading uploaded tables (CSV, delimited TXT, XLSX) safely into Parquet.

Definitions used throughout:

- A *physical line* is a run of bytes ended by ``\\n``, ``\\r\\n`` or a lone ``\\r``; lines
  are numbered from 1 and the header is normally line 1.
- A *record* is one logical row of a delimited file: it may span several physical lines
  when a quoted field holds a newline. A record's line number is the physical line it
  starts on.
- A *bad line* is a record whose field count differs from the header's. It is refused
  (``ragged_rows``) or, when tolerated, left out of the table and returned with its text.

Text files are decoded strictly (UTF-8, UTF-8 with BOM, UTF-16 with BOM, a declared
encoding, else GB18030, which covers GBK and GB2312), transcoded to UTF-8 when needed,
scanned with numpy to find record boundaries and line numbers, then parsed by
``pyarrow.csv``. Workbooks are checked as zip containers (sizes, compression ratios,
DTDs) before python-calamine reads the first sheet.

The package, one module per step:

- ``detection``: display-safe file names and the format of an upload (extension vs bytes).
- ``encoding``: physical lines, and the encoding picked, checked and transcoded to UTF-8.
- ``records``: the delimiter sniffed and records found, quote-aware, with their lines.
- ``text``: CSV/TXT parsed into an Arrow table by pyarrow.csv.
- ``xlsx``: the workbook container checked and its first sheet read.
- ``convert``: ``convert_to_parquet`` (the entry point) and ``read_parquet_columns``.
- ``common``: IngestError, Limits, the result types and the header check they share.

Pure package: no Django import.
"""

from __future__ import annotations

from .common import BadLine, ColumnInfo, ConvertResult, IngestError, Limits, Problem
from .convert import convert_to_parquet, read_parquet_columns
from .detection import FORMATS, clean_filename, detect_format

__all__ = [
    "FORMATS",
    "BadLine",
    "ColumnInfo",
    "ConvertResult",
    "IngestError",
    "Limits",
    "Problem",
    "clean_filename",
    "convert_to_parquet",
    "detect_format",
    "read_parquet_columns",
]
