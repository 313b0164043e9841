"""Text files, last step: CSV and delimited TXT read into an Arrow table by pyarrow.csv,
with bad lines set aside or refused (the text half of convert_to_parquet).

Pure module: no Django import.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from . import encoding
from .common import (
    _NULL_VALUES,
    BadLine,
    ConvertResult,
    IngestError,
    Limits,
    Problem,
    _,
    _check_header,
    _columns_of,
    msg,
)
from .encoding import _CR, _NL, _WHITESPACE_BYTES, _Body, _open_body
from .records import _parse_header, _record_text, _Records, _scan_records, _sniff_delimiter

# --- text: conversion -------------------------------------------------------------------

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
        raise IngestError("empty_file", _("The file is empty."))
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
        np.isin(data[i : i + encoding._CHUNK], _WHITESPACE_BYTES, invert=True).any()
        for i in range(0, len(data), encoding._CHUNK)
    ):
        raise IngestError("empty_file", _("The file holds only whitespace."))

    delim = _sniff_delimiter(data, fmt)
    recs = _scan_records(data, delim, limits, body.breaks)
    report(0.4)
    nonempty = np.flatnonzero(recs.ends > recs.starts)
    header = int(nonempty[0])
    header_line = int(recs.lines[header])
    if recs.fields[header] > limits.max_columns:
        raise IngestError(
            "too_many_columns",
            _("The file has %(columns)s columns; the limit is %(limit)s."),
            header_line,
            {"columns": f"{int(recs.fields[header]):,}", "limit": f"{limits.max_columns:,}"},
        )
    names = _check_header(
        _parse_header(data, recs.starts[header], recs.ends[header], delim), limits, header_line
    )
    ncols = len(names)
    if ncols != recs.fields[header]:
        raise IngestError("unreadable", _("The header line could not be split consistently."), header_line)

    rows = nonempty[nonempty > header]
    if rows.size == 0:
        raise IngestError("no_data_rows", _("The file has a header but no data rows."), header_line)
    good_mask = recs.fields[rows] == ncols
    good, bad = rows[good_mask], rows[~good_mask]
    if bad.size and not tolerate:
        shown = [
            msg(_("line %(line)s (%(fields)s fields)"), line=int(recs.lines[i]), fields=int(recs.fields[i]))
            for i in bad[:5]
        ]
        more = msg(_(" and %(count)s more"), count=f"{bad.size - 5:,}") if bad.size > 5 else ""
        raise IngestError(
            "ragged_rows",
            _("%(count)s line(s) do not have the header's %(columns)s fields: %(lines)s%(more)s."),
            int(recs.lines[bad[0]]),
            {"count": f"{bad.size:,}", "columns": ncols, "lines": shown, "more": more},
        )
    bad_lines = [
        BadLine(
            int(recs.lines[i]),
            _record_text(data, int(recs.starts[i]), int(recs.ends[i])),
            _("expected %(expected)s fields, found %(found)s"),
            {"expected": ncols, "found": int(recs.fields[i])},
        )
        for i in bad
    ]

    table = _arrow_parse(body, recs, header, names, delim, all_strings, len(bad))
    if table.num_rows != good.size:
        raise IngestError(
            "unreadable",
            _("The file could not be parsed consistently (%(rows)s rows, expected %(expected)s)."),
            None,
            {"rows": table.num_rows, "expected": int(good.size)},
        )
    report(0.75)
    problems: list[Problem] = []
    if bad_lines:
        problems.append(
            Problem(
                bad_lines[0].line,
                _("%(count)s line(s) had the wrong number of fields and were set aside."),
                {"count": f"{len(bad_lines):,}"},
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
            raise IngestError(
                "unreadable", _("The file could not be parsed: %(reason)s."), None, {"reason": str(exc)}
            ) from exc
    if len(skipped) != n_bad:
        raise IngestError(
            "unreadable", _("The file could not be parsed consistently (field counts disagree).")
        )
    # Columns with no value at all come out as Arrow's null type; strings are more useful.
    for i, f in enumerate(table.schema):
        if pa.types.is_null(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table.combine_chunks()
