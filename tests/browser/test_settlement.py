"""The administrator settles the demo's approved invoices, downloads the payment file, sees
the budgets' spending move to the cent, and reads the reports with their charts."""

import re

import sqlalchemy as sa
import xmlschema
from playwright.sync_api import expect

from tests.browser.conftest import axe_check, login
from voucher import clock
from voucher.budgets.models import Budget
from voucher.demo import bank_files
from voucher.money import format_cents
from voucher.settlement.models import PaymentBatch
from voucher.settlement.planning import plan_settlement
from voucher.settlement.sepa import _schema


def money(cents: int) -> re.Pattern:
    """The amount as the Finnish page shows it (non-breaking spaces or not)."""
    return re.compile(re.escape(format_cents(cents, "fi")).replace("\xa0", r"\s"))


def _menu(page, name: str) -> None:
    page.get_by_role("navigation", name="Päävalikko").get_by_role("link", name=name,
                                                                  exact=True).click()
    axe_check(page)


def test_admin_settles_downloads_the_file_and_reads_the_reports(page, demo, tmp_path):
    plan = plan_settlement(demo)
    assert plan.payments, "the demo has approved invoices waiting"
    before = {b.id: b.spent_cents for b in demo.execute(sa.select(Budget)).scalars()}
    demo.rollback()

    login(page, "admin@example.fi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ylläpito")
    axe_check(page)
    _menu(page, "Tilitys")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tilitys")
    preview = page.get_by_role("table", name="Tilityksen määrärahoista maksettava käyttö")
    for amount in plan.spend_by_budget.values():
        expect(preview).to_contain_text(money(amount))
    page.get_by_role("button", name=re.compile(
        f"Suorita tilitys: maksa {plan.invoice_count} laskua")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Maksuerä")
    axe_check(page)
    expect(page.get_by_text(f"Tilitetty: {len(plan.payments)} maksua")).to_be_visible()
    budgets = page.get_by_role("table", name=re.compile("Tämän maksuerän käyttö"))
    rows = budgets.get_by_role("row")
    expect(rows).to_have_count(len(plan.spend_by_budget) + 1)
    for budget_id, amount in plan.spend_by_budget.items():
        budget = demo.get(Budget, budget_id)
        assert budget.spent_cents == before[budget_id] + amount
        row = rows.filter(has_text=budget.municipality.name_fi).filter(
            has_text=budget.service_type.name_fi).filter(has_text=str(budget.year))
        expect(row).to_contain_text(money(amount))
        expect(row).to_contain_text(money(budget.spent_cents))

    with page.expect_download() as download:
        page.get_by_role("link", name="Lataa maksuaineisto (pain.001)").click()
    path = tmp_path / "pain001.xml"
    download.value.save_as(path)
    xsd = xmlschema.XMLSchema(_schema().url)
    xsd.validate(str(path))
    document = xsd.to_dict(str(path))
    header = document["CstmrCdtTrfInitn"]["GrpHdr"]
    assert int(header["NbOfTxs"]) == len(plan.payments)
    assert str(header["CtrlSum"]) == f"{plan.total_cents // 100}.{plan.total_cents % 100:02d}"

    page.get_by_role("button", name="Merkitse lähetetyksi pankkiin").click()
    expect(page.get_by_text("Maksuerä on merkitty lähetetyksi pankkiin.")).to_be_visible()
    axe_check(page)
    # The bank, not a click, confirms the batch: its debit notification is imported.
    demo.rollback()
    batch = demo.execute(sa.select(PaymentBatch).order_by(PaymentBatch.id.desc())
                         ).scalars().first()
    sent = bank_files.read_payment_file(batch.sepa_xml)
    notification = tmp_path / "camt054.xml"
    notification.write_bytes(bank_files.debit_notification(
        sent, message_id="CAMT054-BROWSER", created_at=clock.now(), booked_on=clock.today(),
        debited=[t.end_to_end_id for t in sent.transfers]))
    demo.rollback()
    page.get_by_role("link", name="Lue pankin tilaraportti").click()
    axe_check(page)
    page.get_by_label("Pankin tiedosto (XML)").set_input_files(str(notification))
    page.get_by_role("button", name="Lue tiedosto").click()
    expect(page.get_by_text(re.compile("Pankin tiedosto luettiin"))).to_be_visible()
    axe_check(page)
    page.goto(f"/admin/settlement/batches/{batch.id}")
    expect(page.get_by_text("pankin vahvistama", exact=True).first).to_be_visible()
    axe_check(page)

    _menu(page, "Raportit")
    chart = page.get_by_role("img", name="Määrärahojen käyttö 2026")
    expect(chart).to_be_visible()
    expect(page.get_by_role("table", name="Määrärahojen käyttö 2026")).to_contain_text(
        "Ylivieska")
    reports = page.get_by_role("navigation", name="Raportit")
    for link, heading in (("Kuukausiluvut", "Kuukausiluvut 2026"),
                          ("Neljännesvuosiraportti", "Neljännesvuosiraportti 2026"),
                          ("Palveluntuottajat", "Palveluntuottajat"),
                          ("Kustannusten kohdistus kunnille", "Kustannusten kohdistus"),
                          ("Täsmäytys", "Täsmäytys")):
        reports.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        axe_check(page)
    expect(page.get_by_text("Kaikki täsmää: ei eroja.")).to_be_visible()
    reports.get_by_role("link", name="Kuukausiluvut").click()
    axe_check(page)
    expect(page.get_by_role("img", name="Käytetty (tilitetty) kuukausittain")).to_be_visible()
    with page.expect_download() as spreadsheet:
        page.get_by_role("link", name=re.compile("Lataa Excel-tiedostona")).click()
    assert spreadsheet.value.suggested_filename == "monthly-2026.xlsx"
