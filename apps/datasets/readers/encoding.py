"""Text files, first step: physical lines found with numpy, and the encoding picked,
checked strictly and, when not UTF-8, transcoded (the body as UTF-8 bytes).

Pure module: no Django import.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .common import IngestError, Limits, _

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
            _("Line %(line)s is %(size)s bytes long; the limit is %(limit)s."),
            line,
            {"line": line, "size": f"{int(lengths[over[0]]):,}", "limit": f"{limits.max_line_bytes:,}"},
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
        raise IngestError("encoding_error", _("UTF-32 files are not supported; save the file as UTF-8."), 1)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _transcode_utf16(raw, tmp, limits)

    if head.startswith(codecs.BOM_UTF8):
        encoding, offset, candidates = "utf-8-sig", 3, ["utf-8"]
    elif declared:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            raise IngestError(
                "encoding_error", _("Unknown encoding %(encoding)s."), None, {"encoding": repr(declared)}
            ) from None
        if codec == "utf-8-sig":  # its BOM was not there: plain UTF-8
            codec = "utf-8"
        if not _ascii_compatible(codec):
            raise IngestError(
                "encoding_error",
                _("Encoding %(encoding)s is not supported; save as UTF-8."),
                None,
                {"encoding": repr(declared)},
            )
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
                for _chunk in _decode_chunks(data, "utf-8"):
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
        template = _("Line %(line)s is neither valid UTF-8 nor GB18030/GBK; save the file as UTF-8.")
    else:
        template = _("Line %(line)s is not valid %(encoding)s.")
    raise IngestError("encoding_error", template, line, {"line": line, "encoding": candidates[0]})


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
        raise IngestError(
            "encoding_error", _("Line %(line)s is not valid UTF-16."), line, {"line": line}
        ) from None
    tmp.write_bytes(text.encode("utf-8"))
    del blob, text
    body = np.memmap(tmp, dtype=np.uint8, mode="r") if tmp.stat().st_size else np.zeros(0, np.uint8)
    _check_line_lengths(_line_breaks(body), len(body), limits)
    return _Body(body, "utf-16", tmp, 0)
