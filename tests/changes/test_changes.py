"""Changing a decision: four eyes, the commitment moved by the difference (refused whole when
it would overdraw), the 12-month limit, the corrections of services already recorded, invoiced
or settled, the self-share refunds, and the reconciliation intact after each."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.changes.conftest import OCTOBER, change, new_rate
from tests.settlement.conftest import voucher_for
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.budgets.ledger import BudgetExceeded
from voucher.budgets.models import Budget, BudgetEntry
from voucher.changes import services
from voucher.changes.models import ChangeStatus, VoucherChange
from voucher.errors import ValidationFailed
from voucher.invoicing.models import InvoiceStatus
from voucher.invoicing.services import approve_invoice, create_invoice
from voucher.redemptions.models import ClientShareStatus, Redemption, RedemptionStatus
from voucher.settlement.reconciliation import find_differences
from voucher.vouchers.models import Voucher, VoucherStatus

SYSTEM = Actor.system("test")


def _proposal(**fields):
    fields.setdefault("reason", "Tulot tarkistettiin hakemuksen liitteistä.")
    fields.setdefault("starts_on", OCTOBER)
    return services.ChangeInput(**fields)


def _open(db, voucher) -> int:
    db.expire_all()
    return sum(b.committed_cents - b.released_cents for b in db.execute(sa.select(Budget).where(
        Budget.service_type_id == voucher.service_type_id)).scalars())


def _clean(db):
    db.flush()
    assert [d.describe() for d in find_differences(db)] == []


def test_a_change_waits_for_a_second_case_manager_and_only_another_approves(db, world, people):
    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000)
    proposed = services.propose_change(db, voucher, _proposal(units_per_period=1500),
                                       actor=people.a)
    assert proposed.status == ChangeStatus.PROPOSED
    assert voucher.units_granted == 1000  # nothing changes before the approval
    with pytest.raises(services.OwnChange):
        services.approve_change(db, proposed, actor=people.a)
    with pytest.raises(services.ChangeAlreadyProposed):
        services.propose_change(db, voucher, _proposal(units_per_period=1200), actor=people.b)
    before = _open(db, voucher)
    services.approve_change(db, proposed, actor=people.b)
    assert proposed.status == ChangeStatus.APPROVED
    assert proposed.decision_number and proposed.decision_number != \
        proposed.changes_decision_number
    assert voucher.decision_number == proposed.decision_number
    assert voucher.units_granted == 1500
    assert [p.units_granted for p in voucher.periods] == [1500]
    assert _open(db, voucher) == before + 5 * 3200
    with pytest.raises(services.ChangeAlreadyDecided):
        services.approve_change(db, proposed, actor=Actor.of_user(
            factories.user(db, role=world.admin.role)))
    db.commit()  # the audit events are written with the commit
    actions = db.execute(sa.select(AuditEvent.action).where(
        AuditEvent.action.like("voucher.change_%")).order_by(AuditEvent.id)).scalars().all()
    assert actions == ["voucher.change_proposed", "voucher.change_approved"]
    _clean(db)


def test_the_proposer_withdraws_and_another_rejects(db, world, people):
    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000)
    first = services.propose_change(db, voucher, _proposal(units_per_period=800), actor=people.a)
    with pytest.raises(services.OwnChange):
        services.reject_change(db, first, reason="Ei perusteltu.", actor=people.a)
    services.withdraw_change(db, first, actor=people.a)
    second = services.propose_change(db, voucher, _proposal(units_per_period=800),
                                     actor=people.a)
    services.reject_change(db, second, reason="Tarve ei ole muuttunut.", actor=people.b)
    assert (first.status, second.status) == (ChangeStatus.WITHDRAWN, ChangeStatus.REJECTED)
    assert voucher.units_granted == 1000


def test_fewer_units_release_the_difference(db, world, people):
    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000)
    factories.service_event(db, voucher, service_date=dt.date(2026, 10, 5), units=200)
    before = _open(db, voucher)
    change(db, voucher, people, units_per_period=600)
    assert _open(db, voucher) == before - 4 * 3200
    with pytest.raises(ValidationFailed):  # below what is used
        services.preview_change(db, voucher, _proposal(units_per_period=100))
    _clean(db)


def test_a_change_that_would_overdraw_the_budget_is_refused_and_changes_nothing(
        db, world, people):
    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000,
                          budget_cents=40_000)
    proposed = services.propose_change(db, voucher, _proposal(units_per_period=1200),
                                       actor=people.a)
    # Meanwhile another voucher takes what was free.
    voucher_for(db, world, world.kuura, valid_from=OCTOBER, units=200)
    db.commit()
    before = (db.execute(sa.select(sa.func.count()).select_from(BudgetEntry)).scalar(),
              voucher.units_granted, voucher.decision_number)
    savepoint = db.begin_nested()
    with pytest.raises(BudgetExceeded):
        services.approve_change(db, proposed, actor=people.b)
    savepoint.rollback()
    db.expire_all()
    assert (db.execute(sa.select(sa.func.count()).select_from(BudgetEntry)).scalar(),
            voucher.units_granted, voucher.decision_number) == before
    assert db.get(VoucherChange, proposed.id).status == ChangeStatus.PROPOSED


@pytest.mark.parametrize(("starts_on", "ok"), [
    (dt.date(2025, 11, 24), True), (dt.date(2025, 11, 23), False), (dt.date(2026, 11, 25), False),
])
def test_a_change_starts_at_most_12_months_back_and_never_in_the_future(
        db, world, people, starts_on, ok):
    voucher = voucher_for(db, world, world.aurinko, valid_from=dt.date(2025, 6, 1), units=1000)
    proposal = _proposal(units_per_period=1200, starts_on=starts_on)
    if ok:
        services.preview_change(db, voucher, proposal)
    else:
        with pytest.raises(ValidationFailed) as refused:
            services.preview_change(db, voucher, proposal)
        assert "starts_on" in refused.value.errors


def test_a_retroactive_value_change_corrects_recorded_invoiced_and_settled_events(
        db, world, people, settle):
    voucher = voucher_for(db, world, world.aurinko, valid_from=dt.date(2026, 9, 1), units=3000)
    september = factories.service_event(db, voucher, service_date=dt.date(2026, 9, 10), units=100)
    settled = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 2), units=200)
    create_invoice(db, provider_id=world.aurinko.id, period=OCTOBER, actor=SYSTEM)
    approve_invoice(db, invoice_id=_invoice_of(db, settled), actor=SYSTEM)
    db.commit()
    assert settle().batch is not None
    invoiced = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 20),
                                       units=100)
    create_invoice(db, provider_id=world.aurinko.id, period=OCTOBER, actor=SYSTEM)
    recorded = factories.service_event(db, voucher, service_date=dt.date(2026, 11, 3),
                                       units=100)
    new_rate(db, world, value=3500)
    before = _open(db, voucher)
    made = change(db, voucher, people, revalue=True)
    assert voucher.unit_value_cents == 3500
    assert made.corrections["events"] == 3  # not September's, before the start
    assert made.corrections["voucher_cents"] == 4 * 300
    assert made.corrections["client_cents"] == -4 * 300
    db.refresh(september)
    assert september.status == RedemptionStatus.RECORDED  # before the start: as it was
    db.refresh(recorded)
    assert recorded.status == RedemptionStatus.VOID
    replacements = db.execute(sa.select(Redemption).where(
        Redemption.voucher_change_id == made.id, Redemption.replaces_id.is_not(None))
        .order_by(Redemption.service_date)).scalars().all()
    assert [(r.replaces_id, r.voucher_pays_cents, r.client_pays_cents) for r in replacements] == [
        (settled.id, 7000, 800), (invoiced.id, 3500, 400), (recorded.id, 3500, 400)]
    corrections = db.execute(sa.select(Redemption.corrects_id).where(
        Redemption.voucher_change_id == made.id, Redemption.corrects_id.is_not(None))
        .order_by(Redemption.corrects_id)).scalars().all()
    assert corrections == [settled.id, invoiced.id]
    # The commitment moves by the difference: the corrected events and the units left.
    assert _open(db, voucher) == before + 4 * 300 + 25 * 300
    assert voucher.units_used == 500
    _clean(db)
    # A late service before the start is paid at the old value, after it at the new.
    late = factories.service_event(db, voucher, service_date=dt.date(2026, 9, 20), units=100)
    assert late.voucher_pays_cents == 3200
    # The provider's next invoice carries the corrections and replacements whatever their
    # date; settling it pays the difference.
    approve_invoice(db, invoice_id=_invoice_of(db, invoiced), actor=SYSTEM)
    db.commit()
    first = settle().batch
    november = create_invoice(db, provider_id=world.aurinko.id, period=dt.date(2026, 9, 1),
                              actor=SYSTEM)
    lines = {(line.redemption_id, line.voucher_pays_cents) for line in november.lines}
    assert {(settled.id, -6400), (invoiced.id, -3200)} <= {
        (db.get(Redemption, r).corrects_id, v) for r, v in lines
        if db.get(Redemption, r).corrects_id}
    assert november.voucher_total_cents == 3200 + 3200 + 4 * 3500 - 3 * 3200 + 0 - 3200 + 3200
    approve_invoice(db, invoice_id=november.id, actor=SYSTEM)
    db.commit()
    batch = settle().batch
    assert first is not None and batch is not None
    assert batch.payments[0].voucher_share_cents == november.voucher_total_cents
    db.expire_all()
    assert {r.status for r in db.execute(sa.select(Redemption).where(
        Redemption.voucher_change_id == made.id)).scalars()} == {RedemptionStatus.SETTLED}
    _clean(db)


def _invoice_of(db, event) -> int:
    from voucher.invoicing.models import InvoiceLine

    return db.execute(sa.select(InvoiceLine.invoice_id).where(
        InvoiceLine.redemption_id == event.id).order_by(InvoiceLine.id.desc()).limit(1)
    ).scalar_one()


def test_the_statuses_stay_unchanged_for_units_and_validity(db, world, people):
    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000,
                          valid_until=dt.date(2026, 12, 31))
    factories.budget(db, home=world.ylivieska, service=world.home_care, year=2027)
    change(db, voucher, people, valid_until=dt.date(2027, 3, 31),
           starts_on=dt.date(2026, 11, 24))
    assert voucher.valid_until == dt.date(2027, 3, 31)
    assert voucher.status == VoucherStatus.ASSIGNED
    assert db.get(Voucher, voucher.id).periods[-1].ends_on == dt.date(2027, 3, 31)
    assert db.execute(sa.select(Budget.committed_cents).where(Budget.year == 2027)).scalar() > 0
    _clean(db)


def test_invoice_status_import_is_used():
    assert InvoiceStatus.APPROVED
    assert ClientShareStatus.DUE


def test_an_event_on_an_invoice_waiting_for_a_decision_goes_with_its_correction(
        db, world, people):
    """The invoice is rejected after the change corrected its event: the event, its
    correction and its replacement are invoiced together again, and the event cannot be
    voided (the correction stands for it)."""
    from voucher.invoicing.services import reject_invoice
    from voucher.redemptions.corrections import CannotCorrect, void_redemption

    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000)
    event = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 8), units=100)
    waiting = create_invoice(db, provider_id=world.aurinko.id, period=OCTOBER, actor=SYSTEM)
    new_rate(db, world, value=3500)
    made = change(db, voucher, people, revalue=True)
    reject_invoice(db, invoice_id=waiting.id, reason="Väärä kuukausi.", actor=SYSTEM)
    db.refresh(event)
    assert event.status == RedemptionStatus.RECORDED
    with pytest.raises(CannotCorrect):
        void_redemption(db, provider_id=world.aurinko.id, redemption_id=event.id, actor=SYSTEM)
    again = create_invoice(db, provider_id=world.aurinko.id, period=dt.date(2026, 9, 1),
                           actor=SYSTEM)
    assert sorted(line.voucher_pays_cents for line in again.lines) == [-3200, 3200, 3500]
    assert again.voucher_total_cents == 3500
    assert made.corrections["events"] == 1
    _clean(db)


def test_a_review_decision_that_changes_the_decision_leads_to_a_change(db, world, people):
    from voucher import clock
    from voucher.reviews.models import ReviewChannel, ReviewOutcome
    from voucher.reviews.services import decide_request, file_request

    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000)
    review = file_request(db, voucher, channel=ReviewChannel.PAPER, received_on=clock.today(),
                          text="Tunnit eivät riitä.", actor=SYSTEM)
    decide_request(db, review, outcome=ReviewOutcome.CHANGED, reasoning="Tarve on suurempi.",
                   decider=people.approver, actor=people.b)
    made = change(db, voucher, people, units_per_period=1400, review_request_id=review.id)
    assert made.review_request_id == review.id
    assert review.decision_number_reviewed == made.changes_decision_number
    assert voucher.decision_number == made.decision_number != review.decision_number_reviewed


def test_retention_removes_the_reasons_and_household_of_changes(db, world, people):
    from voucher.audit.services import Actor as AuditActor
    from voucher.privacy.retention import pseudonymise_client

    voucher = voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=1000)
    made = change(db, voucher, people, units_per_period=1200)
    pseudonymise_client(db, voucher.client, actor=AuditActor.system("retention"),
                        cutoff=dt.date(2026, 11, 24))
    db.refresh(made)
    assert made.reason == "" and made.before["calculation"].get("pseudonymised")
