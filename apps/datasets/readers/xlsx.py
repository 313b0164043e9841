"""Workbooks: the .xlsx container checked (sizes, compression ratios, DTDs in XML parts)
and its first sheet read by python-calamine into an Arrow table.

Pure module: no Django import.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import gc
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_et
import numpy as np
import pyarrow as pa
from defusedxml import DefusedXmlException

from .common import _NULL_VALUES, ConvertResult, IngestError, Limits, Problem, _, _check_header, _columns_of

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
        raise IngestError(
            "xlsx_unreadable", _("The workbook is damaged: %(reason)s."), None, {"reason": str(exc)}
        ) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > _MAX_PARTS:
            raise IngestError(
                "xlsx_unreadable",
                _("The workbook has %(parts)s parts; that is not a real workbook."),
                None,
                {"parts": f"{len(infos):,}"},
            )
        if "xl/workbook.xml" not in {i.filename for i in infos}:
            raise IngestError("content_mismatch", _("The file is a zip archive but not an Excel workbook."))
        total = sum(i.file_size for i in infos)
        if total > limits.xlsx_max_uncompressed_bytes:
            raise IngestError(
                "xlsx_too_large",
                _("The workbook expands to %(size)s bytes; the limit is %(limit)s."),
                None,
                {"size": f"{total:,}", "limit": f"{limits.xlsx_max_uncompressed_bytes:,}"},
            )
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > _RATIO_FLOOR_BYTES and ratio > limits.xlsx_max_ratio:
                raise IngestError(
                    "xlsx_too_large",
                    _(
                        "Part %(part)s is compressed %(ratio)s to 1 (limit %(limit)s): "
                        "a decompression bomb, refused."
                    ),
                    None,
                    {"part": info.filename, "ratio": f"{ratio:,.0f}", "limit": limits.xlsx_max_ratio},
                )
        for info in infos:
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise IngestError(
                    "xlsx_unreadable", _("The workbook is encrypted; save it without a password.")
                )
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
                    "xlsx_unreadable",
                    _("Part %(part)s of the workbook is damaged: %(reason)s."),
                    None,
                    {"part": info.filename, "reason": str(exc)},
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
                    "xlsx_unsafe_xml",
                    _("Part %(part)s declares a DTD or entities; refused."),
                    None,
                    {"part": info.filename},
                ) from exc
            except ParseError as exc:
                raise IngestError(
                    "xlsx_unreadable",
                    _("Part %(part)s is not well-formed XML: %(reason)s."),
                    None,
                    {"part": info.filename, "reason": str(exc)},
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
                raise IngestError(
                    "xlsx_unsafe_xml",
                    _("Part %(part)s: %(reason)s; refused."),
                    None,
                    {"part": info.filename, "reason": verdict},
                )
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
        raise IngestError("empty_file", _("The file is empty."))
    _check_xlsx_container(src, limits)
    report(0.1)
    problems: list[Problem] = []
    try:
        with CalamineWorkbook.from_path(str(src)) as wb:
            sheet_names = wb.sheet_names
            if not sheet_names:
                raise IngestError("xlsx_unreadable", _("The workbook has no sheets."))
            sheet = wb.get_sheet_by_index(0)
            start = sheet.start
            with _gc_paused():
                rows = sheet.to_python(skip_empty_area=True)
            del sheet  # frees calamine's copy of the cells before ours are built
    except IngestError:
        raise
    except Exception as exc:  # calamine raises several of its own types
        raise IngestError(
            "xlsx_unreadable", _("The workbook could not be read: %(reason)s."), None, {"reason": str(exc)}
        ) from exc
    report(0.5)
    if len(sheet_names) > 1:
        problems.append(
            Problem(
                None,
                _("Only the first sheet (%(sheet)s) was read; the workbook has %(count)s."),
                {"sheet": sheet_names[0], "count": len(sheet_names)},
            )
        )
    if not rows or not any(_present(v) for v in rows[0]):
        raise IngestError(
            "empty_file", _("The first sheet (%(sheet)s) is empty."), None, {"sheet": sheet_names[0]}
        )
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
            raise IngestError("no_data_rows", _("The first sheet has a header but no data rows."), header_row)
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
