"""The client refuses a voucher in their own pages; a case manager records a refusal that came
on paper. Every page gets check_page (axe, and reflow at 320, 768 and 1280 px)."""

import datetime as dt

import sqlalchemy as sa
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import check_page, login
from voucher import clock
from voucher.accounts.models import User
from voucher.catalogue.models import ServiceType
from voucher.clients.models import Client
from voucher.vouchers.models import Voucher, VoucherStatus


def _new_voucher(demo, client_email: str) -> tuple[int, str]:
    """A fresh issued voucher of the demo client, of a service they have no voucher for."""
    user = demo.execute(sa.select(User).where(User.email == client_email)).scalar_one()
    holder = demo.get(Client, user.client_id)
    maker = demo.execute(sa.select(User).where(User.email == "casemanager@example.fi")
                         ).scalar_one()
    held = sa.select(Voucher.service_type_id).where(Voucher.client_id == holder.id)
    service = demo.execute(sa.select(ServiceType).where(ServiceType.id.not_in(held))
                           .order_by(ServiceType.id)).scalars().first()
    today = clock.today()
    voucher = factories.voucher(demo, holder=holder, service=service, creator=maker,
                                units=500, valid_from=today,
                                valid_until=today + dt.timedelta(days=90))
    demo.commit()
    return voucher.id, service.name_fi


def test_the_client_refuses_a_voucher(page, demo):
    voucher_id, service = _new_voucher(demo, "client@example.fi")
    login(page, "client@example.fi")
    check_page(page)
    page.get_by_role("link", name=service, exact=True).click()
    expect(page.get_by_role("heading", name=service, level=1)).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Kieltäydy setelistä").click()
    expect(page.get_by_text("Sinulla on oikeus kieltäytyä palvelusetelistä")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Kieltäydy setelistä").click()
    expect(page.get_by_text("Olet kieltäytynyt setelistä. Palveluohjaajallesi on ilmoitettu.")
           ).to_be_visible()
    expect(page.get_by_text("Kieltäydyit setelistä")).to_be_visible()
    expect(page.get_by_role("link", name="Kieltäydy setelistä")).to_have_count(0)
    check_page(page)
    demo.rollback()
    voucher = demo.get(Voucher, voucher_id)
    assert (voucher.status, voucher.refused_on) == (VoucherStatus.CANCELLED, clock.today())


def test_a_case_manager_records_a_refusal_received_on_paper(page, demo):
    voucher_id, _service = _new_voucher(demo, "client@example.fi")
    login(page, "casemanager@example.fi")
    check_page(page)
    page.goto(f"/vouchers/{voucher_id}")
    check_page(page)
    page.get_by_role("link", name="Kirjaa asiakkaan kieltäytyminen").click()
    check_page(page)
    field = page.get_by_label("Päivä, jona asiakas kieltäytyi")
    field.fill((clock.today() + dt.timedelta(days=2)).isoformat())  # a date input
    page.get_by_role("button", name="Kirjaa kieltäytyminen").click()
    expect(page.get_by_text("ei ennen päätöstä eikä tulevaisuudessa").first).to_be_visible()
    check_page(page)
    field = page.get_by_label("Päivä, jona asiakas kieltäytyi")
    field.fill(clock.today().isoformat())
    page.get_by_role("button", name="Kirjaa kieltäytyminen").click()
    expect(page.get_by_text("Asiakkaan kieltäytyminen on kirjattu")).to_be_visible()
    expect(page.get_by_text("Asiakas kieltäytyi setelistä; sitoumus vapautettu")).to_be_visible()
    check_page(page)
    demo.rollback()
    assert demo.get(Voucher, voucher_id).refused_on == clock.today()
