"""Retention: clients whose last voucher ended more than the retention period ago are
pseudonymised; the money trail stays whole and reconciles."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.settlement.conftest import events, settle, voucher_for, world  # noqa: F401
from voucher import clock
from voucher.accounts import sessions
from voucher.accounts.models import LoginAttempt, Role, User, UserSession
from voucher.audit.models import AuditEvent, AuditText
from voucher.audit.services import Actor, FreeText, readable_data, record_event, verify_chain
from voucher.budgets.models import BudgetEntry
from voucher.clients.models import Client
from voucher.clients.services import ClientDetails, register_client
from voucher.feedback.services import give_feedback
from voucher.invoicing.models import Invoice, InvoiceLine
from voucher.mail.models import OutboxMessage
from voucher.mail.services import queue_email
from voucher.privacy.retention import pseudonymise_expired_clients, retention_cutoff
from voucher.redemptions.models import Redemption
from voucher.settlement.models import Payment
from voucher.settlement.reconciliation import find_differences
from voucher.vouchers.lifecycle import expire_vouchers
from voucher.vouchers.models import Voucher, VoucherStatus

HELSINKI = clock.HELSINKI
#: 13 years after the test's "now": the retention cutoff is 1 June 2028.
LATER = dt.datetime(2040, 6, 1, 12, 0, tzinfo=HELSINKI)


@pytest.fixture
def clients(db, world, settle):  # noqa: F811
    """Three clients: one whose only voucher ended in 2026 (used, invoiced, settled), one whose
    voucher ended in 2028 (within the retention), and one whose 2026 voucher is still open."""
    old_voucher = voucher_for(db, world, world.aurinko, valid_from=dt.date(2026, 11, 1),
                              valid_until=dt.date(2026, 12, 31))
    old = db.get(Client, old_voucher.client_id)
    old.first_name, old.last_name = "Aino", "Virtanen"
    old.street_address, old.phone = "Kauppakatu 1", "040 123 4567"
    old_voucher.need_assessment = "Aino needs help after a hip operation."
    used = events(db, old_voucher, (2, 300), (9, 200))
    used[0].note = "Aino was in good spirits"
    factories.invoice(db, world.aurinko, used, period=dt.date(2026, 11, 1))
    account = factories.user(db, role=Role.CLIENT, client_id=old.id, email=old.email)
    give_feedback(db, client_id=old.id, redemption_id=used[0].id, score=8,
                  comment="Aino is happy", actor=Actor.of_user(account))
    queue_email(db, to=old.email, template="accounts/password_reset", language="fi",
                user=account, link="http://voucher.test/password-reset/x", hours=2)
    provider_user = factories.user(db, role=Role.PROVIDER, provider_id=world.aurinko.id)
    queue_email(db, to=provider_user.email, template="vouchers/request_withdrawn",
                language="fi", voucher=old_voucher)
    db.add(LoginAttempt(email=old.email, ip="192.0.2.1", succeeded=False))
    db.commit()
    settle()

    recent_voucher = voucher_for(db, world, world.kuura, valid_from=dt.date(2026, 11, 1),
                                 valid_until=dt.date(2028, 12, 31))
    events(db, recent_voucher, (4, 100))
    db.commit()
    with clock.frozen_at(dt.datetime(2027, 1, 15, 3, 0, tzinfo=HELSINKI)):
        expire_vouchers(db, today=clock.today())  # the old voucher ends
        db.commit()
    with clock.frozen_at(dt.datetime(2029, 1, 15, 3, 0, tzinfo=HELSINKI)):
        expire_vouchers(db, today=clock.today())  # the recent one ends
        db.commit()
    open_voucher = voucher_for(db, world, world.aurinko, valid_from=dt.date(2026, 11, 1),
                               valid_until=dt.date(2026, 12, 31))
    db.commit()
    return {"old": old, "recent": db.get(Client, recent_voucher.client_id),
            "open": db.get(Client, open_voucher.client_id), "account": account,
            "old_voucher": old_voucher, "old_email": old.email}


def _money(db) -> dict:
    """Every amount of the money trail, to compare before and after."""
    return {
        "events": db.execute(sa.select(Redemption.id, Redemption.units,
                                       Redemption.voucher_pays_cents,
                                       Redemption.client_pays_cents, Redemption.status)
                             .order_by(Redemption.id)).all(),
        "lines": db.execute(sa.select(InvoiceLine.id, InvoiceLine.voucher_pays_cents)
                            .order_by(InvoiceLine.id)).all(),
        "invoices": db.execute(sa.select(Invoice.id, Invoice.voucher_total_cents,
                                         Invoice.status).order_by(Invoice.id)).all(),
        "payments": db.execute(sa.select(Payment.id, Payment.amount_cents)
                               .order_by(Payment.id)).all(),
        "ledger": db.execute(sa.select(BudgetEntry.id, BudgetEntry.kind,
                                       BudgetEntry.amount_cents).order_by(BudgetEntry.id)).all(),
        "vouchers": db.execute(sa.select(Voucher.id, Voucher.client_id, Voucher.status,
                                         Voucher.units_used, Voucher.committed_cents)
                               .order_by(Voucher.id)).all(),
    }


def _client_rows(db) -> list:
    db.commit()  # end the snapshot (SQLite): see what the command committed
    return [tuple(getattr(c, column.key) for column in Client.__table__.columns)
            for c in db.execute(sa.select(Client).order_by(Client.id)).scalars()]


def _run(db, **kwargs):
    with clock.frozen_at(LATER):
        report = pseudonymise_expired_clients(db, today=clock.today(), years=12, **kwargs)
        db.commit()
    return report


def test_old_client_is_pseudonymised_and_the_money_still_reconciles(app, db, clients):
    old, account = clients["old"], clients["account"]
    sessions.open_session(db, account, ip="192.0.2.1")  # a login, with its address
    db.commit()
    money_before = _money(db)
    report = _run(db)
    assert report.cutoff == dt.date(2028, 6, 1)
    assert report.pseudonymised == [old.id]
    db.expire_all()
    assert old.pseudonymised_at is not None
    assert old.identity_code_encrypted is None and old.identity_code_index is None
    assert old.first_name == "" and old.last_name.startswith("PSN-")
    assert old.identity_code_masked == old.last_name
    assert (old.email, old.phone, old.street_address, old.postal_code, old.city) == \
        (None,) * 5
    assert (old.household_size, old.gross_monthly_income_cents) == (None, None)
    assert old.municipality_id == clients["recent"].municipality_id
    with app.test_request_context():
        assert old.full_name == f"Pseudonymisoitu asiakas #{old.id}"  # Finnish by default
    voucher = clients["old_voucher"]
    assert voucher.need_assessment == "" and voucher.calculation["pseudonymised"] is True
    assert db.execute(sa.select(Redemption.note).where(
        Redemption.voucher_id == voucher.id)).scalars().all() == [None, None]
    assert db.execute(sa.select(sa.func.count()).select_from(LoginAttempt)).scalar_one() == 0
    assert db.execute(sa.select(sa.func.count()).select_from(UserSession)).scalar_one() == 0
    user = db.get(User, account.id)
    assert (user.is_active, user.password_hash, user.email) == (
        False, None, f"pseudonymised-{account.id}@invalid")
    messages = db.execute(sa.select(OutboxMessage)).scalars().all()
    assert len(messages) == 2  # to the client, and to the provider naming "Aino V."
    assert all("Aino" not in m.body_text for m in messages)
    assert clients["old_email"] not in {m.to_address for m in messages}
    # Nothing of the money trail moved, and it still reconciles.
    assert _money(db) == money_before
    assert find_differences(db) == []
    assert verify_chain(db).ok
    [event] = db.execute(sa.select(AuditEvent).where(
        AuditEvent.action == "client.pseudonymised")).scalars().all()
    assert event.client_id == old.id
    assert "Aino" not in str(event.data) and "Virtanen" not in str(event.data)


def test_recent_and_open_clients_are_left_alone(db, clients):
    recent, still_open = clients["recent"], clients["open"]
    names = {(c.id, c.first_name, c.last_name, c.identity_code_index)
             for c in (recent, still_open)}
    _run(db)
    db.expire_all()
    assert {(c.id, c.first_name, c.last_name, c.identity_code_index)
            for c in (recent, still_open)} == names
    assert recent.pseudonymised_at is None and still_open.pseudonymised_at is None
    assert db.get(Voucher, clients["old_voucher"].id).status == VoucherStatus.EXPIRED


def test_a_second_run_changes_nothing(db, clients):
    _run(db)
    rows = _client_rows(db)
    audit_count = db.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one()
    again = _run(db)
    assert (again.due, again.pseudonymised) == (0, [])
    assert _client_rows(db) == rows
    assert db.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one() == \
        audit_count


def test_a_dry_run_only_counts(db, clients):
    rows = _client_rows(db)
    report = _run(db, dry_run=True)
    assert (report.due, report.pseudonymised) == (1, [])
    assert _client_rows(db) == rows


def test_the_command_reports_counts_and_its_dry_run_changes_nothing(app, db, clients):
    runner = app.test_cli_runner()
    rows = _client_rows(db)
    with clock.frozen_at(LATER):
        dry = runner.invoke(args=["privacy", "pseudonymise", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "before 2028-06-01: 1." in dry.output and "Dry run" in dry.output
        assert _client_rows(db) == rows
        done = runner.invoke(args=["privacy", "pseudonymise"])
    assert done.exit_code == 0, done.output
    assert "Pseudonymised 1 clients, disabled 1 logins" in done.output
    db.commit()
    assert db.get(Client, clients["old"].id).pseudonymised_at is not None


def test_the_person_can_come_back_as_a_new_client(app, db, world):  # noqa: F811
    code = factories.identity_code()
    holder = factories.client(db, home=world.ylivieska, code=code)
    db.commit()
    with clock.frozen_at(LATER):
        assert _run(db).pseudonymised == [holder.id]  # no vouchers, registered in 2026
        case_manager = factories.user(db, role=Role.CASE_MANAGER,
                                      municipalities=[world.ylivieska])
        again = register_client(
            db, identity_code=code, user=case_manager, actor=Actor.of_user(case_manager),
            details=ClientDetails(first_name="Aino", last_name="Virtanen",
                                  municipality_id=world.ylivieska.id))
        db.commit()
    assert again.id != holder.id


def test_staff_pages_name_the_pseudonymised_client(app, client, auth, db, clients):
    _run(db)
    cm = factories.user(db, role=Role.CASE_MANAGER,
                        municipalities=[db.get(Client, clients["old"].id).municipality])
    db.commit()
    auth.login(cm.email, password=factories.PASSWORD)
    voucher_id = clients["old_voucher"].id
    page = client.get(f"/vouchers/{voucher_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"#{clients['old'].id}" in text and "Virtanen" not in text
    assert client.get(f"/clients/{clients['old'].id}").status_code == 404
    assert client.get(f"/clients/{clients['old'].id}/data-export.json").status_code == 404


def test_retention_cutoff_handles_leap_days():
    assert retention_cutoff(dt.date(2040, 2, 29), 12) == dt.date(2028, 2, 29)
    assert retention_cutoff(dt.date(2041, 3, 1), 12) == dt.date(2029, 3, 1)
    assert retention_cutoff(dt.date(2040, 2, 29), 13) == dt.date(2027, 2, 28)


def test_stored_api_answers_older_than_the_retention_period_are_deleted(db, world):  # noqa: F811
    from voucher.api.models import IdempotencyRecord

    def answer(key, when):
        db.add(IdempotencyRecord(provider_id=world.aurinko.id, key=key, request_hash="0" * 64,
                                 response_status=201, created_at=when,
                                 response_body={"client": {"display_name": "Aino V."}}))

    answer("old", clock.now())
    answer("recent", LATER - dt.timedelta(days=400))
    db.commit()
    assert _run(db).api_replies_deleted == 1
    assert db.execute(sa.select(IdempotencyRecord.key)).scalars().all() == ["recent"]


def test_free_texts_in_the_audit_trail_go_with_the_client_and_the_chain_still_verifies(
        app, client, auth, db, clients):
    old, voucher = clients["old"], clients["old_voucher"]
    other = clients["recent"]
    record_event(db, Actor.system(), "voucher.request_declined", "voucher", voucher.id,
                 client_id=old.id, reason=FreeText("Aino Virtanen lives too far away"))
    record_event(db, Actor.system(), "voucher.request_declined", "voucher", voucher.id,
                 client_id=other.id, reason=FreeText("No free caregivers in December"))
    db.commit()
    events_before = db.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(
        AuditEvent.id)).all()
    [declined] = [e for e in db.execute(sa.select(AuditEvent).where(
        AuditEvent.action == "voucher.request_declined", AuditEvent.client_id == old.id)
    ).scalars()]
    assert "Aino" not in str(declined.data)  # the chain holds only a salted digest

    report = _run(db)
    assert report.pseudonymised == [old.id] and report.audit_texts_removed >= 1
    db.expire_all()
    assert db.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(
        AuditEvent.id).where(AuditEvent.id <= events_before[-1].id)).all() == events_before
    texts = {row.client_id: row for row in db.execute(
        sa.select(AuditText.client_id, AuditText.text, AuditText.salt))}
    assert (texts[old.id].text, texts[old.id].salt) == (None, None)
    assert texts[other.id].text == "No free caregivers in December" and texts[other.id].salt
    assert verify_chain(db).ok
    with app.test_request_context():
        shown = readable_data(db, [declined])[declined.id]
    assert shown["reason"] is None

    factories.user(db, role=Role.ADMIN, email="auditor@example.fi")
    db.commit()
    auth.login("auditor@example.fi", factories.PASSWORD)
    page = client.get("/admin/audit/?action=voucher.request_declined").get_data(as_text=True)
    assert "Aino" not in page and "No free caregivers in December" in page
    assert "(poistettu säilytysajan päätyttyä)" in page
