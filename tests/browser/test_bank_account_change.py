"""An approved provider asks to be paid to another account; the change waits, the provider's
page says so, and a second person (an administrator) approves it from the review pages."""

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import check_page, login
from voucher.providers.models import Provider

NEW = "FI58 1017 1000 0001 22"


def test_provider_asks_for_a_new_account_and_an_administrator_approves_it(page, demo):
    login(page, "provider@example.fi")
    check_page(page)
    page.goto("/provider/application/edit")
    check_page(page)
    page.get_by_label("Pankkitili (IBAN)").fill(NEW)
    page.get_by_role("button", name="Tallenna", exact=True).click()
    expect(page.get_by_text("käytetään, kun kuntayhtymä on hyväksynyt sen")).to_be_visible()
    expect(page.get_by_role("heading", name="Tilinumeron muutos odottaa hyväksyntää")
           ).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Kirjaudu ulos").click()
    check_page(page)

    login(page, "admin@example.fi")
    check_page(page)
    page.goto("/admin/providers")
    changes = page.get_by_role("table", name="Odottaa hyväksyntää (1)")
    expect(changes).to_contain_text("FI58 **** **** **01 22")
    check_page(page)
    changes.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Tilinumeron muutos", exact=True)).to_be_visible()
    check_page(page)
    page.get_by_label("Perustelu tai huomautus").fill("Varmistettu soittamalla yritykseen.")
    page.get_by_role("button", name="Hyväksy uusi tilinumero").click()
    expect(page.get_by_text("Uusi tilinumero hyväksyttiin")).to_be_visible()
    check_page(page)
    demo.rollback()
    provider = demo.execute(sa.select(Provider).where(
        Provider.legal_name == "Hoivapalvelu Aurinko Oy")).scalar_one()
    assert provider.iban == NEW.replace(" ", "")
