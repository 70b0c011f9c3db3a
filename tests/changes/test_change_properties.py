"""Property: whatever the order of issues, service events, invoices, approvals, settlement
runs, changes of units and retroactive changes of value, the ledger holds. After every step
the reconciliation finds no difference, each voucher's units used are its events' units, no
budget commits more than it has, every live service event is worth the value of its date, and
a refused step changes nothing (the settlement property test's checks, with changes)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.settlement.conftest import voucher_for
from tests.settlement.test_ledger_properties import (
    ACTOR,
    OCTOBER,
    _check_ledger,
    _money,
    approve_step,
    redeem_step,
    take_steps,
)
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.changes import services
from voucher.changes.corrections import live_events
from voucher.changes.models import VoucherChange
from voucher.invoicing.services import approve_invoice, create_invoice
from voucher.money import split_payment
from voucher.settlement.run import Payer, settle_approved_invoices
from voucher.vouchers.models import Voucher
from voucher.vouchers.value import unit_value_on

_redeem = st.tuples(st.just("redeem"), st.integers(0, 9), st.integers(0, 54),
                   st.integers(25, 600))
#: Invoice October (or September) and, mostly, have it approved in the same step.
_invoice = st.tuples(st.just("invoice"), st.integers(0, 1), st.booleans())
#: Each example issues, records services and invoices them before the rest, so that the
#: changes find events in every state.
steps = st.tuples(
    st.tuples(st.just("issue"), st.integers(500, 3000)),
    st.lists(_redeem, min_size=1, max_size=4),
    _invoice,
    st.lists(st.one_of(
        st.tuples(st.just("issue"), st.integers(500, 3000)),
        _redeem, _redeem, _invoice,
        st.tuples(st.just("approve"), st.integers(0, 9)),
        st.tuples(st.just("settle")), st.tuples(st.just("settle")),
        # A change of units: a new number (hundredths) from a day of October–November.
        st.tuples(st.just("units"), st.integers(0, 9), st.integers(100, 4000),
                  st.integers(0, 54)),
        # A retroactive change of value: raised to a value (or back to the table's, None).
        st.tuples(st.just("value"), st.integers(0, 9),
                  st.one_of(st.none(), st.integers(3201, 4800)), st.integers(0, 54)),
        st.tuples(st.just("value"), st.integers(0, 9),
                  st.one_of(st.none(), st.integers(3201, 4800)), st.integers(0, 54)),
    ), min_size=1, max_size=12),
).map(lambda parts: [parts[0], *parts[1], parts[2], *parts[3]])


def _changes_too(db) -> tuple:
    db.expire_all()
    return (_money(db), db.execute(sa.select(VoucherChange.id, VoucherChange.status)
                                   .order_by(VoucherChange.id)).all(),
            db.execute(sa.select(Voucher.id, Voucher.units_granted, Voucher.unit_value_cents,
                                 Voucher.decision_number).order_by(Voucher.id)).all())


def _check_values(db, vouchers) -> None:
    """Every live service event is split at the value of its date."""
    for voucher in vouchers:
        db.refresh(voucher)
        for live in live_events(db, voucher.id, voucher.valid_from):
            value = unit_value_on(db, voucher, live.service_date)
            assert (live.voucher_pays_cents, live.client_pays_cents) == split_payment(
                live.units, live.unit_price_cents, value), (voucher.code, live.id)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # about a minute alone, more on shared cores
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=steps)
def test_the_ledger_holds_with_changes_of_decisions(app, db, world, sequence):
    payer = Payer.from_config(app.config)
    people = [Actor.of_user(factories.user(db, role=Role.CASE_MANAGER,
                                           municipalities=[world.ylivieska])) for _ in "ab"]
    db.commit()
    mine: list[Voucher] = []

    def check(db) -> None:
        _check_ledger(db)
        _check_values(db, mine)

    take_steps(db, sequence, lambda step: _run(db, world, step, mine, people, payer),
               state=_changes_too, check=check)


def _run(db, world, step, mine, people, payer) -> bool:
    kind = step[0]
    if kind == "issue":
        mine.append(voucher_for(db, world, world.aurinko, valid_from=OCTOBER, units=step[1] * 10,
                                budget_cents=10**11))
        return True
    if not mine:
        return False
    if kind == "redeem":
        return redeem_step(db, step, mine)
    if kind == "invoice":
        invoice = create_invoice(db, provider_id=world.aurinko.id,
                                 period=dt.date(2026, 10 - step[1], 1), actor=ACTOR)
        if step[2]:
            approve_invoice(db, invoice_id=invoice.id, actor=ACTOR)
        return True
    if kind == "approve":
        return approve_step(db, step)
    if kind == "settle":
        return settle_approved_invoices(db, actor=ACTOR, payer=payer).batch is not None
    voucher = mine[step[1] % len(mine)]
    starts_on = min(OCTOBER + dt.timedelta(days=step[3]), dt.date(2026, 11, 24))
    proposal = services.ChangeInput(starts_on=starts_on, reason="Tarve arvioitiin uudelleen.")
    if kind == "units":
        proposal.units_per_period = step[2]
    else:
        proposal.revalue, proposal.raised_value_cents = True, step[2]
        proposal.raise_reason = "Omavastuu vaarantaisi toimeentulon." if step[2] else None
    change = services.propose_change(db, voucher, proposal, actor=people[0])
    services.approve_change(db, change, actor=people[1])
    return True
