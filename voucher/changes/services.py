"""Changing a voucher decision: propose, preview, approve (four eyes), reject, withdraw.

A case manager of the client's municipality proposes new units, a recalculated value (income
revised, a new value table, a raise), a new end of validity or another service, from a start
date that is today or up to 12 months back, with the reasons. The proposal is checked whole and
waits for a second case manager; the proposer cannot approve it (a CHECK stands behind that)
but may withdraw it. One proposal per voucher waits at a time.

Approving makes the change decision, in one transaction: the voucher's periods and the change
row are locked first (so approvals, recordings and cancellations queue behind each other), the
proposal is checked again against the voucher as it is then, the change takes a decision number
of its own, the services recorded from the start date are corrected (``corrections``), the
voucher takes the new terms, and its commitment moves by the difference in each budget year
through the ledger's guarded updates: a year whose budget cannot cover its part refuses the
whole change, and nothing is left changed. The voucher row then holds the decision in force;
the decision it changed stays readable from the change's ``before``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.audit.services import Actor, FreeText, record_event
from voucher.budgets import ledger
from voucher.budgets.models import Budget
from voucher.catalogue.models import ServiceType
from voucher.changes import corrections as revaluation
from voucher.changes import terms as T
from voucher.changes.models import ChangeStatus, VoucherChange
from voucher.errors import DomainError, NotFound, ValidationFailed
from voucher.i18n import format_date, localized
from voucher.labels import label
from voucher.money import UNIT_SCALE, format_cents
from voucher.providers.pricing import approved_price_for
from voucher.redemptions.models import Redemption
from voucher.vouchers import notices
from voucher.vouchers.decision_numbers import take_decision_numbers
from voucher.vouchers.delivery import deliver
from voucher.vouchers.issuing import budget_exceeded
from voucher.vouchers.models import (
    AssignmentStatus,
    ValueBasis,
    Voucher,
    VoucherAssignment,
    VoucherPeriod,
    VoucherStatus,
    VoucherValue,
)
from voucher.vouchers.value import ValueDecision, decide_unit_value, unit_value_on

#: How far back a change may start.
MAX_MONTHS_BACK = 12
MIN_REASON_LENGTH = 10
MAX_TEXT = 10_000
#: A voucher still in use may change in every way; an ended one only in value (the
#: corrections of what was recorded on it).
FULLY_CHANGEABLE = (VoucherStatus.ISSUED, VoucherStatus.ASSIGNED, VoucherStatus.EXHAUSTED)
VALUE_CHANGEABLE = (*FULLY_CHANGEABLE, VoucherStatus.EXPIRED, VoucherStatus.CANCELLED)


class OwnChange(DomainError):
    code = "own_change"
    status = 403
    message = _l("You cannot approve your own proposal: another case manager must approve it.")


class ChangeAlreadyDecided(DomainError):
    code = "change_already_decided"
    status = 409
    message = _l("This change has already been decided.")


class ChangeAlreadyProposed(DomainError):
    code = "change_already_proposed"
    status = 409
    message = _l("A change of this decision is already waiting for approval. Approve, reject "
                 "or withdraw it first.")


class DecisionChangedMeanwhile(DomainError):
    code = "decision_changed_meanwhile"
    status = 409
    message = _l("The decision %(number)s this proposal changes is no longer in force: another "
                 "change was approved after it was made. Reject it and propose the change "
                 "again.")


class CannotChange(DomainError):
    code = "cannot_change"
    status = 409
    message = _l("This decision cannot be changed: the voucher is %(state)s.")


def earliest_start(today: dt.date) -> dt.date:
    """The earliest start of a change made ``today``: the same day 12 months back."""
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


@dataclass
class ChangeInput:
    """What the case manager proposes. ``None`` keeps a term as it is; ``revalue`` recalculates
    the value (with the income, household size and raise given) from the start date."""

    starts_on: dt.date | None
    reason: str
    units_per_period: int | None = None
    valid_until: dt.date | None = None
    service_type_id: int | None = None
    revalue: bool = False
    household_size: int | None = None
    income_cents: int | None = None
    raised_value_cents: int | None = None
    raise_reason: str | None = None
    review_request_id: int | None = None


@dataclass
class ChangePreview:
    """A checked proposal: the old and new terms, the commitment's difference per budget and
    the corrections of services already recorded."""

    voucher: Voucher
    before: dict
    after: dict
    value: ValueDecision | None
    periods: list[T.PeriodChange]
    dropped: list[VoucherPeriod]
    #: (budget, difference in cents): positive commits, negative releases.
    moves: list[tuple[Budget, int]] = field(default_factory=list)
    corrections: list[revaluation.PlannedCorrection] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        """Which terms change: units, value, validity, service."""
        keys = {"units": ("units_per_period", "units_granted"),
                "value": ("unit_value_cents", "value_basis", "value_raise_reason"),
                "validity": ("valid_until",), "service": ("service_type_id",)}
        return [name for name, fields in keys.items()
                if any(self.before.get(f) != self.after.get(f) for f in fields)]

    @property
    def commitment_difference_cents(self) -> int:
        return sum(cents for _budget, cents in self.moves)

    def by_year(self) -> dict[str, int]:
        return {str(budget.year): cents for budget, cents in self.moves}


def decision_in_force(session: Session, voucher: Voucher) -> dict:
    """The decision in force, as a change stores it in ``before``."""
    latest = latest_approved(session, voucher.id)
    if latest is None:
        return T.snapshot(voucher, decided_at=voucher.issued_at,
                          made_by=voucher.created_by_user_id,
                          approved_by=voucher.approved_by_user_id)
    return T.snapshot(voucher, decided_at=latest.decided_at, made_by=latest.proposed_by_user_id,
                      approved_by=latest.decided_by_user_id)


def latest_approved(session: Session, voucher_id: int) -> VoucherChange | None:
    return session.execute(
        sa.select(VoucherChange).where(VoucherChange.voucher_id == voucher_id,
                                       VoucherChange.status == ChangeStatus.APPROVED)
        .order_by(VoucherChange.decided_at.desc(), VoucherChange.id.desc()).limit(1)
    ).scalar_one_or_none()


def _text(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) < MIN_REASON_LENGTH:
        raise ValidationFailed({"reason": str(_l(
            "Write the reasons for the change: the client reads them in the decision letter."))})
    if len(value) > MAX_TEXT:
        raise ValidationFailed({"reason": str(_l("At most %(max)d characters.", max=MAX_TEXT))})
    return value


def _check_dates(voucher: Voucher, proposal: ChangeInput, valid_until: dt.date,
                 language: str) -> None:
    today = clock.today()
    earliest = max(earliest_start(today), voucher.valid_from)
    errors = {}
    if proposal.starts_on is None:
        errors["starts_on"] = str(_l("Give the day the change starts."))
    elif proposal.starts_on > today:
        errors["starts_on"] = str(_l("A change starts today or earlier: a decision cannot be "
                                     "changed for the future in advance."))
    elif proposal.starts_on < earliest:
        errors["starts_on"] = str(_l(
            "A change can start at most 12 months back and not before the validity: on "
            "%(day)s at the earliest.", day=format_date(earliest, language)))
    elif proposal.starts_on > valid_until:
        errors["starts_on"] = str(_l("The change cannot start after the validity ends."))
    if valid_until < voucher.valid_from:
        errors["valid_until"] = str(_l("The validity cannot end before it starts."))
    elif valid_until != voucher.valid_until and valid_until < today:
        errors["valid_until"] = str(_l("The validity cannot end in the past: to end the "
                                       "voucher now, cancel it."))
    if errors:
        raise ValidationFailed(errors)


def _check_events_fit(session: Session, voucher: Voucher, valid_until: dt.date,
                      periods: list[T.PeriodChange], units_granted: int,
                      language: str) -> None:
    last = session.execute(sa.select(sa.func.max(Redemption.service_date))
                           .where(Redemption.voucher_id == voucher.id)).scalar()
    if last is not None and last > valid_until:
        raise ValidationFailed({"valid_until": str(_l(
            "Services are recorded on the voucher up to %(day)s: the validity cannot end "
            "before that.", day=format_date(last, language)))})
    if units_granted < voucher.units_used or any(p.granted < p.used for p in periods):
        raise ValidationFailed({"units": str(_l(
            "Fewer units than are already used: the change would take back services already "
            "recorded."))})


def _service_change(session: Session, voucher: Voucher, service_type_id: int) -> ServiceType:
    service = session.get(ServiceType, service_type_id)
    if service is None or not service.is_active:
        raise ValidationFailed({"service_type": str(_l("Choose a service."))})
    recorded = session.execute(sa.select(sa.exists().where(
        Redemption.voucher_id == voucher.id))).scalar()
    if recorded:
        raise ValidationFailed({"service_type": str(_l(
            "Services are already recorded on the voucher, so its service cannot change. "
            "Cancel it and make a new decision for the other service."))})
    providers = session.execute(sa.select(VoucherAssignment.provider_id).where(
        VoucherAssignment.voucher_id == voucher.id,
        VoucherAssignment.status.in_([AssignmentStatus.PROPOSED, AssignmentStatus.ACCEPTED])
    )).scalars().all()
    for provider_id in providers:
        if approved_price_for(session, provider_id, service.id, clock.today()) is None:
            raise ValidationFailed({"service_type": str(_l(
                "The provider chosen for the voucher does not offer this service. The client "
                "changes provider first, or the voucher is cancelled and a new decision "
                "made."))})
    return service


def preview_change(session: Session, voucher: Voucher, proposal: ChangeInput, *,
                   language: str = "fi") -> ChangePreview:
    """Check a proposal against the voucher as it is and compute what it would change,
    without storing anything (the approval computes it again)."""
    if voucher.status not in VALUE_CHANGEABLE or voucher.issued_at is None:
        raise CannotChange(state=label(voucher.status))
    _text(proposal.reason)
    units = proposal.units_per_period if proposal.units_per_period is not None \
        else voucher.units_per_period
    valid_until = proposal.valid_until or voucher.valid_until
    service_id = proposal.service_type_id or voucher.service_type_id
    _check_dates(voucher, proposal, valid_until, language)
    service = voucher.service_type
    if service_id != voucher.service_type_id:
        service = _service_change(session, voucher, service_id)
    if units <= 0:
        raise ValidationFailed({"units": str(_l("The number of units must be greater than "
                                                "zero."))})
    if not service.fractional_units and units % UNIT_SCALE:
        raise ValidationFailed({"units": str(_l("This service is granted in whole units."))})
    value = None
    if proposal.revalue or service_id != voucher.service_type_id:
        value = decide_unit_value(
            session, service_type=service, day=proposal.starts_on,
            household_size=proposal.household_size, income_cents=proposal.income_cents,
            raised_value_cents=proposal.raised_value_cents, raise_reason=proposal.raise_reason,
            language=language)
    periods, dropped = T.periods_after(voucher, units_per_period=units,
                                       valid_until=valid_until, starts_on=proposal.starts_on)
    granted = sum(p.granted for p in periods)
    _check_events_fit(session, voucher, valid_until, periods, granted, language)
    before = decision_in_force(session, voucher)
    after = {**T.terms_of(voucher), "service_type_id": service_id,
             "units_per_period": units, "units_granted": granted,
             "valid_until": valid_until.isoformat()}
    new_value = voucher.unit_value_cents
    if value is not None:
        new_value = value.unit_value_cents
        after.update(value_basis=str(value.basis), unit_value_cents=value.unit_value_cents,
                     value_raise_reason=value.raise_reason, calculation=value.calculation)
    preview = ChangePreview(voucher, before, after, value, periods, dropped)
    if not preview.changed:
        raise ValidationFailed({"units": str(_l(
            "Nothing would change: give new units, a recalculated value, a new end of validity "
            "or another service."))})
    if voucher.status not in FULLY_CHANGEABLE and preview.changed != ["value"]:
        raise ValidationFailed({"units": str(_l(
            "The voucher has ended: only its value can still be changed (for the services "
            "recorded on it)."))})
    if new_value != voucher.unit_value_cents:
        preview.corrections = revaluation.plan_corrections(
            session, voucher.id, since=proposal.starts_on, unit_value_cents=new_value)
    preview.moves = _commitment_moves(session, voucher, preview, service_id, new_value,
                                      proposal.starts_on, language)
    return preview


def _commitment_moves(session: Session, voucher: Voucher, preview: ChangePreview,
                      service_id: int, new_value: int, starts_on: dt.date,
                      language: str) -> list[tuple[Budget, int]]:
    """The difference of the need per budget: commits where the new decision needs more,
    releases where it needs less (never below what it still needs there)."""
    usable = voucher.status in T.USABLE
    events = T.event_shares_by_year(session, voucher.id)
    old = T.need_by_year(events=events, periods=T.current_periods(voucher), usable=usable,
                         value_for=lambda day: unit_value_on(session, voucher, day))
    new_events = dict(events)
    for item in preview.corrections:
        year = item.event.service_date.year
        new_events[year] = new_events.get(year, 0) + item.voucher_difference_cents

    def new_value_for(day: dt.date) -> int:
        return new_value if day >= starts_on else unit_value_on(session, voucher, day)

    new = T.need_by_year(events=new_events, periods=preview.periods, usable=usable,
                         value_for=new_value_for)
    needs = {(voucher.service_type_id, y): -c for y, c in old.items()}
    for year, cents in new.items():
        needs[(service_id, year)] = needs.get((service_id, year), 0) + cents
    opened = ledger.open_commitment_by_budget(session, voucher.id)
    moves = []
    for (service, year), difference in sorted(needs.items(), key=lambda i: (i[0][1], i[0][0])):
        if difference == 0:
            continue
        budget = ledger.find_budget(session, voucher.municipality_id, service, year)
        if difference > 0:
            if budget is None:
                raise ledger.NoBudget(
                    municipality=voucher.municipality.name(language),
                    service=localized(session.get(ServiceType, service), "name", language),
                    year=year)
            if budget.free_cents < difference:
                raise budget_exceeded(budget, difference, language)
            moves.append((budget, difference))
        elif budget is not None:
            spare = opened.get(budget.id, 0) - (new.get(year, 0) if service == service_id
                                                 else 0)
            release = min(-difference, max(0, spare))
            if release:
                moves.append((budget, -release))
    return moves


def propose_change(session: Session, voucher: Voucher, proposal: ChangeInput, *,
                   actor: Actor, language: str = "fi") -> VoucherChange:
    """Store a checked proposal; it waits for a second case manager."""
    preview = preview_change(session, voucher, proposal, language=language)
    change = VoucherChange(
        voucher_id=voucher.id, status=ChangeStatus.PROPOSED,
        changes_decision_number=voucher.decision_number, starts_on=proposal.starts_on,
        reason=_text(proposal.reason), review_request_id=proposal.review_request_id,
        before=preview.before, after=preview.after, commitment=preview.by_year(),
        corrections=revaluation.summarise(preview.corrections),
        proposed_by_user_id=actor.user_id)
    try:
        with session.begin_nested():
            session.add(change)
            session.flush()
    except sa.exc.IntegrityError as exc:
        raise ChangeAlreadyProposed() from exc
    record_event(session, actor, "voucher.change_proposed", "voucher", voucher.id,
                 client_id=voucher.client_id, change_id=change.id,
                 changes=preview.changed, starts_on=proposal.starts_on.isoformat(),
                 commitment=change.commitment, corrections=change.corrections,
                 reason=FreeText(change.reason))
    return change


def _proposal_of(change: VoucherChange) -> ChangeInput:
    """The proposal again, from what was stored (for the approval's check)."""
    after, before = change.after, change.before
    calculation = after.get("calculation") or {}
    revalue = after.get("unit_value_cents") != before.get("unit_value_cents") or \
        after.get("calculation") != before.get("calculation")
    return ChangeInput(
        starts_on=change.starts_on, reason=change.reason,
        units_per_period=after["units_per_period"], valid_until=T.day(after["valid_until"]),
        service_type_id=after["service_type_id"], revalue=revalue,
        household_size=calculation.get("household_size"),
        income_cents=calculation.get("income_cents"),
        raised_value_cents=calculation.get("raised_value_cents"),
        raise_reason=after.get("value_raise_reason"))


def _lock(session: Session, change: VoucherChange) -> Voucher:
    """Lock the voucher's periods, then the voucher (the order recordings take them in), then
    the change; read all three afresh."""
    session.execute(sa.select(VoucherPeriod.id).where(
        VoucherPeriod.voucher_id == change.voucher_id).order_by(VoucherPeriod.starts_on)
        .with_for_update()).all()
    voucher = session.execute(
        sa.select(Voucher).where(Voucher.id == change.voucher_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()
    session.execute(sa.select(VoucherChange).where(VoucherChange.id == change.id)
                    .with_for_update().execution_options(populate_existing=True)).scalar_one()
    session.expire(voucher, ["periods"])
    return voucher


def approve_change(session: Session, change: VoucherChange, *, actor: Actor,
                   language: str = "fi") -> VoucherChange:
    """A second case manager approves: the change decision is made (see the module)."""
    if change.status != ChangeStatus.PROPOSED:
        raise ChangeAlreadyDecided()
    if actor.user_id == change.proposed_by_user_id:
        raise OwnChange()
    voucher = _lock(session, change)
    if change.status != ChangeStatus.PROPOSED:
        raise ChangeAlreadyDecided()
    if voucher.decision_number != change.changes_decision_number:
        raise DecisionChangedMeanwhile(number=change.changes_decision_number)
    preview = preview_change(session, voucher, _proposal_of(change), language=language)
    now = clock.now()
    number = take_decision_numbers(session, now)[0]
    decided = session.execute(
        sa.update(VoucherChange)
        .where(VoucherChange.id == change.id, VoucherChange.status == ChangeStatus.PROPOSED)
        .values(status=ChangeStatus.APPROVED, decision_number=number, decided_at=now,
                decided_by_user_id=actor.user_id, before=preview.before, after=preview.after,
                commitment=preview.by_year())
        .execution_options(synchronize_session=False)).rowcount
    if decided != 1:
        raise ChangeAlreadyDecided()
    summary = revaluation.make_corrections(session, preview.corrections, change_id=change.id,
                                           decision_number=number, actor=actor)
    session.execute(sa.update(VoucherChange).where(VoucherChange.id == change.id)
                    .values(corrections=summary).execution_options(synchronize_session=False))
    _apply_terms(session, voucher, preview, change, number)
    moved = _move_commitment(session, voucher, preview, actor, language)
    session.refresh(change)
    record_event(session, actor, "voucher.change_approved", "voucher", voucher.id,
                 client_id=voucher.client_id, change_id=change.id, decision_number=number,
                 changes_decision_number=change.changes_decision_number,
                 changes=preview.changed, starts_on=change.starts_on.isoformat(),
                 commitment=change.commitment, moved_cents=moved, corrections=summary)
    deliver(session, voucher, change_id=change.id)
    notices.notify_client(session, voucher, "changed", change=change)
    notices.notify_user(session, session.get(User, change.proposed_by_user_id), voucher,
                        "change_approved", change=change)
    if voucher.provider is not None:
        notices.notify_provider(session, voucher.provider, voucher, "changed_provider",
                                change=change)
    return change


def _apply_terms(session: Session, voucher: Voucher, preview: ChangePreview,
                 change: VoucherChange, number: str) -> None:
    """The voucher takes the new terms, periods and number; a new value is dated."""
    after = preview.after
    for row in preview.dropped:
        session.delete(row)
    session.flush()
    for period in preview.periods:
        if period.row is None:
            session.add(VoucherPeriod(voucher_id=voucher.id, starts_on=period.starts_on,
                                      ends_on=period.ends_on, units_granted=period.granted))
        else:
            period.row.ends_on, period.row.units_granted = period.ends_on, period.granted
    if after["unit_value_cents"] != voucher.unit_value_cents:
        if not session.execute(sa.select(sa.exists().where(
                VoucherValue.voucher_id == voucher.id))).scalar():
            session.add(VoucherValue(voucher_id=voucher.id, starts_on=voucher.valid_from,
                                     unit_value_cents=voucher.unit_value_cents,
                                     decision_number=voucher.decision_number))
        session.add(VoucherValue(voucher_id=voucher.id, starts_on=change.starts_on,
                                 unit_value_cents=after["unit_value_cents"],
                                 decision_number=number))
        voucher.value_from = change.starts_on
    voucher.service_type_id = after["service_type_id"]
    voucher.value_basis = ValueBasis(after["value_basis"])
    voucher.unit_value_cents = after["unit_value_cents"]
    voucher.value_raise_reason = after["value_raise_reason"]
    voucher.calculation = after["calculation"]
    voucher.units_per_period = after["units_per_period"]
    voucher.units_granted = after["units_granted"]
    voucher.valid_until = T.day(after["valid_until"])
    voucher.decision_number = number
    if voucher.status == VoucherStatus.EXHAUSTED and voucher.units_remaining > 0 and \
            voucher.valid_until >= clock.today():
        voucher.status, voucher.closed_at = VoucherStatus.ASSIGNED, None
    elif voucher.status == VoucherStatus.ASSIGNED and voucher.units_remaining == 0:
        voucher.status, voucher.closed_at = VoucherStatus.EXHAUSTED, clock.now()
    session.flush()
    session.expire(voucher, ["periods", "service_type"])


def _move_commitment(session: Session, voucher: Voucher, preview: ChangePreview,
                     actor: Actor, language: str) -> int:
    """Commit or release each budget's difference, in year order, through the ledger's guarded
    updates (a commit that would overdraw refuses the whole change)."""
    moved = 0
    for budget, cents in preview.moves:
        if cents > 0:
            try:
                ledger.commit(session, budget, cents, voucher_id=voucher.id, reason="changed",
                              user_id=actor.user_id, language=language)
            except ledger.BudgetExceeded:
                raise budget_exceeded(budget, cents, language) from None
        else:
            ledger.release(session, budget, -cents, voucher_id=voucher.id, reason="changed",
                           user_id=actor.user_id)
        moved += cents
    voucher.committed_cents += moved
    session.flush()
    return moved


def reject_change(session: Session, change: VoucherChange, *, reason: str,
                  actor: Actor) -> VoucherChange:
    """Another case manager does not approve the proposal; its proposer is told why."""
    if change.status != ChangeStatus.PROPOSED:
        raise ChangeAlreadyDecided()
    if actor.user_id == change.proposed_by_user_id:
        raise OwnChange(_l("Your own proposal is withdrawn, not rejected."))
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationFailed({"reason": str(_l("Write the reason for the rejection."))})
    _decide(session, change, ChangeStatus.REJECTED, actor, reason)
    record_event(session, actor, "voucher.change_rejected", "voucher", change.voucher_id,
                 client_id=change.voucher.client_id, change_id=change.id,
                 reason=FreeText(reason))
    notices.notify_user(session, session.get(User, change.proposed_by_user_id), change.voucher,
                        "change_rejected", change=change, reason=reason)
    return change


def withdraw_change(session: Session, change: VoucherChange, *, actor: Actor) -> VoucherChange:
    """The proposer takes the proposal back before anyone decides it."""
    if change.status != ChangeStatus.PROPOSED:
        raise ChangeAlreadyDecided()
    if actor.user_id != change.proposed_by_user_id:
        raise OwnChange(_l("Only the case manager who proposed the change can withdraw it."))
    _decide(session, change, ChangeStatus.WITHDRAWN, actor, None)
    record_event(session, actor, "voucher.change_withdrawn", "voucher", change.voucher_id,
                 client_id=change.voucher.client_id, change_id=change.id)
    return change


def _decide(session: Session, change: VoucherChange, status: ChangeStatus, actor: Actor,
            reason: str | None) -> None:
    decided = session.execute(
        sa.update(VoucherChange)
        .where(VoucherChange.id == change.id, VoucherChange.status == ChangeStatus.PROPOSED)
        .values(status=status, decided_at=clock.now(), decided_by_user_id=actor.user_id,
                rejection_reason=reason)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(change)
    if decided != 1:
        raise ChangeAlreadyDecided()


def changes_of(session: Session, voucher_id: int) -> list[VoucherChange]:
    """The voucher's changes, oldest first."""
    return list(session.execute(sa.select(VoucherChange).where(
        VoucherChange.voucher_id == voucher_id).order_by(VoucherChange.id)).scalars())


def waiting_change(session: Session, voucher_id: int) -> VoucherChange | None:
    return session.execute(sa.select(VoucherChange).where(
        VoucherChange.voucher_id == voucher_id,
        VoucherChange.status == ChangeStatus.PROPOSED)).scalar_one_or_none()


def changes_awaiting(session: Session, user: User) -> list[VoucherChange]:
    """Proposals in the user's municipalities that wait for a second case manager (not the
    user's own), oldest first."""
    from voucher.vouchers.queries import staff_scope

    return list(session.execute(staff_scope(
        sa.select(VoucherChange).join(Voucher, Voucher.id == VoucherChange.voucher_id)
        .where(VoucherChange.status == ChangeStatus.PROPOSED,
               VoucherChange.proposed_by_user_id != user.id), user)
        .order_by(VoucherChange.proposed_at, VoucherChange.id)).scalars())


def find_change(session: Session, voucher: Voucher, change_id: int) -> VoucherChange:
    """One of the voucher's changes; NotFound otherwise."""
    change = session.get(VoucherChange, change_id) if 0 < change_id < 2**31 else None
    if change is None or change.voucher_id != voucher.id:
        raise NotFound()
    return change


def describe_money(cents: int, language: str) -> str:
    return ("+" if cents > 0 else "") + format_cents(cents, language)
