"""Deciding on a voucher: the need assessment, the value, four eyes, and the commitment.

A decision is checked whole before anything is stored (units, validity, value, budgets). When
its total value (units × unit value) is above the policy's threshold it waits for a second case
manager, who cannot be the one who made it; otherwise it is issued at once. Issuing commits the
whole grant against the home municipality's budget of each year the validity touches, in the
same transaction: if any year's budget is missing or cannot cover its share, nothing is issued
and the case manager sees the figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.audit.services import Actor, FreeText, record_event
from voucher.budgets import ledger
from voucher.budgets.models import Budget
from voucher.catalogue.models import ServiceType
from voucher.clients.models import Client
from voucher.errors import DomainError, ValidationFailed
from voucher.i18n import localized
from voucher.money import UNIT_SCALE, format_cents, units_times_cents
from voucher.municipalities.models import Municipality
from voucher.vouchers import notices, states
from voucher.vouchers.codes import new_confirmation_code, new_voucher_code
from voucher.vouchers.decision_numbers import take_decision_numbers
from voucher.vouchers.delivery import deliver
from voucher.vouchers.models import Recurrence, Voucher, VoucherPeriod, VoucherStatus
from voucher.vouchers.periods import PeriodPlan, commitment_by_year, plan_periods
from voucher.vouchers.policy import needs_second_approval
from voucher.vouchers.value import ValueDecision, decide_unit_value


class OwnDecision(DomainError):
    code = "own_decision"
    status = 403
    message = _l("You cannot approve your own decision: another case manager must approve it.")


@dataclass
class Decision:
    """What the case manager decides: the need assessment and the grant."""

    service_type_id: int
    need_assessment: str
    recurrence: Recurrence
    units_per_period: int  #: hundredths
    valid_from: dt.date
    valid_until: dt.date
    household_size: int | None = None
    income_cents: int | None = None
    raised_value_cents: int | None = None
    raise_reason: str | None = None


@dataclass
class Preview:
    """A checked decision: its value with the calculation, periods and commitment per year."""

    service_type: ServiceType
    value: ValueDecision
    periods: list[PeriodPlan]
    units_granted: int
    total_cents: int
    by_year: dict[int, int]
    needs_approval: bool


def preview_decision(session: Session, *, client: Client, decision: Decision,
                     language: str = "fi") -> Preview:
    """Check a decision and compute its value, without storing anything."""
    service_type = session.get(ServiceType, decision.service_type_id)
    errors = {}
    if service_type is None or not service_type.is_active:
        errors["service_type"] = str(_l("Choose a service."))
    if not (decision.need_assessment or "").strip():
        errors["need_assessment"] = str(_l("Write the need assessment."))
    if decision.units_per_period is None or decision.units_per_period <= 0:
        errors["units"] = str(_l("The number of units must be greater than zero."))
    elif service_type is not None and not service_type.fractional_units \
            and decision.units_per_period % UNIT_SCALE:
        errors["units"] = str(_l("This service is granted in whole units."))
    if decision.valid_until < decision.valid_from:
        errors["valid_until"] = str(_l("The validity cannot end before it starts."))
    elif decision.valid_until < clock.today():
        errors["valid_until"] = str(_l("The validity has already ended: choose a later date."))
    if errors:
        raise ValidationFailed(errors)
    value = decide_unit_value(
        session, service_type=service_type, day=clock.today(),
        household_size=decision.household_size, income_cents=decision.income_cents,
        raised_value_cents=decision.raised_value_cents, raise_reason=decision.raise_reason,
        language=language)
    periods = plan_periods(decision.recurrence, decision.units_per_period,
                           decision.valid_from, decision.valid_until)
    granted = sum(p.units for p in periods)
    total = units_times_cents(granted, value.unit_value_cents)
    return Preview(service_type, value, periods, granted, total,
                   commitment_by_year(periods, value.unit_value_cents),
                   needs_second_approval(session, total))


def save_draft(session: Session, *, client: Client, decision: Decision, actor: Actor,
               voucher: Voucher | None = None, language: str = "fi") -> Voucher:
    """Store an unfinished decision; it commits nothing and the client is not told."""
    preview = preview_decision(session, client=client, decision=decision, language=language)
    voucher = _store(session, client, decision, preview, actor, voucher)
    record_event(session, actor, "voucher.drafted", "voucher", voucher.id, client_id=client.id,
                 total_cents=preview.total_cents)
    return voucher


def issue_decision(session: Session, *, client: Client, decision: Decision, actor: Actor,
                   voucher: Voucher | None = None, language: str = "fi") -> Voucher:
    """Make the decision: issued and committed at once, or waiting for a second approval."""
    preview = preview_decision(session, client=client, decision=decision, language=language)
    check_budgets_cover(session, client.municipality_id, preview, language)
    voucher = _store(session, client, decision, preview, actor, voucher)
    if preview.needs_approval:
        states.move(session, voucher, VoucherStatus.PENDING_APPROVAL)
        record_event(session, actor, "voucher.submitted_for_approval", "voucher", voucher.id,
                     client_id=client.id, total_cents=preview.total_cents)
        return voucher
    _issue(session, voucher, actor=actor, language=language)
    return voucher


def approve_decision(session: Session, voucher: Voucher, *, actor: Actor,
                     language: str = "fi") -> None:
    """The second case manager approves: the voucher is issued and committed."""
    states.require_status(voucher, VoucherStatus.PENDING_APPROVAL)
    if actor.user_id == voucher.created_by_user_id:
        raise OwnDecision()
    if voucher.valid_until < clock.today():
        raise states.InvalidTransition(_l(
            "The decision's validity has already ended. Reject it and make a new decision."))
    record_event(session, actor, "voucher.approved", "voucher", voucher.id,
                 client_id=voucher.client_id)
    _issue(session, voucher, actor=actor, language=language, approved_by=actor.user_id)


def reject_decision(session: Session, voucher: Voucher, *, reason: str, actor: Actor) -> None:
    """The second case manager does not approve; the decision is cancelled, the issuer told."""
    states.require_status(voucher, VoucherStatus.PENDING_APPROVAL)
    if actor.user_id == voucher.created_by_user_id:
        raise OwnDecision(_l("Your own decision is cancelled, not rejected."))
    states.move(session, voucher, VoucherStatus.CANCELLED, cancelled_at=clock.now(),
                cancel_reason=reason.strip())
    record_event(session, actor, "voucher.rejected", "voucher", voucher.id,
                 client_id=voucher.client_id, reason=FreeText(reason.strip()))
    notices.notify_user(session, session.get(User, voucher.created_by_user_id), voucher,
                        "decision_rejected", reason=reason.strip())


def check_budgets_cover(session: Session, municipality_id: int, preview: Preview,
                        language: str) -> None:
    """Refuse, with the figures, a decision that a year's budget is missing for or cannot
    cover right now (the commitment itself re-checks atomically)."""
    for year, cents in sorted(preview.by_year.items()):
        budget = ledger.find_budget(session, municipality_id, preview.service_type.id, year)
        if budget is None:
            raise _no_budget(session, municipality_id, preview.service_type, year, language)
        if budget.free_cents < cents:
            raise budget_exceeded(budget, cents, language)


def budget_exceeded(budget: Budget, needed_cents: int, language: str) -> ledger.BudgetExceeded:
    return ledger.BudgetExceeded(
        municipality=budget.municipality.name(language),
        service=localized(budget.service_type, "name", language), year=budget.year,
        needed=format_cents(needed_cents, language), free=format_cents(budget.free_cents, language),
        amount=format_cents(budget.amount_cents, language),
        committed=format_cents(budget.open_commitment_cents, language))


def _no_budget(session, municipality_id, service_type, year, language) -> ledger.NoBudget:
    return ledger.NoBudget(municipality=session.get(Municipality, municipality_id).name(language),
                           service=localized(service_type, "name", language), year=year)


def _store(session: Session, client: Client, decision: Decision, preview: Preview,
           actor: Actor, voucher: Voucher | None) -> Voucher:
    if voucher is None:
        voucher = Voucher(code=new_voucher_code(), confirmation_code=new_confirmation_code(),
                          client_id=client.id, status=VoucherStatus.DRAFT)
        session.add(voucher)
    else:
        states.require_status(voucher, VoucherStatus.DRAFT)
        voucher.periods.clear()  # the old periods go before the new ones (same start dates)
        session.flush()
    voucher.service_type_id = preview.service_type.id
    voucher.municipality_id = client.municipality_id
    voucher.value_basis = preview.value.basis
    voucher.unit_value_cents = preview.value.unit_value_cents
    voucher.value_raise_reason = preview.value.raise_reason
    voucher.calculation = preview.value.calculation
    voucher.recurrence = decision.recurrence
    voucher.units_per_period = decision.units_per_period
    voucher.units_granted = preview.units_granted
    voucher.valid_from, voucher.valid_until = decision.valid_from, decision.valid_until
    voucher.need_assessment = decision.need_assessment.strip()
    # Whoever finishes a decision is its maker (and so cannot approve it).
    voucher.created_by_user_id = actor.user_id
    voucher.periods = [VoucherPeriod(starts_on=p.starts_on, ends_on=p.ends_on,
                                     units_granted=p.units) for p in preview.periods]
    _update_household(session, client, decision, actor)
    session.flush()
    return voucher


def _update_household(session: Session, client: Client, decision: Decision,
                      actor: Actor) -> None:
    """The assessed household size and income become the client's current figures."""
    changed = []
    if decision.household_size and decision.household_size != client.household_size:
        client.household_size = decision.household_size
        changed.append("household_size")
    if decision.income_cents is not None and \
            decision.income_cents != client.gross_monthly_income_cents:
        client.gross_monthly_income_cents = decision.income_cents
        changed.append("gross_monthly_income_cents")
    if changed:
        record_event(session, actor, "client.updated", "client", client.id, client_id=client.id,
                     fields=changed)


