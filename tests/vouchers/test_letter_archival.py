"""The decision letter is an archival PDF/A-2b. veraPDF, the reference validator, cannot be
installed here (it comes from Maven Central, which this machine cannot reach), so the test
checks with pikepdf (qpdf) what PDF/A-2b asks of such a document: qpdf finds no structural
error; the XMP metadata identifies PDF/A part 2, conformance B, and its title matches the
document's; an output intent GTS_PDFA1 with an embedded ICC profile; every font embedded; no
encryption, no JavaScript, no actions that launch anything; a file identifier."""

from __future__ import annotations

import io

import pikepdf

from tests import factories
from tests.vouchers.test_decision_pages import _decide, _vouchers


def _letter_pdf(client, auth, db, world) -> bytes:
    auth.login(world.case_manager.email, factories.PASSWORD)
    voucher_url = _decide(client, world).headers["Location"]
    response = client.get(f"{voucher_url}/letter.pdf")
    assert response.status_code == 200
    return response.data


def _fonts(pdf: pikepdf.Pdf):
    for page in pdf.pages:
        for font in page.Resources.get("/Font", {}).values():
            yield font
            yield from font.get("/DescendantFonts", [])


def test_the_decision_letter_is_pdf_a_2b(client, auth, db, world):
    data = _letter_pdf(client, auth, db, world)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.check_pdf_syntax() == []
        metadata = pdf.open_metadata()
        assert metadata.pdfa_status == "2B"
        voucher = _vouchers(db)[0]
        assert voucher.service_type.name_fi in str(metadata.get("dc:title"))
        assert not pdf.is_encrypted and "/Encrypt" not in pdf.trailer
        assert len(pdf.trailer.ID) == 2
        intents = pdf.Root.OutputIntents
        assert [str(i.S) for i in intents] == ["/GTS_PDFA1"]
        assert intents[0].DestOutputProfile.read_bytes()[36:40] == b"acsp"  # an ICC profile
        fonts = list(_fonts(pdf))
        assert fonts
        for font in fonts:
            descriptor = font.get("/FontDescriptor")
            if descriptor is not None:
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            else:  # a Type0 font: its descendant carries the embedded file
                assert font.Subtype == "/Type0"
        assert "/JavaScript" not in pdf.Root.get("/Names", {})
        opening = pdf.Root.get("/OpenAction")
        # A destination (the first page at some zoom) is fine; a script or a launch is not.
        assert opening is None or isinstance(opening, pikepdf.Array) or \
            str(opening.get("/S")) == "/GoTo"
