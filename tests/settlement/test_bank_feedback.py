"""The bank's word: pain.002 status reports and camt.054 debit notifications, built by the
ISO 20022 message definitions, mark payments accepted, rejected or returned; a failed
payment is paid again once the provider's account is corrected; a file imported twice changes
nothing; sent = confirmed + rejected or returned + awaiting confirmation."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from tests import factories
from tests.settlement.conftest import events, voucher_for
from voucher import clock
from voucher.accounts.models import Role
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.demo import bank_files
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.providers import application
from voucher.providers.bank_accounts import approve_bank_account_change, pending_change
from voucher.settlement import bank_feedback
from voucher.settlement.batches import bank_figures
from voucher.settlement.models import (
    BankFeedbackFile,
    BatchStatus,
    Payment,
    PaymentBankStatus,
    PaymentBankStatusReport,
)
from voucher.settlement.reconciliation import find_differences

LIMIT = 10 * 1024 * 1024
NEW_IBAN = "FI5810171000000122"


@pytest.fixture
def paid(db, world, settle):
    """One batch of three payments: Aurinko 48 €, Kuura 75 €, Tuuli 60 €."""
    tuuli = factories.provider(db, services={world.home_care: 3000}, name="Tuuli Oy",
                               municipalities=[world.ylivieska])
    world.tuuli = tuuli
    for provider, units in ((world.aurinko, 150), (world.kuura, 250), (tuuli, 200)):
        voucher = voucher_for(db, world, provider)
        factories.invoice(db, provider, events(db, voucher, (2, units)))
    world.batch = settle().batch
    world.sent = bank_files.read_payment_file(world.batch.sepa_xml)
    payments = {p.provider_id: p for p in world.batch.payments}
    world.e2e = {name: payments[p.id].end_to_end_id
                 for name, p in (("aurinko", world.aurinko), ("kuura", world.kuura),
                                 ("tuuli", tuuli))}
    return world


def _import(db, content, name="bank.xml", actor=None):
    result = bank_feedback.import_bank_file(
        db, content=content, filename=name, actor=actor or Actor.system("test"),
        source="upload", max_bytes=LIMIT)
    db.commit()
    return result


def _status_report(world, statuses=None, **kwargs):
    return bank_files.status_report(world.sent, message_id=kwargs.pop("message_id", "PAIN002-1"),
                                    created_at=clock.now(), statuses=statuses, **kwargs)


def _debit_notification(world, message_id="CAMT054-1", **kwargs):
    return bank_files.debit_notification(world.sent, message_id=message_id,
                                         created_at=clock.now(), booked_on=clock.today(),
                                         **kwargs)


def _state(db, world, name):
    payment = db.execute(sa.select(Payment).where(
        Payment.end_to_end_id == world.e2e[name])).scalar_one()
    db.refresh(payment)
    return payment


def test_end_to_end_ids_are_unique_stable_and_in_the_file(db, paid):
    ids = [p.end_to_end_id for p in paid.batch.payments]
    assert ids == [f"{paid.batch.message_id}-{n:05d}" for n in (1, 2, 3)]
    assert all(len(i) <= 35 for i in ids)
    assert [t.end_to_end_id for t in paid.sent.transfers] == ids
    assert paid.batch.file_format == "pain.001.001.09"


def test_accepted_rejected_and_returned_with_the_banks_reasons(db, paid):
    report = _status_report(paid, {
        paid.e2e["aurinko"]: ("ACCP", None, None),
        paid.e2e["kuura"]: ("RJCT", "AC04", "Tili on lopetettu"),
        paid.e2e["tuuli"]: ("ACTC", None, None)})
    result = _import(db, report, "pain002.xml")
    assert result.counts == {"applied": 2, "pending": 1}
    assert _state(db, paid, "aurinko").bank_status == PaymentBankStatus.ACCEPTED
    kuura = _state(db, paid, "kuura")
    assert (kuura.bank_status, kuura.bank_reason_code, kuura.bank_reason_text) == (
        PaymentBankStatus.REJECTED, "AC04", "Tili on lopetettu")
    assert _state(db, paid, "tuuli").bank_status == PaymentBankStatus.AWAITING
    db.refresh(paid.batch)
    assert paid.batch.status == BatchStatus.SENT  # the bank has it; Tuuli still awaits

    debits = _debit_notification(paid, debited=[paid.e2e["aurinko"], paid.e2e["tuuli"]])
    assert _import(db, debits, "camt054-1.xml").counts == {"applied": 1, "unchanged": 1}
    db.refresh(paid.batch)
    assert paid.batch.status == BatchStatus.CONFIRMED and paid.batch.confirmed_at
    figures = bank_figures(db, paid.batch.id)
    assert figures.get("accepted") == (2, 4800 + 6000)
    assert figures.get("rejected") == (1, 7500)

    returned = _debit_notification(paid, message_id="CAMT054-2",
                                   returned={paid.e2e["tuuli"]: ("AC06", "Account blocked")})
    assert _import(db, returned, "camt054-2.xml").counts == {"applied": 1}
    tuuli = _state(db, paid, "tuuli")
    assert (tuuli.bank_status, tuuli.bank_reason_code, tuuli.bank_reason_text) == (
        PaymentBankStatus.RETURNED, "AC06", "Account blocked")
    assert find_differences(db) == []
    actions = [a for (a,) in db.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id))]
    assert actions.count("payment.accepted") == 2 and "payment.rejected" in actions
    assert "payment.returned" in actions and "payment_batch.confirmed" in actions


def test_importing_the_same_file_twice_changes_nothing(db, paid):
    report = _status_report(paid, {paid.e2e["kuura"]: ("RJCT", "AC01", None)})
    first = _import(db, report)
    assert not first.already_imported
    counts = [db.execute(sa.select(sa.func.count()).select_from(t)).scalar()
              for t in (BankFeedbackFile, PaymentBankStatusReport, AuditEvent)]
    again = _import(db, report, "the-same-file-renamed.xml")
    assert again.already_imported and again.file.id == first.file.id
    assert [db.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in (BankFeedbackFile, PaymentBankStatusReport, AuditEvent)] == counts


def test_a_late_acceptance_cannot_undo_a_rejection_and_a_wrong_amount_is_not_applied(db, paid):
    _import(db, _status_report(paid, {paid.e2e["kuura"]: ("RJCT", "AC04", None)}))
    late = _import(db, _debit_notification(paid, debited=[paid.e2e["kuura"]]))
    assert late.counts == {"final": 1}
    assert _state(db, paid, "kuura").bank_status == PaymentBankStatus.REJECTED
    wrong = _debit_notification(paid, message_id="CAMT-X", debited=[paid.e2e["aurinko"]])
    wrong = wrong.replace(b">48.00<", b">84.00<")
    assert _import(db, wrong).counts == {"amount_differs": 1}
    assert _state(db, paid, "aurinko").bank_status == PaymentBankStatus.AWAITING


def test_a_status_for_an_unknown_end_to_end_id_is_reported(db, paid):
    result = _import(db, _status_report(paid, {"PS20990101000000FFFFFFFFFF-00001": (
        "RJCT", "AC01", None), paid.e2e["aurinko"]: ("ACSC", None, None)}))
    assert result.unknown == ["PS20990101000000FFFFFFFFFF-00001"]
    assert result.counts == {"applied": 1, "unknown": 1}
    unknown = db.execute(sa.select(PaymentBankStatusReport).where(
        PaymentBankStatusReport.effect == "unknown")).scalar_one()
    assert unknown.payment_id is None


def test_a_whole_file_rejected_by_the_bank_rejects_every_payment(db, paid):
    result = _import(db, _status_report(paid, group_status="RJCT",
                                        group_reason=("FF01", "Invalid file format")))
    assert result.counts == {"applied": 3}
    assert {_state(db, paid, n).bank_reason_code for n in paid.e2e} == {"FF01"}
    db.refresh(paid.batch)
    assert paid.batch.status == BatchStatus.CONFIRMED  # the bank has answered for all
    assert bank_figures(db, paid.batch.id).get("rejected") == (3, 4800 + 7500 + 6000)


@pytest.mark.parametrize(("content", "error", "says"), [
    (b"PK\x03\x04 not xml at all", bank_feedback.NotXml, "ei ole XML"),
    (b"", bank_feedback.EmptyFile, "tyhjä"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', bank_feedback.UnsafeXml,
     "dokumenttityypin"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>',
     bank_feedback.WrongMessageType, "camt.053.001.08"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><CstmrPmtStsRpt>'
     b'<GrpHdr><MsgId>M</MsgId></GrpHdr></CstmrPmtStsRpt></Document>',
     bank_feedback.SchemaViolation, "pain.002.001.10"),
])
def test_files_that_are_not_bank_files_are_refused_with_the_reason(app, db, paid, content,
                                                                   error, says):
    from flask_babel import force_locale

    with pytest.raises(error) as refused:
        _import(db, content)
    with app.test_request_context(), force_locale("fi"):
        assert says in str(refused.value)
    assert db.execute(sa.select(sa.func.count()).select_from(BankFeedbackFile)).scalar() == 0


def test_our_own_payment_file_is_the_wrong_message_type(db, paid):
    with pytest.raises(bank_feedback.WrongMessageType):
        _import(db, paid.batch.sepa_xml.encode())


def test_a_file_too_big_is_refused(db, paid):
    with pytest.raises(bank_feedback.FileTooBig):
        bank_feedback.import_bank_file(db, content=b"<x/>" * 100, filename="big.xml",
                                       actor=Actor.system("test"), source="upload",
                                       max_bytes=100)


def _correct_account(db, world, provider):
    user = factories.user(db, role=Role.PROVIDER, provider_id=provider.id)
    application.save_application(
        db, provider, actor=Actor.of_user(user), details={"iban": NEW_IBAN, "bic": "OKOYFIHH"},
        municipality_ids=[m.id for m in provider.municipalities],
        languages=provider.language_codes, offers=[])
    approve_bank_account_change(db, pending_change(db, provider),
                                actor=Actor.of_user(world.admin))
    db.commit()


def test_a_rejected_payment_is_paid_again_once_the_providers_account_is_corrected(
        db, paid, settle):
    _import(db, _status_report(paid, {paid.e2e["kuura"]: ("RJCT", "AC04", "Closed")}))
    assert [p.provider_id for p in bank_feedback.failed_payments(db)] == [paid.kuura.id]
    assert settle().batch is None  # the same account would fail again: it waits

    _correct_account(db, paid, paid.kuura)
    again = settle().batch
    [repayment] = again.payments
    original = _state(db, paid, "kuura")
    assert (repayment.repays_payment_id, repayment.iban, repayment.amount_cents,
            repayment.voucher_share_cents) == (original.id, NEW_IBAN, 7500, 7500)
    assert repayment.remittance_info == original.remittance_info
    assert NEW_IBAN in again.sepa_xml and again.total_cents == 7500
    assert bank_feedback.failed_payments(db) == []
    # The invoice stays with the payment that settled it; the budget was charged once.
    invoice = db.execute(sa.select(Invoice).where(
        Invoice.provider_id == paid.kuura.id)).scalar_one()
    assert (invoice.status, invoice.payment_id) == (InvoiceStatus.PAID, original.id)
    assert settle().batch is None  # paid again once only
    assert find_differences(db) == []


def test_an_administrator_can_let_a_payment_go_to_the_same_account(db, paid, settle):
    _import(db, _status_report(paid, {paid.e2e["tuuli"]: ("RJCT", "AM04", "Insufficient funds")}))
    with pytest.raises(bank_feedback.NotFailed):
        bank_feedback.approve_retry(db, _state(db, paid, "aurinko").id,
                                    actor=Actor.of_user(paid.admin))
    bank_feedback.approve_retry(db, _state(db, paid, "tuuli").id, actor=Actor.of_user(paid.admin))
    db.commit()
    [repayment] = settle().batch.payments
    assert repayment.iban == _state(db, paid, "tuuli").iban
    assert find_differences(db) == []


@pytest.mark.unreconciled
def test_the_reconciliation_holds_sent_equal_to_confirmed_rejected_and_awaiting(db, paid):
    _import(db, _status_report(paid, {paid.e2e["kuura"]: ("RJCT", "AC04", None),
                                      paid.e2e["aurinko"]: ("ACCP", None, None)}))
    assert find_differences(db) == []
    figures = bank_figures(db, paid.batch.id)
    assert figures.sent_cents == paid.batch.total_cents == sum(
        figures.get(s)[1] for s in ("accepted", "rejected", "returned", "awaiting"))
    # A state that no bank file gave is found.
    db.execute(sa.update(Payment).where(Payment.end_to_end_id == paid.e2e["tuuli"])
               .values(bank_status=PaymentBankStatus.ACCEPTED))
    db.commit()
    checks = {d.check: d for d in find_differences(db)}
    assert checks["bank_status"].row == f"payments {_state(db, paid, 'tuuli').id}"
    assert checks["batch_confirmed"].amount_cents == 0  # none awaits, yet not confirmed


@pytest.mark.postgres_only
def test_two_servers_importing_the_same_file_at_once_apply_it_once(app, db, paid):
    """Each server imports in a transaction of its own; the file's SHA-256 lets one of them
    store it, the other waits for that commit and finds it imported."""
    from voucher.db import make_engine

    content = _status_report(paid, {paid.e2e["kuura"]: ("RJCT", "AC04", None),
                                    paid.e2e["aurinko"]: ("ACCP", None, None)})
    engine = make_engine(app.config["DATABASE_URL"], poolclass=sa.pool.NullPool)
    start = threading.Barrier(2)
    outcomes = []

    def server():
        with sa.orm.Session(engine) as session, app.app_context():
            start.wait()
            try:
                result = bank_feedback.import_bank_file(
                    session, content=content, filename="pain002.xml",
                    actor=Actor.system("cron"), source="folder", max_bytes=LIMIT)
                session.commit()
                outcomes.append("already" if result.already_imported else "applied")
            except Exception as exc:  # counted below
                outcomes.append(f"{type(exc).__name__}: {exc}")

    try:
        threads = [threading.Thread(target=server) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        engine.dispose()
    assert sorted(outcomes) == ["already", "applied"]
    db.expire_all()
    assert db.execute(sa.select(sa.func.count()).select_from(BankFeedbackFile)).scalar() == 1
    assert db.execute(sa.select(sa.func.count()).select_from(PaymentBankStatusReport)
                      ).scalar() == 2
    assert db.execute(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "payment.rejected")).scalar() == 1


def test_the_provider_sees_a_returned_payment_with_the_reason(client, auth, db, paid):
    _import(db, _debit_notification(paid, returned={paid.e2e["kuura"]: ("AC04", "Closed")}))
    user = factories.user(db, role=Role.PROVIDER, provider_id=paid.kuura.id,
                          email="kuura@example.fi")
    db.commit()
    auth.login(user.email, factories.PASSWORD)
    page = client.get("/provider/self-shares").get_data(as_text=True)
    assert "palautunut" in page and "AC04" in page and "Closed" in page
    assert "maksetaan uudelleen" in page
    invoice = db.execute(sa.select(Invoice).where(
        Invoice.provider_id == paid.kuura.id)).scalar_one()
    detail = client.get(f"/provider/invoices/{invoice.id}").get_data(as_text=True)
    assert "Maksu ei tullut perille tilille" in detail and "AC04" in detail


def test_the_invoice_lists_do_not_call_an_invoice_paid_whose_payment_came_back(
        client, auth, db, paid, settle):
    _import(db, _debit_notification(paid, returned={paid.e2e["kuura"]: ("AC04", "Closed")}))
    user = factories.user(db, role=Role.PROVIDER, provider_id=paid.kuura.id,
                          email="kuura@example.fi")
    db.commit()
    auth.login(user.email, factories.PASSWORD)
    for page in ("/provider/invoices", "/"):
        assert "maksu palautunut" in client.get(page).get_data(as_text=True), page
    auth.logout()
    auth.login(paid.admin.email, factories.PASSWORD)
    admin_list = client.get("/admin/invoices?status=paid").get_data(as_text=True)
    assert admin_list.count("maksu palautunut") == 1  # Kuura's; Aurinko's and Tuuli's arrived
    auth.logout()

    db.rollback()  # SQLite: a snapshot from before the app's writes cannot write
    _correct_account(db, paid, paid.kuura)
    again = settle().batch
    _import(db, bank_files.debit_notification(
        bank_files.read_payment_file(again.sepa_xml), message_id="CAMT054-2",
        created_at=clock.now(), booked_on=clock.today()), name="again.xml")
    auth.login(user.email, factories.PASSWORD)
    assert "maksu palautunut" not in client.get("/provider/invoices").get_data(as_text=True)


def test_the_providers_users_are_told_by_e_mail_when_the_money_did_not_arrive(
        db, paid, outbox):
    factories.user(db, role=Role.PROVIDER, provider_id=paid.kuura.id,
                   email="kuura@example.fi")
    factories.user(db, role=Role.PROVIDER, provider_id=paid.tuuli.id,
                   email="tuuli@example.fi", language="sv")
    gone = factories.user(db, role=Role.PROVIDER, provider_id=paid.tuuli.id,
                          email="former@example.fi")
    gone.is_active = False
    factories.user(db, role=Role.PROVIDER, provider_id=paid.aurinko.id,
                   email="aurinko@example.fi")
    db.commit()
    before = len(outbox())

    _import(db, _status_report(paid, {paid.e2e["aurinko"]: ("ACCP", None, None),
                                      paid.e2e["kuura"]: ("RJCT", "AC04", "Tili on lopetettu")}))
    _import(db, _debit_notification(paid, message_id="CAMT054-2",
                                    returned={paid.e2e["tuuli"]: ("AC06", "Konto spärrat")}))
    sent = outbox()[before:]
    assert [m.to_address for m in sent] == ["kuura@example.fi", "tuuli@example.fi"]
    rejected, returned = sent
    assert rejected.subject == "Pankki hylkäsi 75,00\u00a0€ maksun palveluntuottajalle Kuura Oy"
    assert "FI" in rejected.body_text and "AC04 Tili on lopetettu" in rejected.body_text
    assert "pankkitilin muutosta" in rejected.body_text and "/provider/invoices" in \
        rejected.body_text
    assert returned.language == "sv"
    assert returned.subject.startswith("Banken returnerade en betalning på 60,00")
    assert "AC06 Konto spärrat" in returned.body_text
    assert "Lasku/Faktura" in returned.body_text

    # The same word again (the file re-imported, or a later file) tells no one twice.
    _import(db, _status_report(paid, {paid.e2e["kuura"]: ("RJCT", "AC04", None)},
                               message_id="PAIN002-2"))
    assert len(outbox()) == before + 2
