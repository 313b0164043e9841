"""What an upload is: its display-safe name and its format ("csv", "txt", "xlsx"),
picked by extension and checked against the file's first bytes.

Pure module: no Django import.
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
import zipfile
from pathlib import Path

from .common import IngestError, _, msg

FORMATS: dict[str, str] = {".csv": "csv", ".txt": "txt", ".xlsx": "xlsx"}


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
    (b"%PDF", _("a PDF document")),
    (b"\x7fELF", _("an ELF executable")),
    (b"\x89PNG\r\n\x1a\n", _("a PNG image")),
    (b"\xff\xd8\xff", _("a JPEG image")),
    (b"GIF87a", _("a GIF image")),
    (b"GIF89a", _("a GIF image")),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        _("an old-format Office file (.xls/.doc) or an encrypted workbook"),
    ),
    (b"\x1f\x8b", _("a gzip archive")),
    (b"Rar!", _("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", _("a 7-Zip archive")),
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
        raise IngestError(
            "unknown_extension",
            _("Unsupported file type %(ext)s; use %(allowed)s."),
            None,
            {"ext": repr(ext or "(none)"), "allowed": allowed},
        )
    with Path(path).open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head:
        raise IngestError("empty_file", _("The file is empty."))
    if fmt == "xlsx":
        _check_xlsx_head(path, head)
    else:
        _check_text_head(head, ext)
    return fmt


def _check_text_head(head: bytes, ext: str) -> None:
    def mismatch(what: str) -> IngestError:
        return IngestError(
            "content_mismatch",
            _("The file is named %(ext)s but looks like %(what)s."),
            None,
            {"ext": ext, "what": msg(what)},
        )

    if head.startswith(_ZIP_MAGIC):
        raise mismatch(_("a zip archive (an .xlsx workbook?)"))
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            raise mismatch(what)
    if head.startswith(b"MZ") and b"\x00" in head:
        raise mismatch(_("a Windows executable"))
    if _HTML_START.match(head.removeprefix(codecs.BOM_UTF8)):
        raise mismatch(_("an HTML or XML document"))
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise mismatch(_("a binary file (it contains NUL bytes)"))


def _check_xlsx_head(path: Path, head: bytes) -> None:
    if not head.startswith(_ZIP_MAGIC):
        for magic, what in _BINARY_MAGIC:
            if head.startswith(magic):
                raise IngestError(
                    "content_mismatch",
                    _("The file is named .xlsx but looks like %(what)s."),
                    None,
                    {"what": msg(what)},
                )
        raise IngestError("content_mismatch", _("The file is named .xlsx but is not a workbook (not a zip)."))
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError(
            "xlsx_unreadable", _("The workbook is damaged: %(reason)s."), None, {"reason": str(exc)}
        ) from exc
    if "xl/workbook.xml" not in names:
        raise IngestError("content_mismatch", _("The file is a zip archive but not an Excel workbook."))
