"""A case manager proposes a change of a decision (more units), sees it before sending it, and a
second case manager approves it: the new decision is in force and both decisions stay
readable, the old one superseded by the new. Every page gets check_page (axe, and reflow at
320, 768 and 1280 px)."""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import check_page, login
from voucher.changes.models import ChangeStatus, VoucherChange
from voucher.clients.models import Client
from voucher.providers.models import Provider
from voucher.vouchers.models import Voucher


def test_a_case_manager_proposes_a_change_and_another_approves_it(page, demo):
    aino = demo.execute(sa.select(Client.id).where(Client.email == "client@example.fi")
                        ).scalar_one()
    aurinko = demo.execute(sa.select(Provider.id).where(
        Provider.legal_name == "Hoivapalvelu Aurinko Oy")).scalar_one()
    voucher = demo.execute(sa.select(Voucher).where(
        Voucher.client_id == aino, Voucher.provider_id == aurinko).order_by(Voucher.id)
    ).scalars().first()
    voucher_id, old_number, units = voucher.id, voucher.decision_number, voucher.units_per_period
    demo.rollback()

    login(page, "casemanager@example.fi")
    check_page(page)
    page.goto(f"/vouchers/{voucher_id}")
    check_page(page)
    page.get_by_role("link", name="Muuta päätöstä").click()
    expect(page.get_by_role("heading", name="Muuta päätöstä", level=1)).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Lähetä hyväksyttäväksi").click()
    expect(page.get_by_text("Kirjoita muutoksen perustelut").first).to_be_visible()
    check_page(page)
    page.get_by_label("Yksiköt").fill(str(units // 100 + 4))
    page.get_by_label("Muutoksen perustelut").fill(
        "Kotikäynnillä todettiin, että aamuisin tarvitaan enemmän apua.")
    page.get_by_role("button", name="Näytä muutos").click()
    expect(page.get_by_role("heading", name="Muutos ennen sen tekemistä")).to_be_visible()
    expect(page.get_by_role("table", name="Miten sidottu määräraha muuttuu")).to_contain_text(
        "sidotaan")
    check_page(page)
    page.get_by_role("button", name="Lähetä hyväksyttäväksi").click()
    expect(page.get_by_text("Muutos odottaa toisen palveluohjaajan hyväksyntää.").first
           ).to_be_visible()
    expect(page.get_by_role("button", name="Hyväksy muutos")).to_have_count(0)
    check_page(page)
    page.get_by_role("button", name="Kirjaudu ulos").click()
    check_page(page)

    login(page, "casemanager2@example.fi")
    check_page(page)
    page.goto("/vouchers/")
    check_page(page)
    page.get_by_role("link", name=re.compile(f"päätöksen {old_number} muutos")).click()
    check_page(page)
    page.get_by_role("button", name="Hyväksy muutos").click()
    expect(page.get_by_text(re.compile(r"Muutospäätös PS-\d{4}-\d{6} on tehty"))
           ).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Muutospäätös", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Muutospäätös palvelusetelipäätökseen"))
           ).to_be_visible()
    expect(page.get_by_text(old_number).first).to_be_visible()
    check_page(page)
    page.goto(f"/vouchers/{voucher_id}")
    decisions = page.get_by_role("table", name="Palvelusetelin päätökset, voimassa oleva "
                                               "viimeisenä")
    expect(decisions).to_contain_text(f"{old_number}")
    expect(decisions).to_contain_text("korvattu päätöksellä PS-")
    check_page(page)
    decisions.get_by_role("link", name="Päätös", exact=True).first.click()
    expect(page.get_by_text("Korvattu")).to_be_visible()
    check_page(page)

    demo.rollback()
    change = demo.execute(sa.select(VoucherChange).where(
        VoucherChange.voucher_id == voucher_id)).scalar_one()
    assert change.status == ChangeStatus.APPROVED
    assert demo.get(Voucher, voucher_id).decision_number == change.decision_number
    assert demo.get(Voucher, voucher_id).units_per_period == units + 400
