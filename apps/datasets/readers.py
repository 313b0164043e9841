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

Pure module: no Django import.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import gc
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_et
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from defusedxml import DefusedXmlException

FORMATS: dict[str, str] = {".csv": "csv", ".txt": "txt", ".xlsx": "xlsx"}


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


# --- file names and formats ------------------------------------------------------------

_MAX_NAME = 255
_WHITESPACE = re.compile(r"\s+")


def clean_filename(name: str) -> str:
    """A display-safe version of an uploaded file's name.

    Only the last path part is kept (``/`` and ``\\`` both separate parts), control and
    format characters (including bidi overrides) are removed, whitespace runs become one
    space, and the result is capped at 255 characters keeping the extension. Never empty:
    ``"upload"`` stands in for a name with nothing left.
    """
    base = re.split(r"[/\\]", name or "")[-1]
    base = _WHITESPACE.sub(" ", base)  # tabs and newlines become spaces before controls go
    base = "".join(ch for ch in base if unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp", "Cs"})
    base = _WHITESPACE.sub(" ", base).strip()
    if base in {"", ".", ".."}:
        return "upload"
    if len(base) > _MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            base = stem[: _MAX_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            base = base[:_MAX_NAME].rstrip()
    return base


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-format Office file (.xls/.doc) or an encrypted workbook"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)
_HTML_START = re.compile(rb"^\s*<(!doctype\s+html|html|head|body|script|meta|iframe|svg|\?xml)\b", re.I)
_HEAD_BYTES = 8192


def detect_format(path: Path, original_name: str) -> str:
    """The format ("csv", "txt" or "xlsx") of an upload, from its name checked against its bytes.

    The extension (case-insensitive) picks the format; the first bytes must agree with it:
    a text file must not be a zip, PDF, image, executable, HTML page or contain NUL bytes
    (UTF-16 with a BOM excepted); an .xlsx must be a zip holding ``xl/workbook.xml``.
    Raises IngestError ("unknown_extension", "empty_file", "content_mismatch", "xlsx_unreadable").
    """
    ext = os.path.splitext(clean_filename(original_name))[1].lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        allowed = ", ".join(sorted(FORMATS))
        raise IngestError("unknown_extension", f"Unsupported file type {ext or '(none)'!r}; use {allowed}.")
    with Path(path).open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head:
        raise IngestError("empty_file", "The file is empty.")
    if fmt == "xlsx":
        _check_xlsx_head(path, head)
    else:
        _check_text_head(head, ext)
    return fmt


def _check_text_head(head: bytes, ext: str) -> None:
    def mismatch(what: str) -> IngestError:
        return IngestError("content_mismatch", f"The file is named {ext} but looks like {what}.")

    if head.startswith(_ZIP_MAGIC):
        raise mismatch("a zip archive (an .xlsx workbook?)")
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            raise mismatch(what)
    if head.startswith(b"MZ") and b"\x00" in head:
        raise mismatch("a Windows executable")
    if _HTML_START.match(head.removeprefix(codecs.BOM_UTF8)):
        raise mismatch("an HTML or XML document")
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise mismatch("a binary file (it contains NUL bytes)")


def _check_xlsx_head(path: Path, head: bytes) -> None:
    if not head.startswith(_ZIP_MAGIC):
        for magic, what in _BINARY_MAGIC:
            if head.startswith(magic):
                raise IngestError("content_mismatch", f"The file is named .xlsx but looks like {what}.")
        raise IngestError("content_mismatch", "The file is named .xlsx but is not a workbook (not a zip).")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError("xlsx_unreadable", f"The workbook is damaged: {exc}.") from exc
    if "xl/workbook.xml" not in names:
        raise IngestError("content_mismatch", "The file is a zip archive but not an Excel workbook.")


# --- conversion ------------------------------------------------------------------------


def convert_to_parquet(
    src: Path,
    dest: Path,
    *,
    fmt: str,
    declared_encoding: str | None = None,
    all_strings: bool = False,
    tolerate_bad_lines: bool = False,
    limits: Limits = Limits(),  # frozen, so one shared default is safe
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
        raise IngestError("unknown_extension", f"Unsupported format {fmt!r}.")
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


# --- text: encodings --------------------------------------------------------------------

_CHUNK = 16 * 1024 * 1024
_NL, _CR, _QUOTE = 10, 13, 34
_WHITESPACE_BYTES = np.array([9, 10, 11, 12, 13, 32], dtype=np.uint8)
_ASCII_PROBE = "\n\r\t ,;|\"'abcXYZ0129"


class _BadBytes(Exception):
    """Strict decoding failed at byte ``offset`` of the body."""

    def __init__(self, offset: int):
        super().__init__(offset)
        self.offset = offset


def _positions(data: np.ndarray, byte: int) -> np.ndarray:
    """Offsets of ``byte`` in ``data`` (int64), scanned in blocks to bound temporary memory."""
    parts = [np.flatnonzero(data[i : i + _CHUNK] == byte) + i for i in range(0, len(data), _CHUNK)]
    return np.concatenate(parts).astype(np.int64, copy=False) if parts else np.zeros(0, np.int64)


def _line_breaks(data: np.ndarray) -> np.ndarray:
    """Offsets of the characters that end physical lines: every LF and every CR not before an LF."""
    nl = _positions(data, _NL)
    cr = _positions(data, _CR)
    if not cr.size:
        return nl
    after = cr + 1
    lone = cr[(after >= len(data)) | (data[np.minimum(after, len(data) - 1)] != _NL)]
    return np.union1d(nl, lone) if lone.size else nl


def _line_of(breaks: np.ndarray, offset: int | np.ndarray) -> Any:
    """1-based physical line holding byte ``offset`` (a line's break belongs to that line)."""
    return np.searchsorted(breaks, offset, side="left") + 1


def _check_line_lengths(breaks: np.ndarray, size: int, limits: Limits) -> None:
    ends = np.append(breaks, size)
    lengths = np.diff(ends, prepend=-1) - 1
    over = np.flatnonzero(lengths > limits.max_line_bytes)
    if over.size:
        line = int(over[0]) + 1
        raise IngestError(
            "line_too_long",
            f"Line {line} is {int(lengths[over[0]]):,} bytes long; the limit is {limits.max_line_bytes:,}.",
            line,
        )


def _decode_chunks(data: np.ndarray, encoding: str) -> Iterator[str]:
    """Strictly decode an ASCII-compatible ``data`` in blocks cut just after a newline.

    A LF byte never occurs inside a multi-byte character of UTF-8, GB18030 or the other
    ASCII-compatible encodings accepted here, so each block decodes on its own. Raises
    _BadBytes with the offset of the first undecodable byte.
    """
    pos, size = 0, len(data)
    while pos < size:
        end = min(pos + _CHUNK, size)
        blob = data[pos:end].tobytes()
        if end < size:
            cut = blob.rfind(b"\n")
            if cut >= 0:
                blob = blob[: cut + 1]
            else:  # a line longer than the block (only with a line limit above the block size)
                following = np.flatnonzero(data[end:] == _NL)
                end = end + int(following[0]) + 1 if following.size else size
                blob = data[pos:end].tobytes()
        try:
            yield blob.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _BadBytes(pos + exc.start) from None
        pos += len(blob)


def _ascii_compatible(encoding: str) -> bool:
    try:
        return _ASCII_PROBE.encode(encoding) == _ASCII_PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        return False


@dataclass
class _Body:
    """The file's content as UTF-8 bytes, ready to scan."""

    data: np.ndarray
    encoding: str
    path: Path  # the file those bytes live in
    offset: int  # where the body starts in that file (after a BOM)
    breaks: np.ndarray | None = None  # line breaks of ``data``, when already found


def _open_body(src: Path, raw: np.ndarray, declared: str | None, limits: Limits, tmp: Path) -> _Body:
    """Pick the encoding, check it strictly, and return the body as UTF-8.

    The body is the file itself past any BOM when it is UTF-8, else its transcoding into ``tmp``.
    """
    head = raw[:4].tobytes()
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise IngestError("encoding_error", "UTF-32 files are not supported; save the file as UTF-8.", 1)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _transcode_utf16(raw, tmp, limits)

    if head.startswith(codecs.BOM_UTF8):
        encoding, offset, candidates = "utf-8-sig", 3, ["utf-8"]
    elif declared:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            raise IngestError("encoding_error", f"Unknown encoding {declared!r}.") from None
        if codec == "utf-8-sig":  # its BOM was not there: plain UTF-8
            codec = "utf-8"
        if not _ascii_compatible(codec):
            raise IngestError("encoding_error", f"Encoding {declared!r} is not supported; save as UTF-8.")
        encoding, offset, candidates = codec, 0, [codec]
    else:
        encoding, offset, candidates = "utf-8", 0, ["utf-8", "gb18030"]

    data = raw[offset:]
    breaks = _line_breaks(data)
    _check_line_lengths(breaks, len(data), limits)
    first_failure: int | None = None
    for codec in candidates:
        try:
            if codec == "utf-8":
                for _ in _decode_chunks(data, "utf-8"):
                    pass
                return _Body(data, encoding, src, offset, breaks)
            _transcode(data, codec, tmp)
        except _BadBytes as exc:
            if first_failure is None:
                first_failure = exc.offset
            continue
        body = np.memmap(tmp, dtype=np.uint8, mode="r") if tmp.stat().st_size else np.zeros(0, np.uint8)
        return _Body(body, encoding if encoding != "utf-8" else codec, tmp, 0)
    assert first_failure is not None
    line = int(_line_of(breaks, first_failure))
    if len(candidates) > 1:
        message = f"Line {line} is neither valid UTF-8 nor GB18030/GBK; save the file as UTF-8."
    else:
        message = f"Line {line} is not valid {candidates[0]}."
    raise IngestError("encoding_error", message, line)


def _transcode(data: np.ndarray, codec: str, tmp: Path) -> None:
    with tmp.open("wb") as out:
        for text in _decode_chunks(data, codec):
            out.write(text.encode("utf-8"))


def _transcode_utf16(raw: np.ndarray, tmp: Path, limits: Limits) -> _Body:
    # Rare in practice; decoded in one piece (the upload size limit bounds it).
    blob = raw.tobytes()
    try:
        text = blob.decode("utf-16")
    except UnicodeDecodeError as exc:
        line = blob[: exc.start].decode("utf-16", "replace").count("\n") + 1
        raise IngestError("encoding_error", f"Line {line} is not valid UTF-16.", line) from None
    tmp.write_bytes(text.encode("utf-8"))
    del blob, text
    body = np.memmap(tmp, dtype=np.uint8, mode="r") if tmp.stat().st_size else np.zeros(0, np.uint8)
    _check_line_lengths(_line_breaks(body), len(body), limits)
    return _Body(body, "utf-16", tmp, 0)


# --- text: delimiters and records --------------------------------------------------------

_DELIMITERS = {"csv": ",\t;|", "txt": "\t|,;"}
_SNIFF_BYTES = 65536
_SNIFF_RECORDS = 50


def _sniff_delimiter(data: np.ndarray, fmt: str) -> str:
    """The candidate that splits the first records into the same number (>= 2) of fields.

    Ranked by the share of sample records whose field count equals the header's, then by
    that count; candidates are tried in a per-format order (comma first for CSV, tab first
    for TXT), which also gives the default for single-column files.
    """
    sample = data[:_SNIFF_BYTES].tobytes()
    if len(data) > _SNIFF_BYTES:
        cut = max(sample.rfind(b"\n"), sample.rfind(b"\r"))
        sample = sample[: cut + 1] if cut > 0 else sample
    text = sample.decode("utf-8", "replace")
    order = _DELIMITERS[fmt]
    best, best_score = order[0], (0.0, 0)
    for delim in order:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"', strict=False)
        counts: list[int] = []
        with contextlib.suppress(csv.Error):
            for row in reader:
                if row:
                    counts.append(len(row))
                if len(counts) >= _SNIFF_RECORDS:
                    break
        if len(counts) > 2 and len(data) > _SNIFF_BYTES:
            counts = counts[:-1]  # the last sampled record may be cut short
        if not counts or counts[0] < 2:
            continue
        score = (sum(c == counts[0] for c in counts) / len(counts), counts[0])
        if score > best_score:
            best, best_score = delim, score
    return best


@dataclass
class _Records:
    """Record boundaries found by scanning the UTF-8 body (see the module docstring)."""

    starts: np.ndarray  # first byte of each record
    ends: np.ndarray  # one past its last content byte (its line break excluded)
    fields: np.ndarray  # number of fields
    lines: np.ndarray  # physical line the record starts on
    multiline: bool  # some quoted field holds a line break


def _scan_records(data: np.ndarray, delim: str, limits: Limits, breaks: np.ndarray | None = None) -> _Records:
    """Split the body into records, honouring quotes the way pyarrow.csv does.

    pyarrow opens a quoted field only at the start of a field, ends it at a quote not
    followed by another (a doubled quote is a literal one), and reads anything after the
    closing quote as plain text. When every quote sits where this makes quote parity
    decide (opening quotes at field starts, closing quotes before a delimiter or line
    break), a line break or delimiter is quoted exactly when an odd number of quotes
    precede it, which numpy computes at once; otherwise a small state machine walks the
    quotes, delimiters and line breaks.
    """
    size = len(data)
    d = ord(delim)
    breaks = _line_breaks(data) if breaks is None else breaks
    delims = _positions(data, d)
    quotes = _positions(data, _QUOTE)
    if quotes.size == 0:
        rec_breaks, rec_delims = breaks, delims
    elif quotes.size % 2 == 0 and _quotes_pair_simply(data, quotes, d):
        rec_breaks = breaks[np.searchsorted(quotes, breaks) % 2 == 0]
        rec_delims = delims[np.searchsorted(quotes, delims) % 2 == 0]
    else:
        rec_breaks, rec_delims = _walk_quotes(data, quotes, delims, breaks, d)
    starts = np.concatenate(([0], rec_breaks + 1)).astype(np.int64)
    ends = np.concatenate((rec_breaks, [size])).astype(np.int64)
    if starts[-1] >= size:  # the file ends with a line break: no record after it
        starts, ends = starts[:-1], ends[:-1]
    # A CRLF break sits on the LF; the CR before it is not content.
    crlf = (ends > starts) & (data[np.maximum(ends - 1, 0)] == _CR) if size else np.zeros(0, bool)
    ends = ends - crlf
    fields = np.bincount(np.searchsorted(starts, rec_delims, side="right") - 1, minlength=len(starts)) + 1
    lines = _line_of(breaks, starts).astype(np.int64)
    too_long = np.flatnonzero(ends - starts > limits.max_line_bytes)
    if too_long.size:
        line = int(lines[too_long[0]])
        raise IngestError(
            "line_too_long",
            f"The record starting on line {line} (a quoted field spanning lines) is longer than "
            f"{limits.max_line_bytes:,} bytes.",
            line,
        )
    multiline = len(rec_breaks) != len(breaks)
    return _Records(starts, ends, fields[: len(starts)], lines, multiline)


def _quotes_pair_simply(data: np.ndarray, quotes: np.ndarray, delim: int) -> bool:
    """Whether quote parity alone tells quoted from unquoted text (see _scan_records)."""
    size = len(data)
    seps = np.array([delim, _NL, _CR], dtype=np.uint8)
    opening, closing = quotes[0::2], quotes[1::2]
    before = opening - 1
    ok_open = (before < 0) | np.isin(data[np.maximum(before, 0)], seps)
    # ...or the second quote of a doubled pair: the closing quote just before it.
    ok_open[1:] |= closing[: len(opening) - 1] == before[1:]
    after = closing + 1
    ok_close = (after >= size) | np.isin(data[np.minimum(after, size - 1)], seps)
    ok_close[: len(opening) - 1] |= opening[1 : len(closing) + 1] == after[: len(opening) - 1]
    return bool(ok_open.all() and ok_close.all())


def _walk_quotes(
    data: np.ndarray, quotes: np.ndarray, delims: np.ndarray, breaks: np.ndarray, delim: int
) -> tuple[np.ndarray, np.ndarray]:
    """Unquoted line breaks and delimiters, found by walking every significant byte in order."""
    events = np.concatenate((quotes, delims, breaks))
    kinds = np.concatenate(
        (np.zeros(len(quotes), np.int8), np.ones(len(delims), np.int8), np.full(len(breaks), 2, np.int8))
    )
    order = np.argsort(events, kind="stable")
    positions, kinds = events[order].tolist(), kinds[order].tolist()
    out_breaks: list[int] = []
    out_delims: list[int] = []
    in_quote = False
    field_start = 0  # offset where the current field began
    opened_at = 0
    skip_until = -1
    for pos, kind in zip(positions, kinds, strict=True):
        if pos <= skip_until:
            continue
        if in_quote:
            if kind == 0:
                if pos + 1 < len(data) and data[pos + 1] == _QUOTE:
                    skip_until = pos + 1  # a doubled quote is a literal quote
                else:
                    in_quote = False
            continue
        if kind == 0:
            if pos == field_start:
                in_quote, opened_at = True, pos
        elif kind == 1:
            out_delims.append(pos)
            field_start = pos + 1
        else:
            out_breaks.append(pos)
            field_start = pos + 1
    if in_quote:
        line = int(_line_of(breaks, opened_at))
        raise IngestError("unclosed_quote", f"The quoted field opened on line {line} is never closed.", line)
    return np.array(out_breaks, np.int64), np.array(out_delims, np.int64)


def _record_text(data: np.ndarray, start: int, end: int, limit: int = 10_000) -> str:
    text = data[start:end].tobytes().decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "…"


def _parse_header(data: np.ndarray, start: int, end: int, delim: str) -> list[str]:
    text = data[start:end].tobytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"', strict=False))
    return rows[0] if rows else []


# --- text: conversion -------------------------------------------------------------------

_NULL_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip
_TIMESTAMP_PARSERS = [pacsv.ISO8601, "%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"]


def _read_text(
    src: Path,
    dest: Path,
    fmt: str,
    declared: str | None,
    all_strings: bool,
    tolerate: bool,
    limits: Limits,
    report: Callable[[float], None],
) -> tuple[pa.Table, ConvertResult]:
    if src.stat().st_size == 0:
        raise IngestError("empty_file", "The file is empty.")
    tmp = dest.with_name(dest.name + ".utf8.tmp")
    try:
        raw = np.memmap(src, dtype=np.uint8, mode="r")
        body = _open_body(src, raw, declared, limits, tmp)
        del raw
        report(0.2)
        return _parse_body(body, fmt, all_strings, tolerate, limits, report)
    finally:
        tmp.unlink(missing_ok=True)


def _parse_body(
    body: _Body, fmt: str, all_strings: bool, tolerate: bool, limits: Limits, report: Callable[[float], None]
) -> tuple[pa.Table, ConvertResult]:
    data = body.data
    if not any(
        np.isin(data[i : i + _CHUNK], _WHITESPACE_BYTES, invert=True).any()
        for i in range(0, len(data), _CHUNK)
    ):
        raise IngestError("empty_file", "The file holds only whitespace.")

    delim = _sniff_delimiter(data, fmt)
    recs = _scan_records(data, delim, limits, body.breaks)
    report(0.4)
    nonempty = np.flatnonzero(recs.ends > recs.starts)
    header = int(nonempty[0])
    header_line = int(recs.lines[header])
    if recs.fields[header] > limits.max_columns:
        raise IngestError(
            "too_many_columns",
            f"The file has {int(recs.fields[header]):,} columns; the limit is {limits.max_columns:,}.",
            header_line,
        )
    names = _check_header(
        _parse_header(data, recs.starts[header], recs.ends[header], delim), limits, header_line
    )
    ncols = len(names)
    if ncols != recs.fields[header]:
        raise IngestError("unreadable", "The header line could not be split consistently.", header_line)

    rows = nonempty[nonempty > header]
    if rows.size == 0:
        raise IngestError("no_data_rows", "The file has a header but no data rows.", header_line)
    good_mask = recs.fields[rows] == ncols
    good, bad = rows[good_mask], rows[~good_mask]
    if bad.size and not tolerate:
        shown = ", ".join(f"line {int(recs.lines[i])} ({int(recs.fields[i])} fields)" for i in bad[:5])
        more = f" and {bad.size - 5:,} more" if bad.size > 5 else ""
        raise IngestError(
            "ragged_rows",
            f"{bad.size:,} line(s) do not have the header's {ncols} fields: {shown}{more}.",
            int(recs.lines[bad[0]]),
        )
    bad_lines = [
        BadLine(
            int(recs.lines[i]),
            _record_text(data, int(recs.starts[i]), int(recs.ends[i])),
            f"expected {ncols} fields, found {int(recs.fields[i])}",
        )
        for i in bad
    ]

    table = _arrow_parse(body, recs, header, names, delim, all_strings, len(bad))
    if table.num_rows != good.size:
        raise IngestError(
            "unreadable",
            f"The file could not be parsed consistently ({table.num_rows} rows, expected {good.size}).",
        )
    report(0.75)
    problems: list[Problem] = []
    if bad_lines:
        problems.append(
            Problem(
                bad_lines[0].line,
                f"{len(bad_lines):,} line(s) had the wrong number of fields and were set aside.",
            )
        )
    result = ConvertResult(
        row_count=table.num_rows,
        columns=_columns_of(table),
        encoding=body.encoding,
        delimiter=delim,
        line_numbers=recs.lines[good].astype(np.int64),
        bad_lines=bad_lines,
        problems=problems,
    )
    return table, result


def _arrow_parse(
    body: _Body, recs: _Records, header: int, names: list[str], delim: str, all_strings: bool, n_bad: int
) -> pa.Table:
    skipped: list[int] = []

    def on_invalid(row: Any) -> str:
        skipped.append(row.actual_columns)
        return "skip"

    longest = int((recs.ends - recs.starts).max())
    read_options = pacsv.ReadOptions(
        column_names=names,
        block_size=max(1 << 22, 1 << (2 * longest + 1024).bit_length()),
        use_threads=True,
    )
    parse_options = pacsv.ParseOptions(
        delimiter=delim,
        quote_char='"',
        double_quote=True,
        escape_char=False,
        newlines_in_values=recs.multiline,
        ignore_empty_lines=True,
        invalid_row_handler=on_invalid,
    )
    if all_strings:
        convert_options = pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
    else:
        convert_options = pacsv.ConvertOptions(
            null_values=_NULL_VALUES, strings_can_be_null=True, timestamp_parsers=_TIMESTAMP_PARSERS
        )
    # Arrow reads from just after the header's line break, straight from the mapped file.
    skip = body.offset + int(recs.ends[header])
    with pa.memory_map(str(body.path)) as mapped:
        mapped.seek(skip)
        rest = mapped.read_buffer()
        if rest.size and rest[0] == _CR:
            rest = rest.slice(1)
        if rest.size and rest[0] == _NL:
            rest = rest.slice(1)
        try:
            table = pacsv.read_csv(pa.BufferReader(rest), read_options, parse_options, convert_options)
        except pa.ArrowException as exc:
            raise IngestError("unreadable", f"The file could not be parsed: {exc}.") from exc
    if len(skipped) != n_bad:
        raise IngestError("unreadable", "The file could not be parsed consistently (field counts disagree).")
    # Columns with no value at all come out as Arrow's null type; strings are more useful.
    for i, f in enumerate(table.schema):
        if pa.types.is_null(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table.combine_chunks()


# --- xlsx ------------------------------------------------------------------------------

_MAX_PARTS = 10_000
_SMALL_XML_BYTES = 1 << 20  # parts up to this size are parsed with defusedxml; larger are prolog-scanned
_RATIO_FLOOR_BYTES = 1 << 20  # smaller parts cannot be bombs whatever their ratio
_PROLOG_MAX = 65536
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_NAME_START = re.compile(rb"[A-Za-z_:\x80-\xff]")


def _check_xlsx_container(path: Path, limits: Limits) -> None:
    """Refuse a workbook that is too big, a decompression bomb, or carries a DTD in any XML part.

    The declared sizes are checked first; then every part is streamed through zipfile,
    which stops at the declared size and verifies the CRC, so a part that inflates past
    what its header claims is caught without ever holding it in memory.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError("xlsx_unreadable", f"The workbook is damaged: {exc}.") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > _MAX_PARTS:
            raise IngestError(
                "xlsx_unreadable", f"The workbook has {len(infos):,} parts; that is not a real workbook."
            )
        if "xl/workbook.xml" not in {i.filename for i in infos}:
            raise IngestError("content_mismatch", "The file is a zip archive but not an Excel workbook.")
        total = sum(i.file_size for i in infos)
        if total > limits.xlsx_max_uncompressed_bytes:
            raise IngestError(
                "xlsx_too_large",
                f"The workbook expands to {total:,} bytes; "
                f"the limit is {limits.xlsx_max_uncompressed_bytes:,}.",
            )
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > _RATIO_FLOOR_BYTES and ratio > limits.xlsx_max_ratio:
                raise IngestError(
                    "xlsx_too_large",
                    f"Part {info.filename} is compressed {ratio:,.0f} to 1 (limit {limits.xlsx_max_ratio}): "
                    "a decompression bomb, refused.",
                )
        for info in infos:
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise IngestError("xlsx_unreadable", "The workbook is encrypted; save it without a password.")
            try:
                _check_part(zf, info)
            except IngestError:
                raise
            except (
                zipfile.BadZipFile,
                OSError,
                EOFError,
                NotImplementedError,
                RuntimeError,
                ValueError,
            ) as exc:
                raise IngestError(
                    "xlsx_unreadable", f"Part {info.filename} of the workbook is damaged: {exc}."
                ) from exc


def _check_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    is_xml = info.filename.lower().endswith(_XML_SUFFIXES)
    with zf.open(info) as fh:
        if is_xml and info.file_size <= _SMALL_XML_BYTES:
            blob = fh.read()
            try:
                safe_et.fromstring(blob, forbid_dtd=True, forbid_entities=True, forbid_external=True)
            except DefusedXmlException as exc:
                raise IngestError(
                    "xlsx_unsafe_xml", f"Part {info.filename} declares a DTD or entities; refused."
                ) from exc
            except ParseError as exc:
                raise IngestError(
                    "xlsx_unreadable", f"Part {info.filename} is not well-formed XML: {exc}."
                ) from exc
            return
        head = b""
        if is_xml:
            while len(head) < _PROLOG_MAX:
                chunk = fh.read(8192)
                if not chunk:
                    break
                head += chunk
                if _prolog_verdict(head, final=False) is not None:
                    break
            verdict = _prolog_verdict(head, final=True)
            if verdict:
                raise IngestError("xlsx_unsafe_xml", f"Part {info.filename}: {verdict}; refused.")
        # Read to the end (discarding) so zipfile checks the real size and CRC.
        while fh.read(1 << 20):
            pass


def _prolog_verdict(head: bytes, *, final: bool) -> str | None:
    """Scan an XML part's prolog: "" when the root element starts cleanly, a reason when
    the prolog holds a DOCTYPE or other declaration, None when more bytes are needed.

    The prolog may hold only the XML declaration, processing instructions, comments and
    whitespace; a DTD (and so any ENTITY) must come before the root element.
    """
    text = head.removeprefix(codecs.BOM_UTF8)
    if text.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = text[2:]
    text = text.replace(b"\x00", b"")  # UTF-16 parts: their ASCII markup becomes plain bytes
    pos = 0
    while True:
        while pos < len(text) and text[pos] in b" \t\r\n":
            pos += 1
        rest = text[pos:]
        if len(rest) < 4 and not final:
            return None
        if rest.startswith(b"<?"):
            end = text.find(b"?>", pos + 2)
            if end < 0:
                break
            pos = end + 2
        elif rest.startswith(b"<!--"):
            end = text.find(b"-->", pos + 4)
            if end < 0:
                break
            pos = end + 3
        elif rest.startswith(b"<!"):
            return "the XML declares a DTD (" + rest[:9].decode("ascii", "replace") + "…)"
        elif rest.startswith(b"<") and len(rest) > 1 and _NAME_START.match(rest, 1):
            return ""
        else:
            return "" if final and not rest else "the XML prolog is not well-formed"
    if final or len(head) >= _PROLOG_MAX:
        return f"the XML prolog is longer than {_PROLOG_MAX:,} bytes or unterminated"
    return None


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # Building hundreds of thousands of small objects triggers many useless collections.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_xlsx(
    src: Path, all_strings: bool, limits: Limits, report: Callable[[float], None]
) -> tuple[pa.Table, ConvertResult]:
    from python_calamine import CalamineWorkbook  # deferred: only workbooks need it

    if src.stat().st_size == 0:
        raise IngestError("empty_file", "The file is empty.")
    _check_xlsx_container(src, limits)
    report(0.1)
    problems: list[Problem] = []
    try:
        with CalamineWorkbook.from_path(str(src)) as wb:
            sheet_names = wb.sheet_names
            if not sheet_names:
                raise IngestError("xlsx_unreadable", "The workbook has no sheets.")
            sheet = wb.get_sheet_by_index(0)
            start = sheet.start
            with _gc_paused():
                rows = sheet.to_python(skip_empty_area=True)
            del sheet  # frees calamine's copy of the cells before ours are built
    except IngestError:
        raise
    except Exception as exc:  # calamine raises several of its own types
        raise IngestError("xlsx_unreadable", f"The workbook could not be read: {exc}.") from exc
    report(0.5)
    if len(sheet_names) > 1:
        problems.append(
            Problem(
                None,
                f"Only the first sheet ({sheet_names[0]}) was read; the workbook has {len(sheet_names)}.",
            )
        )
    if not rows or not any(_present(v) for v in rows[0]):
        raise IngestError("empty_file", f"The first sheet ({sheet_names[0]}) is empty.")
    header_row = (start[0] if start else 0) + 1  # worksheet row numbers are 1-based

    with _gc_paused():
        header = [_header_text(v) for v in rows[0]]
        cells = np.empty((len(rows) - 1, len(header)), dtype=object)
        if len(rows) > 1:
            cells[:] = rows[1:]
        del rows
        present = cells != ""
        keep = np.flatnonzero(present.any(axis=1))
        if keep.size != len(cells):
            cells, present = cells[keep], present[keep]
        # Unnamed trailing columns with nothing in them are formatting residue.
        width = len(header)
        while width and not header[width - 1].strip() and not present[:, width - 1].any():
            width -= 1
        names = _check_header(header[:width], limits, header_row)
        if cells.shape[0] == 0:
            raise IngestError("no_data_rows", "The first sheet has a header but no data rows.", header_row)
        arrays = [_cells_to_arrow(cells[:, j], all_strings) for j in range(width)]
    table = pa.table(arrays, names=names)
    report(0.8)
    return table, ConvertResult(
        row_count=table.num_rows,
        columns=_columns_of(table),
        encoding=None,
        delimiter=None,
        line_numbers=(keep + header_row + 1).astype(np.int64),
        bad_lines=[],
        problems=problems,
    )


def _present(value: object) -> bool:
    return not (isinstance(value, str) and value == "")


def _header_text(value: object) -> str:
    return value if isinstance(value, str) else _cell_text(value)


def _cell_text(value: object) -> str:
    """A cell as text; integral floats without ".0" (Excel stores codes as doubles)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**63:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


_NA_TOKENS = frozenset(_NULL_VALUES)


def _cells_to_arrow(col: np.ndarray, all_strings: bool) -> pa.Array:
    """One worksheet column (an object array of calamine values) as an Arrow array."""
    kinds = set(map(type, col))
    if all_strings:
        if kinds <= {str}:
            return pa.array(col, pa.string())
        if kinds <= {str, float, int}:
            return pa.array(_numbers_as_text(col), pa.string())
        return pa.array([_cell_text(v) for v in col], pa.string())

    values = [None if (type(v) is str and v.strip() in _NA_TOKENS) else v for v in col]
    kinds = {type(v) for v in values} - {type(None)}
    if not kinds:
        return pa.nulls(len(values), pa.string())
    if kinds <= {int, float}:
        floats = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        valid = ~np.isnan(floats)
        nums = floats[valid]
        if np.all(np.floor(nums) == nums) and np.all(np.abs(nums) < 2**63):
            ints = np.zeros(len(values), np.int64)
            ints[valid] = nums.astype(np.int64)
            return pa.array(ints, pa.int64(), mask=~valid)
        return pa.array(floats, pa.float64(), mask=~valid)
    if kinds == {bool}:
        return pa.array(values, pa.bool_())
    if kinds == {dt.date}:
        return pa.array(values, pa.date32())
    if kinds <= {dt.datetime, dt.date}:
        stamps = [
            v if v is None or type(v) is dt.datetime else dt.datetime(v.year, v.month, v.day) for v in values
        ]
        arr = pa.array(stamps, pa.timestamp("us"))
        for unit in ("s", "ms"):
            with contextlib.suppress(pa.ArrowInvalid):
                return arr.cast(pa.timestamp(unit))  # safe cast: fails if it would truncate
        return arr
    return pa.array([None if v is None else _cell_text(v) for v in values], pa.string())


def _numbers_as_text(col: np.ndarray) -> list[str]:
    """``_cell_text`` for a column of str/float/int, vectorised over its floats."""
    out = col.tolist()
    is_float = np.fromiter((type(v) is float for v in out), dtype=bool, count=len(out))
    if is_float.any():
        idx = np.flatnonzero(is_float)
        nums = col[idx].astype(np.float64)
        integral = np.isfinite(nums) & (np.floor(nums) == nums) & (np.abs(nums) < 2**63)
        as_int = pa.array(nums[integral].astype(np.int64)).cast(pa.string()).to_pylist()
        for i, text in zip(idx[integral].tolist(), as_int, strict=True):
            out[i] = text
        for i in idx[~integral].tolist():
            out[i] = repr(out[i])
    for i, v in enumerate(out):
        if type(v) is int:
            out[i] = str(v)
    return out


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
