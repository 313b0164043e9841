"""The model document as a print-ready PDF (A4), drawn with reportlab from ``version_document``'s dict.

No Django here: every word is already translated in the dict. Chinese is set in reportlab's
built-in CID font STSong-Light (Adobe's Asian font packs, which PDF readers carry), so no
font file ships with OMM and the PDF embeds none. Tables repeat their header row on every
page they span; the footer numbers the pages ("page 3 of 12"), which needs the page count,
so pages are kept until the document ends (``_NumberedCanvas``).
"""

from __future__ import annotations

import io
import re
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN
GRID = colors.HexColor("#c8ccd2")
HEAD = colors.HexColor("#eef1f5")
MUTED = colors.HexColor("#5f6670")
# A cell that is a figure (1, -0.25, 12.5%, a score range) is right-aligned, as in the report page.
_FIGURE = re.compile(r"^[#+-]?\d[\d,.]*%?( \u2013 -?\d[\d.]*)?$")

_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    # wordWrap CJK: Chinese lines break between any two characters, not only at spaces.
    base = ParagraphStyle("body", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=22, spaceAfter=4),
        "meta": ParagraphStyle("meta", parent=base, fontSize=8.5, textColor=MUTED),
        "section": ParagraphStyle(
            "section", parent=base, fontSize=13, leading=17, spaceBefore=10, spaceAfter=5
        ),
        "caption": ParagraphStyle(
            "caption", parent=base, fontSize=9.5, leading=12, spaceBefore=5, spaceAfter=3
        ),
        "note": ParagraphStyle("note", parent=base, textColor=MUTED, spaceBefore=2, spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5),
        "figure": ParagraphStyle("figure", parent=base, fontSize=7.5, leading=9.5, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontSize=7.5, leading=9.5),
    }


def _p(value: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(value)).replace("\n", "<br/>"), style)


def _widths(columns: list[str], rows: list[list[str]]) -> list[float]:
    """Column widths in proportion to their longest text (within bounds), filling the page."""
    weights = []
    for i, head in enumerate(columns):
        longest = max([len(head), *(len(r[i]) for r in rows if i < len(r))])
        weights.append(min(max(longest, 4), 40))
    total = sum(weights) or 1
    return [WIDTH * w / total for w in weights]


def _table(block: dict, st: dict[str, ParagraphStyle]) -> list:
    columns, rows = block["columns"], block["rows"]
    out: list = []
    if block.get("caption"):
        out.append(_p(block["caption"], st["caption"]))
    if not rows:
        return [*out, _p("-", st["note"])]
    data = [[_p(c, st["head"]) for c in columns]]
    data += [[_p(cell, st["figure"] if _FIGURE.match(cell) else st["cell"]) for cell in row] for row in rows]
    grid = Table(data, colWidths=_widths(columns, rows), repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    out.append(grid)
    # A short table stays on one page with its caption.
    return [KeepTogether(out)] if len(rows) <= 12 else out


def _fields(block: dict, st: dict[str, ParagraphStyle]) -> list:
    data = [[_p(label, st["head"]), _p(value, st["cell"])] for label, value in block["rows"]]
    grid = Table(data, colWidths=[WIDTH * 0.3, WIDTH * 0.7])
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (0, -1), HEAD),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return [grid]


def _story(doc: dict[str, Any]) -> list:
    st = _styles()
    labels = doc["labels"]
    story: list = [
        _p(labels["heading"], st["title"]),
        _p(f"OMM · {labels['generated']} · {labels['language']}", st["meta"]),
        Spacer(1, 4 * mm),
    ]
    for section in doc["sections"]:
        story.append(_p(f"{section['number']}. {section['title']}", st["section"]))
        for block in section["blocks"]:
            if block["kind"] == "fields":
                story += _fields(block, st)
            elif block["kind"] == "table":
                story += _table(block, st)
            else:
                story.append(_p(block["text"], st["note"]))
            story.append(Spacer(1, 2 * mm))
    return story


class _NumberedCanvas(canvas.Canvas):
    """Keeps every page until the end, then writes each one's header and "page n of N" footer."""

    def __init__(self, *args: Any, header: str, page: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._header, self._page = header, page
        self._pages: list[dict] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._decorate(total)
            super().showPage()
        super().save()

    def _decorate(self, total: int) -> None:
        width, height = self._pagesize
        self.saveState()
        self.setFont(FONT, 7.5)
        self.setFillColor(MUTED)
        self.drawString(MARGIN, height - 10 * mm, self._header)
        self.drawRightString(width - MARGIN, 9 * mm, self._page % {"page": self._pageNumber, "pages": total})
        self.setStrokeColor(GRID)
        self.line(MARGIN, height - 11.5 * mm, width - MARGIN, height - 11.5 * mm)
        self.restoreState()


def document_pdf(doc: dict[str, Any]) -> bytes:
    """The document as PDF bytes (A4 portrait)."""
    out = io.BytesIO()
    template = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 2 * mm,
        bottomMargin=MARGIN,
        title=doc["labels"]["heading"],
        author="OMM",
        subject=doc["title"],
        lang=doc.get("language"),
    )
    _font()
    header = f"OMM · {doc['labels']['heading']} · {doc['labels']['generated']}"
    template.build(
        _story(doc), canvasmaker=partial(_NumberedCanvas, header=header, page=doc["labels"]["page"])
    )
    return out.getvalue()
