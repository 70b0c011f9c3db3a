"""The demo provider records a month's services, voids one, uploads a CSV, invoices the month,
and the administrator approves the invoice; every page passes the axe-core check."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check, login
from voucher import clock
from voucher.demo.redemptions import HOME_CARE_CODE


@pytest.fixture
def october_has_ended(demo):
    """Today is 24 November 2026: October can be invoiced."""
    clock.freeze(dt.datetime(2026, 11, 24, 12, 0, tzinfo=clock.HELSINKI))
    return demo


def _record(page, day: str, units: str) -> None:
    page.get_by_role("row").filter(has_text=HOME_CARE_CODE).get_by_role(
        "link", name=re.compile(r"Kirjaa palvelutapahtuma\W+Matti N\., Kotihoito")).click()
    axe_check(page)
    page.get_by_label("Palvelupäivä").fill(day)
    page.get_by_label("Yksiköt").fill(units)
    expect(page.get_by_label("Yksikköhinta (€)")).to_have_value("39,00")
    page.get_by_label("Hoitajan henkilöstönumero").fill("HO-17")
    page.get_by_role("button", name="Esikatsele").click()
    axe_check(page)
    expect(page.get_by_role("heading", name="Tarkista ennen tallentamista")).to_be_visible()
    page.get_by_role("button", name="Tallenna palvelutapahtuma").click()
    axe_check(page)
    expect(page.get_by_role("status").filter(has_text="Palvelutapahtuma kirjattu")).to_be_visible()


def _upload(page, rows: list[str]) -> None:
    content = "voucher_code;service_date;units;unit_price\r\n" + "\r\n".join(rows) + "\r\n"
    page.get_by_label("CSV-tiedosto", exact=True).set_input_files(
        files=[{"name": "lokakuu.csv", "mimeType": "text/csv",
                "buffer": content.encode("utf-8")}])
    page.get_by_role("button", name="Tarkista ja kirjaa").click()
    axe_check(page)


def test_a_month_from_service_events_to_an_approved_invoice(page, october_has_ended):
    login(page, "provider@example.fi")
    axe_check(page)
    page.get_by_role("navigation", name="Päävalikko").get_by_role(
        "link", name="Palvelutapahtumat").click()
    axe_check(page)

    # Three visits in October, one of them recorded by mistake and voided.
    for day, units in (("2026-10-05", "2"), ("2026-10-12", "1,5"), ("2026-10-19", "2")):
        _record(page, day, units)
    # The demo's history has many events; show October's not yet invoiced ones.
    events = page.get_by_role("main").locator("form").filter(
        has=page.get_by_role("button", name="Näytä"))
    events.get_by_label("Kuukausi").select_option("2026-10")
    events.get_by_label("Tila").select_option("recorded")
    events.get_by_role("button", name="Näytä").click()
    axe_check(page)
    page.get_by_role("link", name=re.compile(r"Mitätöi\W+19\.10\.2026, Matti N\.")).click()
    axe_check(page)
    page.get_by_role("button", name="Mitätöi palvelutapahtuma").click()
    axe_check(page)
    expect(page.get_by_role("status").filter(has_text="mitätöitiin")).to_be_visible()

    # Two more from a file: a bad row rejects the whole file; fixed, it is accepted.
    page.get_by_role("link", name="Lähetä CSV-tiedosto").click()
    axe_check(page)
    _upload(page, [f"{HOME_CARE_CODE};26.10.2026;2;39,00",
                   f"{HOME_CARE_CODE};31.10.2026;2;45,00"])
    problems = page.get_by_role("region", name=re.compile("Mitään ei tallennettu"))
    expect(problems).to_contain_text("Rivi 3: unit_price: Yksikköhinta 45,00")
    expect(problems).not_to_contain_text("Rivi 2")
    _upload(page, [f"{HOME_CARE_CODE};26.10.2026;2;39,00",
                   f"{HOME_CARE_CODE};31.10.2026;2;39,00"])
    expect(page.get_by_role("status").filter(has_text="kirjattiin 2 palvelutapahtumaa"))\
        .to_be_visible()
    for state, row in (("void", "19.10.2026.*Mitätöity"), ("recorded", "31.10.2026.*Kirjattu")):
        page.get_by_label("Kuukausi").select_option("2026-10")
        page.get_by_label("Tila").select_option(state)
        page.get_by_role("button", name="Näytä").click()
        axe_check(page)
        events = page.get_by_role("table", name=re.compile("palvelutapahtuma"))
        expect(events.get_by_role("row", name=re.compile(row))).to_have_count(1)

    # The month's invoice.
    page.get_by_role("navigation", name="Päävalikko").get_by_role("link", name="Laskut").click()
    axe_check(page)
    page.get_by_role("button", name="Luo lasku kuukaudelta 10/2026").click()
    axe_check(page)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Lasku")
    number = re.search(r"Lasku (\d+)", heading.inner_text()).group(1)
    lines = page.get_by_role("table", name=re.compile("palvelutapahtuma"))
    ours = lines.get_by_role("row").filter(has_text=HOME_CARE_CODE)
    expect(ours).to_have_count(4)  # the voided one is not there
    # The voucher pays its value, 29 €/h; the client the rest of the 39 € price.
    expect(ours.filter(has_text="12.10.2026")).to_contain_text("43,50 €")
    expect(ours.filter(has_text="12.10.2026")).to_contain_text("15,00 €")
    page.get_by_role("button", name="Kirjaudu ulos").click()
    axe_check(page)

    # The administrator approves it.
    login(page, "admin@example.fi")
    axe_check(page)
    page.get_by_role("navigation", name="Päävalikko").get_by_role("link", name="Laskut").click()
    axe_check(page)
    page.get_by_role("link", name=f"Lasku {number}", exact=True).click()
    axe_check(page)
    page.get_by_role("button", name="Hyväksy lasku").click()
    axe_check(page)
    expect(page.get_by_role("status").filter(has_text=f"Lasku {number} hyväksytty"))\
        .to_be_visible()
