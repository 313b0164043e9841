"""Text files, second step: the delimiter sniffed and the UTF-8 body split into records
the way pyarrow.csv reads quotes, with the physical line each record starts on.

Pure module: no Django import.
"""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass

import numpy as np

from .common import IngestError, Limits, _
from .encoding import _CR, _NL, _QUOTE, _line_breaks, _line_of, _positions

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
            _(
                "The record starting on line %(line)s (a quoted field spanning lines) is longer than "
                "%(limit)s bytes."
            ),
            line,
            {"line": line, "limit": f"{limits.max_line_bytes:,}"},
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
        raise IngestError(
            "unclosed_quote",
            _("The quoted field opened on line %(line)s is never closed."),
            line,
            {"line": line},
        )
    return np.array(out_breaks, np.int64), np.array(out_delims, np.int64)


def _record_text(data: np.ndarray, start: int, end: int, limit: int = 10_000) -> str:
    text = data[start:end].tobytes().decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "…"


def _parse_header(data: np.ndarray, start: int, end: int, delim: str) -> list[str]:
    text = data[start:end].tobytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"', strict=False))
    return rows[0] if rows else []
