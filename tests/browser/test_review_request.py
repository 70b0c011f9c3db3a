"""A client asks for a review of their decision in their own pages; another case manager than
the decision's maker finds it from the home page and decides it. Every page gets check_page
(axe, and reflow at 320, 768 and 1280 px)."""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import check_page, login
from voucher.accounts.models import User
from voucher.reviews.models import ReviewOutcome, ReviewRequest
from voucher.vouchers.models import Voucher


def test_the_client_asks_for_a_review_and_another_case_manager_decides(page, demo):
    client_id = demo.execute(sa.select(User.client_id).where(
        User.email == "client@example.fi")).scalar_one()
    voucher = demo.execute(sa.select(Voucher).where(Voucher.client_id == client_id)
                           .order_by(Voucher.id)).scalars().first()
    maker = demo.get(User, voucher.created_by_user_id).email
    decider = next(e for e in ("casemanager2@example.fi", "casemanager@example.fi")
                   if e != maker)
    service, voucher_id = voucher.service_type.name_fi, voucher.id
    demo.rollback()

    login(page, "client@example.fi")
    check_page(page)
    page.get_by_role("link", name=service, exact=True).first.click()
    check_page(page)
    page.get_by_role("link", name="Hae oikaisua päätökseen").click()
    expect(page.get_by_role("heading", name="Hae oikaisua", level=1)).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Lähetä vaatimus").click()
    expect(page.get_by_text("Kirjoita, mitä haluat päätöksessä muutettavan ja miksi.").first
           ).to_be_visible()
    check_page(page)
    page.get_by_label("Mitä päätöksessä pitäisi muuttaa ja miksi?").fill(
        "Tunnit eivät riitä: tarvitsen apua myös viikonloppuisin.")
    page.get_by_role("button", name="Lähetä vaatimus").click()
    expect(page.get_by_text("Oikaisuvaatimuksesi on lähetetty.")).to_be_visible()
    expect(page.get_by_text("odottaa ratkaisua")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Kirjaudu ulos").click()
    check_page(page)

    login(page, decider)
    check_page(page)
    page.get_by_role("link", name=re.compile(r"oikaisuvaatimus(ta)? odottaa ratkaisua")).click()
    check_page(page)
    requests = page.get_by_role("table", name="Ratkaisua odottavat vaatimukset")
    requests.get_by_role("row").filter(has_text="Aino Virtanen").get_by_role("link").click()
    expect(page.get_by_text("Tunnit eivät riitä")).to_be_visible()
    check_page(page)
    page.get_by_text("Päätös pysyy voimassa", exact=True).click()  # HDS: the label takes it
    page.get_by_label("Perustelut").fill("Tarve on arvioitu kotikäynnillä; tunnit riittävät.")
    page.get_by_role("button", name="Tee oikaisuvaatimuspäätös").click()
    expect(page.get_by_text("Oikaisuvaatimus on ratkaistu; asiakas saa kirjeen.")).to_be_visible()
    expect(page.get_by_role("link", name="Oikaisuvaatimuspäätös (PDF)")).to_be_visible()
    check_page(page)
    demo.rollback()
    review = demo.execute(sa.select(ReviewRequest).where(
        ReviewRequest.voucher_id == voucher_id)).scalar_one()
    assert review.outcome == ReviewOutcome.UPHELD and review.decision_number
