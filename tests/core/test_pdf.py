"""PDF documents read their fonts once per process (voucher/pdf.py ``_add_font``): what they
produce must be exactly what fpdf2's own ``add_font`` gives, whatever was written before."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

import voucher.pdf

CREATED = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


def _letter(text: str, *, archival: bool) -> bytes:
    document = voucher.pdf.PdfDocument("Päätös", language="sv", archival=archival)
    document._pdf.set_creation_date(CREATED)  # the one thing that differs between two runs
    document.heading(f"Beslut {text} €")
    document.paragraph(f"{text} – Åäö ÅÄÖ “citat” ✓ " * 20)
    document.table(["Tjänst", "Belopp"], [[text, "1 234,50 €"]], right_aligned={1})
    document.new_page()
    document.facts([("Namn", text)])
    # An archival document's metadata also says when it was written, to the second, and the
    # file's identifier is a digest that includes it.
    written = re.sub(rb'xmp:(Modify|Metadata)Date="[^"]*"', rb'xmp:\1Date=""', document.output())
    return re.sub(rb"/ID \[<[0-9A-F]+><[0-9A-F]+>\]", b"/ID []", written)


@pytest.fixture
def fpdf_add_font(monkeypatch):
    """Documents made with fpdf2's own add_font, which reads the font file each time."""
    monkeypatch.setattr(voucher.pdf, "_add_font", lambda pdf, family, style, path:
                        pdf.add_font(family, style, str(path)))


@pytest.mark.parametrize("archival", [False, True], ids=["plain", "archival"])
def test_a_document_is_byte_for_byte_what_fpdfs_add_font_gives(archival, request):
    _letter("Aino Virtanen", archival=archival)  # the parsed font is used once before
    ours = _letter("Åke Öhman", archival=archival)
    request.getfixturevalue("fpdf_add_font")
    assert ours == _letter("Åke Öhman", archival=archival)


def test_documents_made_at_once_keep_their_own_glyphs(fpdf_add_font, monkeypatch):
    texts = ["Aino", "Ωμέγα", "Ђорђе", "Øystein", "Zoë"] * 4
    expected = [_letter(text, archival=False) for text in texts]
    monkeypatch.undo()  # back to the shared parsed fonts
    with ThreadPoolExecutor(max_workers=4) as pool:
        made = list(pool.map(lambda text: _letter(text, archival=False), texts))
    assert made == expected
