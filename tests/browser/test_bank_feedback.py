"""The administrator imports the bank's debit notification: one payment came back. The
administrator sees it returned with the bank's reason, waiting for the provider's corrected
account, and the provider sees it on its own page."""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import check_page, login
from voucher import clock
from voucher.audit.services import Actor
from voucher.demo import bank_files
from voucher.providers.models import Provider
from voucher.settlement.run import Payer, settle_approved_invoices


def test_a_returned_payment_is_shown_to_the_administrator_and_the_provider(app, page, demo,
                                                                           tmp_path):
    batch = settle_approved_invoices(demo, actor=Actor.system("test"),
                                     payer=Payer.from_config(app.config)).batch
    demo.commit()
    aurinko = demo.execute(sa.select(Provider).where(
        Provider.legal_name.like("Hoivapalvelu Aurinko%"))).scalar_one()
    [returned] = [p for p in batch.payments if p.provider_id == aurinko.id]
    others = [p.end_to_end_id for p in batch.payments if p.id != returned.id]
    sent = bank_files.read_payment_file(batch.sepa_xml)
    notification = tmp_path / "camt054-returns.xml"
    notification.write_bytes(bank_files.debit_notification(
        sent, message_id="CAMT054-RETURN", created_at=clock.now(), booked_on=clock.today(),
        debited=others, returned={returned.end_to_end_id: ("AC04", "Tili on lopetettu")}))
    not_xml = tmp_path / "statement.pdf"
    not_xml.write_bytes(b"%PDF-1.4 not a bank file")
    demo.rollback()

    login(page, "admin@example.fi")
    check_page(page)
    page.goto("/admin/settlement/")
    check_page(page)
    field = page.get_by_label("Pankin tiedosto (XML)")
    field.set_input_files(str(not_xml))
    page.get_by_role("button", name="Lue tiedosto").click()
    expect(page.get_by_text(re.compile("Tiedosto ei ole XML-muotoinen")).first).to_be_visible()
    check_page(page)

    page.get_by_label("Pankin tiedosto (XML)").set_input_files(str(notification))
    page.get_by_role("button", name="Lue tiedosto").click()
    expect(page.get_by_text(re.compile("Pankin tiedosto luettiin"))).to_be_visible()
    statuses = page.get_by_role("table", name="Tiedoston maksujen tilat")
    expect(statuses).to_contain_text("AC04")
    check_page(page)

    page.goto("/admin/settlement/")
    failed = page.get_by_role("table", name="Uudelleen maksettavat maksut")
    expect(failed).to_contain_text("palautunut")
    expect(failed).to_contain_text("Tili on lopetettu")
    expect(failed).to_contain_text("Odottaa palveluntuottajan korjattua pankkitiliä")
    check_page(page)
    page.goto(f"/admin/settlement/batches/{batch.id}")
    payments = page.get_by_role("table", name="Maksuerän maksut")
    expect(payments).to_contain_text("palautunut")
    expect(payments).to_contain_text("AC04")
    check_page(page)
    page.get_by_role("button", name="Kirjaudu ulos").click()
    check_page(page)

    login(page, "provider@example.fi")
    check_page(page)
    page.goto("/provider/self-shares")
    expect(page.get_by_role("heading", name="Maksu ei tullut tilillenne")).to_be_visible()
    expect(page.get_by_text(re.compile("Tili on lopetettu")).first).to_be_visible()
    check_page(page)
    page.goto("/provider/invoices")  # the returned payment's invoice is not plainly "paid"
    expect(page.get_by_text("Maksettu, maksu palautunut")).to_be_visible()
    check_page(page)
