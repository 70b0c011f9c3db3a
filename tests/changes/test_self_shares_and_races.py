"""A retroactive change refunds self-shares paid online (through the refund jobs, after the
commit) and makes the new ones due; two approvals at once move the commitment once."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.changes.conftest import OCTOBER, change, new_rate
from tests.concurrency import run_in_parallel
from tests.settlement.conftest import voucher_for
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.budgets.models import Budget, BudgetEntry
from voucher.changes import services
from voucher.changes.models import ChangeStatus, VoucherChange
from voucher.payments import provider_statement
from voucher.payments.models import (
    JobKind,
    OnlinePayment,
    OnlinePaymentEvent,
    OnlinePaymentStatus,
    OnlineRefund,
    RefundStatus,
    StripeJob,
)
from voucher.payments.services import due_self_shares
from voucher.redemptions.models import ClientShareStatus, Redemption
from voucher.settlement.reconciliation import find_differences


def _paid_online(db, event) -> OnlinePayment:
    """The event's self-share paid by card (as a verified webhook leaves it)."""
    payment = OnlinePayment(client_id=event.voucher.client_id, provider_id=event.provider_id,
                            period=event.service_date.replace(day=1),
                            amount_cents=event.client_pays_cents, refunded_cents=0,
                            status=OnlinePaymentStatus.SUCCEEDED,
                            idempotency_key=f"pay-test-{event.id}")
    db.add(payment)
    db.flush()
    db.add(OnlinePaymentEvent(online_payment_id=payment.id, redemption_id=event.id,
                              live_redemption_id=event.id, amount_cents=event.client_pays_cents))
    event.client_share_status = ClientShareStatus.PAID_ONLINE
    db.flush()
    return payment


def test_a_self_share_paid_online_is_refunded_and_the_new_one_is_due(db, world, people):
    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000)
    paid = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 6), units=200)
    due = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 7), units=100)
    payment = _paid_online(db, paid)
    new_rate(db, world, value=3600)
    made = change(db, voucher, people, revalue=True)
    refund = db.execute(sa.select(OnlineRefund)).scalar_one()
    assert (refund.redemption_id, refund.amount_cents, refund.status) == (
        paid.id, 1400, RefundStatus.PENDING)
    assert db.execute(sa.select(StripeJob.kind).where(
        StripeJob.online_refund_id == refund.id)).scalar_one() == JobKind.REFUND
    assert made.corrections["refunded_cents"] == 1400
    db.refresh(payment)
    assert payment.refunded_cents == 1400
    # The client owes the new self-shares (3 €/h now), not the old ones.
    groups = due_self_shares(db, voucher.client_id)
    owed = sorted((e.replaces_id, e.client_pays_cents) for g in groups for e in g.events)
    assert owed == [(paid.id, 600), (due.id, 300)]
    # The provider's statement shows each re-valued service, old and new.
    shown = provider_statement.statement(db, world.aurinko.id).revalued
    assert sorted((old.id, old.voucher_pays_cents, new.voucher_pays_cents)
                  for new, old in shown) == [(paid.id, 6400, 7200), (due.id, 3200, 3600)]
    db.flush()
    assert [d.describe() for d in find_differences(db)] == []


def test_a_self_share_the_provider_bills_stays_the_providers_at_the_new_amount(
        db, world, people):
    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000)
    event = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 6), units=100)
    event.client_share_status = ClientShareStatus.BILLED_BY_PROVIDER
    db.flush()
    new_rate(db, world, value=3000)
    change(db, voucher, people, revalue=True)
    replacement = db.execute(sa.select(Redemption).where(
        Redemption.replaces_id == event.id)).scalar_one()
    assert (replacement.client_pays_cents, replacement.client_share_status) == (
        900, ClientShareStatus.BILLED_BY_PROVIDER)


@pytest.mark.postgres_only
def test_two_approvals_at_once_move_the_commitment_once(app, db, world, people,
                                                        database_url):
    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000)
    proposed = services.propose_change(db, voucher, services.ChangeInput(
        starts_on=OCTOBER, reason="Tarve kasvoi arvioinnin mukaan.", units_per_period=2000),
        actor=people.a)
    third = factories.user(db, role=people.maker.role, municipalities=[world.ylivieska])
    approvers = [people.b, Actor.of_user(third)]
    db.commit()
    before = db.execute(sa.select(sa.func.count()).select_from(BudgetEntry)).scalar()

    def approve(session, i):
        services.approve_change(session, session.get(VoucherChange, proposed.id),
                                actor=approvers[i])

    outcomes = run_in_parallel(database_url, approve, 2, app=app)
    assert outcomes == {"ok": 1, "ChangeAlreadyDecided": 1}
    db.expire_all()
    assert db.get(VoucherChange, proposed.id).status == ChangeStatus.APPROVED
    entries = db.execute(sa.select(BudgetEntry).where(BudgetEntry.voucher_id == voucher.id)
                         .order_by(BudgetEntry.id)).scalars().all()
    assert len(entries) == before + 1 == 2  # the commit and one move
    assert entries[-1].amount_cents == 10 * 3200
    budget = db.execute(sa.select(Budget).where(Budget.year == 2026)).scalar_one()
    assert budget.committed_cents == 20 * 3200


def test_the_provider_and_the_client_see_the_corrections(db, world, people, client, auth):
    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000)
    event = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 6), units=100)
    new_rate(db, world, value=3600)
    made = change(db, voucher, people, revalue=True)
    seller = factories.user(db, role=Role.PROVIDER, provider_id=world.aurinko.id)
    holder = factories.user(db, role=Role.CLIENT, client_id=voucher.client_id)
    db.commit()
    auth.login(seller.email, factories.PASSWORD)
    page = client.get("/provider/self-shares").get_data(as_text=True)
    assert "Päätösten muutoksilla oikaistut palvelut" in page
    assert "32,00 € → 36,00 € (+4,00 €)" in page.replace("\xa0", " ")
    auth.logout()
    auth.login(holder.email, factories.PASSWORD)
    page = client.get(f"/vouchers/mine/{voucher.id}").get_data(as_text=True)
    assert made.decision_number in page and made.changes_decision_number in page
    assert f"/vouchers/{voucher.id}/changes/{made.id}/letter" in page
    letter = client.get(f"/vouchers/{voucher.id}/changes/{made.id}/letter")
    assert letter.status_code == 200
    text = letter.get_data(as_text=True)
    assert "Muutospäätös palvelusetelipäätökseen" in text
    assert "1 palvelutapahtuma laskettiin" in text
    pdf = client.get(f"/vouchers/{voucher.id}/changes/{made.id}/letter.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert event.id