def _issue(session: Session, voucher: Voucher, *, actor: Actor, language: str,
           approved_by: int | None = None) -> None:
    """Commit the whole grant per budget year and mark the voucher issued, or refuse whole."""
    plans = [PeriodPlan(p.starts_on, p.ends_on, p.units_granted) for p in voucher.periods]
    by_year = commitment_by_year(plans, voucher.unit_value_cents)
    committed = 0
    for year, cents in sorted(by_year.items()):  # always in year order: no deadlocks
        budget = ledger.find_budget(session, voucher.municipality_id, voucher.service_type_id,
                                    year)
        if budget is None:
            raise _no_budget(session, voucher.municipality_id, voucher.service_type, year,
                             language)
        ledger.commit(session, budget, cents, voucher_id=voucher.id, user_id=actor.user_id,
                      language=language)
        committed += cents
    issued_at = clock.now()
    values = {"issued_at": issued_at, "committed_cents": committed,
              "decision_number": take_decision_numbers(session, issued_at)[0]}
    if approved_by is not None:
        values["approved_by_user_id"] = approved_by
    states.move(session, voucher, VoucherStatus.ISSUED, **values)
    record_event(session, actor, "voucher.issued", "voucher", voucher.id,
                 client_id=voucher.client_id, committed_cents=committed,
                 decision_number=values["decision_number"],
                 by_year={str(y): c for y, c in by_year.items()}, approved_by=approved_by)
    deliver(session, voucher)
    notices.notify_client(session, voucher, "issued")
