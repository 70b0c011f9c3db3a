"""PDF documents (decision letters, invoices, data exports) with fpdf2.

Pure Python, so no system libraries are needed. The vendored DejaVu Sans covers Finnish,
Swedish and the euro sign. Documents are built from a few blocks: headings, paragraphs, a list
of facts, tables and an optional QR code.
"""

from __future__ import annotations

import functools
import io
from collections import defaultdict
from copy import copy
from pathlib import Path

import segno
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

FONT_DIR = Path(__file__).parent / "pdf_fonts"


#: What an archival document (a decision letter) conforms to: PDF/A-2b, with its XMP
#: identification, an sRGB output intent and every font embedded (fpdf2 enforces it).
ARCHIVAL = "PDF/A-2B"


@functools.lru_cache(maxsize=8)
def _parsed_font(path: Path, fontkey: str, style: str) -> TTFFont:
    """A font as ``FPDF.add_font`` reads it (its character map, widths and metrics: about
    40 ms for each DejaVu face, two thirds of a one-page letter's time), read once per
    process. Never put into a document itself: ``_add_font`` gives each one its own copy."""
    return TTFFont(FPDF(), path, fontkey, style)


def _add_font(pdf: FPDF, family: str, style: str, path: Path) -> None:
    """``pdf.add_font(family, style, path)`` from the parsed font: what a document changes
    (the glyphs it uses, its font number) is its own, and so is the fontTools font, which
    ``output`` subsets in place; what it only reads (the character map, the metrics and
    glyph ids) is shared. tests/core/test_pdf.py checks the bytes are the same as
    ``add_font``'s."""
    fontkey = family.lower() + style
    font = copy(_parsed_font(path, fontkey, style))
    font.i = len(pdf.fonts) + 1
    font.ttfont = ttLib.TTFont(path, recalcTimestamp=False, fontNumber=0, lazy=True)
    font.cw = defaultdict(font.cw.default_factory, font.cw)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    pdf.fonts[fontkey] = font


class PdfDocument:
    """A simple A4 document: ``heading``, ``paragraph``, ``facts``, ``table``, ``qr``,
    then ``output()`` for the bytes; ``archival`` makes it PDF/A-2b."""

    def __init__(self, title: str, *, language: str = "fi", author: str = "",
                 archival: bool = False):
        self._pdf = FPDF(format="A4", enforce_compliance=ARCHIVAL if archival else None)
        self._pdf.set_margins(20, 20, 20)
        self._pdf.set_auto_page_break(auto=True, margin=20)
        _add_font(self._pdf, "DejaVu", "", FONT_DIR / "DejaVuSans.ttf")
        _add_font(self._pdf, "DejaVu", "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self._pdf.set_title(title)
        self._pdf.set_author(author)
        self._pdf.set_lang(language)
        self._pdf.add_page()
        self._pdf.set_font("DejaVu", size=10)

    def new_page(self) -> None:
        self._pdf.add_page()

    @property
    def width(self) -> float:
        return self._pdf.epw

    def heading(self, text: str, level: int = 1) -> None:
        size = {1: 16, 2: 13, 3: 11}.get(level, 11)
        self._pdf.ln(2 if level > 1 else 0)
        self._pdf.set_font("DejaVu", "B", size)
        self._pdf.multi_cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
        self._pdf.set_font("DejaVu", "", 10)
        self._pdf.ln(1)

    def paragraph(self, text: str) -> None:
        self._pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        self._pdf.ln(2)

    def facts(self, rows: list[tuple[str, str]], label_width: float = 60) -> None:
        """Label–value pairs, one per line."""
        for label, value in rows:
            self._pdf.set_font("DejaVu", "B", 10)
            self._pdf.cell(label_width, 6, label)
            self._pdf.set_font("DejaVu", "", 10)
            self._pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
        self._pdf.ln(2)

    def table(self, headers: list[str], rows: list[list[str]],
              widths: list[float] | None = None, right_aligned: set[int] | None = None) -> None:
        """A table with a header row; columns in ``right_aligned`` (indexes) are numbers."""
        right_aligned = right_aligned or set()
        widths = widths or [self.width / len(headers)] * len(headers)
        self._pdf.set_font("DejaVu", "B", 9)
        for index, header in enumerate(headers):
            self._pdf.cell(widths[index], 7, header, border="B",
                           align="R" if index in right_aligned else "L")
        self._pdf.ln()
        self._pdf.set_font("DejaVu", "", 9)
        for row in rows:
            for index, value in enumerate(row):
                self._pdf.cell(widths[index], 6, str(value),
                               align="R" if index in right_aligned else "L")
            self._pdf.ln()
        self._pdf.ln(2)

    def qr(self, data: str, size_mm: float = 35) -> None:
        """A QR code of ``data`` at the current position."""
        buffer = io.BytesIO()
        segno.make(data, error="m").save(buffer, kind="png", scale=8, border=2)
        buffer.seek(0)
        self._pdf.image(buffer, w=size_mm, h=size_mm)
        self._pdf.ln(2)

    def output(self) -> bytes:
        return bytes(self._pdf.output())
