"""The building blocks of a model document: sections of label/value fields, tables and notes,
every cell already a string in the reader's language, so the HTML page and the PDF show the
same figures formatted the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext

# A document is read by validators and regulators in China: its times are Beijing time,
# whatever zone the server runs in, and the header says so.
DOCUMENT_TIME_ZONE = "Asia/Shanghai"
NONE = "-"


def text(value: Any) -> str:
    """A value as shown: ``-`` for nothing."""
    if value is None or value == "" or value == [] or value == {}:
        return NONE
    return str(value)


def figure(value: Any, digits: int = 4) -> str:
    """A figure as the report page shows it: floats with ``digits`` decimals (``floatformat:4``),
    whole numbers as they are."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def share(value: float | None) -> str:
    """A share as a percentage with one decimal (``12.5%``), as the quality alerts write them."""
    return NONE if value is None else f"{value:.1%}"


def yes_no(value: bool | None) -> str:
    if value is None:
        return NONE
    return gettext("Yes") if value else gettext("No")


def when(value: datetime | None) -> str:
    """A time in the document's zone, to the second."""
    if value is None:
        return NONE
    return timezone.localtime(value, ZoneInfo(DOCUMENT_TIME_ZONE)).strftime("%Y-%m-%d %H:%M:%S")


def fields(block_id: str, rows: list[tuple[str, Any]]) -> dict[str, Any]:
    """Label/value pairs (a two-column table without a header)."""
    return {"kind": "fields", "id": block_id, "rows": [[str(label), text(value)] for label, value in rows]}


def table(block_id: str, columns: list[str], rows: list[list[Any]], caption: str = "") -> dict[str, Any]:
    """A table with a header row (repeated on every PDF page it spans)."""
    return {
        "kind": "table",
        "id": block_id,
        "caption": caption,
        "columns": [str(c) for c in columns],
        "rows": [[text(cell) for cell in row] for row in rows],
    }


def note(message: str) -> dict[str, Any]:
    """A sentence on its own: what is missing, where a figure comes from."""
    return {"kind": "note", "text": str(message)}


def section(section_id: str, title: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": section_id, "title": str(title), "blocks": blocks}
