"""Zoom and text spacing: each role's home page, the client's provider choice and a provider's
register page still reflow, and clip nothing, at 200 % zoom (WCAG 1.4.4: a 1280 px window
zoomed to 200 % is 640 CSS px wide; and the text alone at 200 % at 1280 px) and with the text
spacing of WCAG 1.4.12 (line height 1.5, paragraph spacing 2, letter spacing 0.12 and word
spacing 0.16 times the font size) at 320 and 1280 px. The register page prints without the
site's navigation, saying where and when it was printed."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import axe_check, check_page, check_reflow, login
from voucher.accounts.models import User
from voucher.providers.models import Provider, ProviderStatus
from voucher.vouchers.models import Voucher, VoucherStatus

TEXT_SPACING = """* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
                     word-spacing: 0.16em !important; }
                  p, li, dd { margin-bottom: 2em !important; }"""


def _add_style(page, css: str) -> None:
    """A user style sheet, as a reader's browser setting adds one (a constructed sheet: the
    site's Content Security Policy refuses inline styles)."""
    page.evaluate("""css => { const sheet = new CSSStyleSheet(); sheet.replaceSync(css);
                              document.adoptedStyleSheets = [...document.adoptedStyleSheets,
                                                             sheet]; }""", css)


def _stressed(page, path: str) -> None:
    """The page at 640 px, with the text at 200 % at 1280 px, and with WCAG's text spacing
    at 320 and 1280 px."""
    page.goto(path)
    check_page(page)
    page.set_viewport_size({"width": 640, "height": 900})
    check_reflow(page, 640)
    page.set_viewport_size({"width": 1280, "height": 900})
    _add_style(page, "html { font-size: 200% !important; }")
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "32px"
    check_reflow(page, 1280)
    page.goto(path)
    _add_style(page, TEXT_SPACING)
    assert page.evaluate("getComputedStyle(document.querySelector('main p')).lineHeight") \
        != "normal"
    for width in (320, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        axe_check(page)
        check_reflow(page, width)


def _provider_id(demo) -> int:
    return demo.execute(sa.select(Provider.id).where(
        Provider.status == ProviderStatus.APPROVED).order_by(Provider.id)).scalars().first()


def test_the_public_register_page_under_zoom_and_spacing_and_on_paper(page, demo):
    provider_id = _provider_id(demo)
    demo.rollback()
    _stressed(page, f"/providers/{provider_id}")
    page.goto(f"/providers/{provider_id}")
    axe_check(page)
    how = page.get_by_role("heading", name="Näin valitset tämän palveluntuottajan")
    expect(how).to_be_visible()
    expect(page.get_by_role("button", name="Tulosta tämä sivu")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation")).to_have_count(0)
    printed = page.get_by_text(re.compile(r"^Tulostettu osoitteesta .*/providers/\d+"))
    expect(printed).to_be_visible()
    expect(page.get_by_role("button", name="Tulosta tämä sivu")).to_be_hidden()
    page.emulate_media(media="screen")


@pytest.mark.parametrize("email", ["client@example.fi", "casemanager@example.fi",
                                   "provider@example.fi", "admin@example.fi"])
def test_home_pages_under_zoom_and_spacing(page, demo, email):
    choice = None
    if email.startswith("client"):
        client_id = demo.execute(sa.select(User.client_id).where(User.email == email)).scalar()
        choice = demo.execute(sa.select(Voucher.id).where(
            Voucher.client_id == client_id,
            Voucher.status.in_([VoucherStatus.ISSUED, VoucherStatus.ASSIGNED]))
            .order_by(Voucher.id)).scalars().first()
    demo.rollback()
    login(page, email)
    check_page(page)
    _stressed(page, "/")
    if choice is not None:
        _stressed(page, f"/vouchers/{choice}/provider")
