"""The bank's files from a file transfer folder (``flask settlement import-bank-files DIR``)
and through the settlement page; the payment file's addresses and format setting."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import csrf_token_from
from tests.settlement.conftest import events, voucher_for
from voucher import clock
from voucher.accounts.models import Role
from voucher.demo import bank_files
from voucher.settlement.models import BankFeedbackFile, Payment, PaymentBankStatus


@pytest.fixture
def sent(db, world, settle):
    """A batch of two payments (Aurinko and Kuura) and what the bank says of it."""
    for provider in (world.aurinko, world.kuura):
        voucher = voucher_for(db, world, provider)
        factories.invoice(db, provider, events(db, voucher, (2, 100)))
    world.batch = settle().batch
    world.file = bank_files.read_payment_file(world.batch.sepa_xml)
    world.ids = [p.end_to_end_id for p in world.batch.payments]
    return world


def _report(world, statuses, message_id="PAIN002-1"):
    return bank_files.status_report(world.file, message_id=message_id, created_at=clock.now(),
                                    statuses=statuses)


@pytest.fixture
def folder(tmp_path):
    """The bank's file transfer folder (apart from the test database's folder)."""
    path = tmp_path / "bank-transfer"
    path.mkdir()
    return path


def test_the_cli_imports_a_folder_once_and_moves_the_files(app, db, sent, folder):
    tmp_path = folder
    first, second = sent.ids
    (tmp_path / "a-pain002.xml").write_bytes(_report(sent, {first: ("RJCT", "AC04", None)}))
    (tmp_path / "b-camt054.xml").write_bytes(bank_files.debit_notification(
        sent.file, message_id="CAMT-1", created_at=clock.now(), booked_on=clock.today(),
        debited=[second]))
    (tmp_path / "c-not-a-bank-file.txt").write_bytes(b"hello")
    runner = app.test_cli_runner()

    result = runner.invoke(args=["settlement", "import-bank-files", str(tmp_path)])

    assert result.exit_code == 1, result.output  # one file was refused
    assert "imported: a-pain002.xml: applied 1" in result.output
    assert "imported: b-camt054.xml: applied 1" in result.output
    assert "refused: c-not-a-bank-file.txt: The file is not XML" in result.output
    assert sorted(p.name for p in (tmp_path / "processed").iterdir()) == [
        "a-pain002.xml", "b-camt054.xml"]
    assert [p.name for p in (tmp_path / "rejected").iterdir()] == ["c-not-a-bank-file.txt"]
    db.rollback()
    states = dict(db.execute(sa.select(Payment.end_to_end_id, Payment.bank_status)).all())
    assert states == {first: PaymentBankStatus.REJECTED, second: PaymentBankStatus.ACCEPTED}

    # The same file dropped again (a second server, a bank that sends twice): nothing changes.
    (tmp_path / "a-pain002.xml").write_bytes((tmp_path / "processed" / "a-pain002.xml")
                                             .read_bytes())
    again = runner.invoke(args=["settlement", "import-bank-files", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "already imported: a-pain002.xml" in again.output
    assert db.execute(sa.select(sa.func.count()).select_from(BankFeedbackFile)).scalar() == 2
    assert len(list((tmp_path / "processed").iterdir())) == 3


def test_the_cli_can_leave_the_files_in_place(app, sent, folder):
    tmp_path = folder
    (tmp_path / "pain002.xml").write_bytes(_report(sent, {sent.ids[0]: ("ACCP", None, None)}))
    runner = app.test_cli_runner()
    assert "imported: pain002.xml" in runner.invoke(
        args=["settlement", "import-bank-files", "--keep", str(tmp_path)]).output
    assert "already imported: pain002.xml" in runner.invoke(
        args=["settlement", "import-bank-files", "--keep", str(tmp_path)]).output
    assert [p.name for p in tmp_path.iterdir()] == ["pain002.xml"]


def _upload(client, content, name="bank.xml"):
    token = csrf_token_from(client.get("/admin/settlement/"))
    return client.post("/admin/settlement/bank-files", data={
        "csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data", follow_redirects=True)


@pytest.fixture
def admin(db, auth):
    factories.user(db, role=Role.ADMIN, email="boss@example.fi")
    db.commit()
    auth.login("boss@example.fi", factories.PASSWORD)


def _text(response) -> str:
    import re

    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.mark.parametrize(("content", "says"), [
    (b"%PDF-1.4 a pdf", "Tiedosto ei ole XML-muotoinen"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>',
     "Tiedosto on camt.053.001.08-sanoma"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn/>'
     b'</Document>', "ei ole camt.054.001.08-skeeman mukainen"),
])
def test_a_wrong_file_is_refused_with_a_translated_error(client, admin, sent, content, says):
    response = _upload(client, content)
    assert response.status_code == 422
    assert says in _text(response)


def test_a_file_too_big_is_refused(app, client, admin, sent):
    app.config["MAX_UPLOAD_BYTES"] = 1000
    response = _upload(client, b"<x>" + b" " * 2000 + b"</x>")
    assert response.status_code == 422 and "Tiedosto on liian suuri" in _text(response)


def test_the_upload_shows_what_the_file_did_and_a_second_upload_changes_nothing(
        client, admin, db, sent):
    report = _report(sent, {sent.ids[0]: ("RJCT", "AC04", "Tili lopetettu"),
                            "PS20990101000000FFFFFFFFFF-00001": ("ACCP", None, None)})
    page = _text(_upload(client, report, "pain002.xml"))
    assert "Pankin tiedosto luettiin: 1 maksun tila muuttui, 1 tuntematonta maksun tunnistetta" \
        in page
    assert "PS20990101000000FFFFFFFFFF-00001" in page and "maksua ei ole" in page
    again = _text(_upload(client, report, "pain002-again.xml"))
    assert "Tämä tiedosto luettiin jo" in again and "mikään ei muuttunut" in again

    settlement = _text(client.get("/admin/settlement/"))
    assert "Pankin hylkäämät ja palautuneet maksut" in settlement
    assert "AC04" in settlement and "Tili lopetettu" in settlement
    assert "Odottaa palveluntuottajan korjattua pankkitiliä" in settlement
    batch = _text(client.get(f"/admin/settlement/batches/{sent.batch.id}"))
    assert "pankin hylkäämä" in batch and "Odottaa pankin vahvistusta" in batch


def test_a_provider_without_a_complete_address_waits_named(db, world, settle):
    voucher = voucher_for(db, world, world.kuura)
    factories.invoice(db, world.kuura, events(db, voucher, (2, 100)))
    voucher = voucher_for(db, world, world.aurinko)
    factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)))
    world.kuura.postal_code, world.kuura.city = None, " "
    db.commit()
    result = settle()
    [held] = result.held
    assert held.reason == "incomplete_address"
    assert held.message("fi").startswith(
        "Palveluntuottajan Kuura Oy osoitteesta puuttuu postinumero, postitoimipaikka")
    [payment] = result.batch.payments
    assert payment.provider_id == world.aurinko.id and "Kuura" not in result.batch.sepa_xml


def test_the_03_setting_writes_the_old_file_without_requiring_addresses(app, db, world,
                                                                          settle):
    app.config["PAYMENT_FILE_FORMAT"] = "pain.001.001.03"
    voucher = voucher_for(db, world, world.kuura)
    factories.invoice(db, world.kuura, events(db, voucher, (2, 100)))
    world.kuura.street_address = None
    db.commit()
    batch = settle().batch
    assert batch.file_format == "pain.001.001.03"
    assert "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03" in batch.sepa_xml
    assert len(batch.payments) == 1


def test_the_invoice_says_its_payment_failed_and_then_that_it_was_paid_again(
        client, admin, db, sent, settle):
    from voucher.invoicing.models import Invoice

    first = db.execute(sa.select(Payment).where(Payment.end_to_end_id == sent.ids[0])).scalar_one()
    invoice = db.execute(sa.select(Invoice).where(Invoice.payment_id == first.id)).scalar_one()
    db.commit()
    _upload(client, _report(sent, {sent.ids[0]: ("RJCT", "AC04", "Tili lopetettu")}))
    page = _text(client.get(f"/admin/invoices/{invoice.id}"))
    assert "Maksu ei tullut perille tilille" in page and "Tili lopetettu" in page
    db.rollback()
    provider = db.get(type(sent.aurinko), first.provider_id)
    provider.iban = "FI5810171000000122"
    db.commit()
    settle()
    page = _text(client.get(f"/admin/invoices/{invoice.id}"))
    assert "Maksettu uudelleen" in page and "FI5810171000000122" in page
