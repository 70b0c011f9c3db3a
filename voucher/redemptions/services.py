"""Recording, voiding and correcting service events.

A service event takes units from an assigned voucher on its service date. Its unit price is the
provider's approved price on that date or lower, never higher; the voucher pays
``min(price, value) × units`` and the client's self-share is the rest. Units are taken with the
atomic conditional update of ``vouchers.units``, so parallel recordings never take more units
than the voucher has. The web form, the CSV upload and the API all record through
``record_redemption``.

Voiding and correcting are in ``corrections``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.errors import DomainError, NotFound, ValidationFailed
from voucher.i18n import format_date
from voucher.labels import label
from voucher.money import UNIT_SCALE, format_cents, format_units, split_payment
from voucher.providers.pricing import approved_price_for, approved_price_subquery
from voucher.providers.supervision import ensure_provider_active
from voucher.redemptions.models import ClientShareStatus, Redemption, RedemptionStatus
from voucher.vouchers.models import Voucher, VoucherStatus
from voucher.vouchers.units import (
    InsufficientUnits,
    OutsideValidity,
    VoucherNotActive,
    period_for,
    recordable_units,
    take_units,
)
from voucher.vouchers.value import unit_value_on

#: Upper bounds that keep input sane (and inside the database's integers).
MAX_UNITS = 1000 * UNIT_SCALE
MAX_PRICE_CENTS = 10_000_000
MAX_NOTE_LENGTH = 2000
#: A staff number or code such as "HO-17": at most 64 letters, digits and . _ -, starting with
#: a letter or digit and with at least one digit, so that a name is not entered by mistake.
CAREGIVER_PATTERN = ("^([0-9][A-Za-z0-9._-]*|[A-Za-z][A-Za-z0-9._-]*[0-9][A-Za-z0-9._-]*)$")
_CAREGIVER_REF = re.compile(CAREGIVER_PATTERN)
SOURCES = ("portal", "csv", "api")
#: "Look the approved price up" (None means that there is none).
_LOOK_UP = object()


class AlreadyRecorded(DomainError):
    """The same form was sent again (a double click, a reload): the first one was recorded."""

    code = "already_recorded"
    status = 409
    message = _l("This service event was already recorded: the form was sent twice. Nothing "
                 "was recorded a second time.")

    def __init__(self, redemption_id: int):
        super().__init__()
        self.redemption_id = redemption_id


class PriceAboveApproved(DomainError):
    code = "price_above_approved"
    status = 422
    message = _l("The unit price %(price)s is above your approved price %(approved)s on "
                 "%(day)s. A lower price is allowed, a higher one is not.")


class NoApprovedPrice(PriceAboveApproved):
    message = _l("You have no approved price for this service on %(day)s, so no service event "
                 "can be recorded for that date.")


@dataclass(frozen=True)
class EventInput:
    """What a provider enters for a service event. Units are hundredths; a missing price
    means the approved price on the service date."""

    service_date: dt.date
    units: int
    unit_price_cents: int | None = None
    caregiver_ref: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Preview:
    """The figures of a service event before it is saved."""

    voucher: Voucher
    event: EventInput
    approved_price_cents: int
    unit_price_cents: int
    #: The voucher's value on the service date (a change of decision may have set another
    #: from a later day).
    unit_value_cents: int
    voucher_pays_cents: int
    client_pays_cents: int
    units_remaining_after: int


def find_provider_voucher(session: Session, *, provider_id: int, code: str) -> Voucher:
    """The voucher with this code whose chosen provider is the caller; NotFound otherwise
    (also for another provider's voucher, so that codes cannot be probed)."""
    voucher = session.execute(
        sa.select(Voucher)
        .where(Voucher.code == code.strip().upper(), Voucher.provider_id == provider_id)
        .options(joinedload(Voucher.service_type), joinedload(Voucher.client))
    ).scalar_one_or_none()
    if voucher is None:
        raise NotFound()
    return voucher


@functools.cache
def _voucher_with_price() -> sa.Select:
    """Built once: the API's busiest query."""
    day = sa.bindparam("day", type_=sa.Date())
    return (sa.select(Voucher, approved_price_subquery(Voucher.provider_id,
                                                       Voucher.service_type_id, day))
            .where(Voucher.code == sa.bindparam("code"),
                   Voucher.provider_id == sa.bindparam("provider_id"))
            .options(joinedload(Voucher.service_type), joinedload(Voucher.provider)))


def find_voucher_for_event(session: Session, *, provider_id: int, code: str,
                           day: dt.date) -> tuple[Voucher, int | None]:
    """The caller's voucher (as ``find_provider_voucher``) with the approved price of its
    service on ``day``, in one query: the API's busiest path."""
    row = session.execute(_voucher_with_price(), {
        "code": code.strip().upper(), "provider_id": provider_id, "day": day}).one_or_none()
    if row is None:
        raise NotFound()
    return row[0], row[1]


def find_provider_redemption(session: Session, *, provider_id: int,
                             redemption_id: int) -> Redemption:
    """One of the provider's service events; NotFound for anyone else's."""
    redemption = session.execute(
        sa.select(Redemption)
        .where(Redemption.id == redemption_id, Redemption.provider_id == provider_id)
        .options(joinedload(Redemption.voucher))
    ).scalar_one_or_none() if 0 < redemption_id < 2**31 else None
    if redemption is None:
        raise NotFound()
    return redemption


def _check_input(voucher: Voucher, event: EventInput) -> None:
    errors = {}
    if event.service_date > clock.today():
        errors["service_date"] = _("The service date cannot be in the future.")
    if event.units <= 0:
        errors["units"] = _("Enter a number of units greater than zero.")
    elif event.units > MAX_UNITS:
        errors["units"] = _("At most %(max)d units can be recorded in one service event.",
                            max=MAX_UNITS // UNIT_SCALE)
    elif not voucher.service_type.fractional_units and event.units % UNIT_SCALE:
        errors["units"] = _("Only whole units can be recorded for this service.")
    if event.unit_price_cents is not None and not 0 < event.unit_price_cents <= MAX_PRICE_CENTS:
        errors["unit_price_cents"] = _("Enter a unit price greater than zero.")
    if event.caregiver_ref and not (len(event.caregiver_ref) <= 64
                                    and _CAREGIVER_REF.fullmatch(event.caregiver_ref)):
        errors["caregiver_ref"] = _(
            "Use your own staff number or code, e.g. HO-17: letters, digits, dots, dashes and "
            "underscores, at least one digit, at most 64 characters. Never a name.")
    if event.note and len(event.note) > MAX_NOTE_LENGTH:
        errors["note"] = _("The note can be at most %(max)d characters long.",
                           max=MAX_NOTE_LENGTH)
    if errors:
        raise ValidationFailed(errors)


def preview_redemption(session: Session, *, voucher: Voucher, event: EventInput,
                       language: str = "fi", check_units: bool = True,
                       approved_price_cents=_LOOK_UP) -> Preview:
    """Check a service event and compute what the voucher and the client pay, without saving.
    Raises what recording would raise (except a race for the last units). Recording skips the
    units check here (``check_units=False``): it takes the units atomically right after. A
    caller that loaded the approved price on the service date with the voucher passes it."""
    ensure_provider_active(session, voucher.provider_id)
    _check_input(voucher, event)
    if voucher.status not in (VoucherStatus.ASSIGNED, VoucherStatus.EXHAUSTED):
        raise VoucherNotActive(state=label(voucher.status))
    if not voucher.valid_from <= event.service_date <= voucher.valid_until:
        raise OutsideValidity(day=format_date(event.service_date, language),
                              valid_from=format_date(voucher.valid_from, language),
                              valid_until=format_date(voucher.valid_until, language),
                              field="service_date")
    approved = approved_price_for(
        session, voucher.provider_id, voucher.service_type_id, event.service_date,
    ) if approved_price_cents is _LOOK_UP else approved_price_cents
    day = format_date(event.service_date, language)
    if approved is None:
        raise NoApprovedPrice(day=day, field="unit_price_cents")
    price = approved if event.unit_price_cents is None else event.unit_price_cents
    if price > approved:
        raise PriceAboveApproved(price=format_cents(price, language),
                                 approved=format_cents(approved, language), day=day,
                                 field="unit_price_cents")
    if voucher.status == VoucherStatus.EXHAUSTED:
        # No units are left: the same answer as for a recording that lost the race for the
        # last units, so that parallel callers see one consistent refusal.
        raise InsufficientUnits(remaining=format_units(0, language),
                                requested=format_units(event.units, language), field="units")
    if check_units:
        period = period_for(session, voucher.id, event.service_date)
        available = recordable_units(voucher, period) if period is not None else None
        if available is not None and available < event.units:
            raise InsufficientUnits(remaining=format_units(available, language),
                                    requested=format_units(event.units, language),
                                    field="units")
    value = unit_value_on(session, voucher, event.service_date)
    voucher_pays, client_pays = split_payment(event.units, price, value)
    return Preview(voucher=voucher, event=event, approved_price_cents=approved,
                   unit_price_cents=price, unit_value_cents=value,
                   voucher_pays_cents=voucher_pays,
                   client_pays_cents=client_pays,
                   units_remaining_after=voucher.units_remaining - event.units)


def _refuse_repeated_submission(session: Session, provider_id: int, key: str) -> None:
    with session.no_autoflush:
        earlier = session.execute(sa.select(Redemption.id).where(
            Redemption.provider_id == provider_id, Redemption.submission_key == key)).scalar()
    if earlier is not None:
        raise AlreadyRecorded(earlier)


def record_redemption(session: Session, *, voucher: Voucher, event: EventInput, source: str,
                      actor: Actor, user_id: int | None = None, language: str = "fi",
                      approved_price_cents=_LOOK_UP,
                      submission_key: str | None = None) -> Redemption:
    """Record a delivered service on an assigned voucher: checks as in the preview, then takes
    the units atomically (InsufficientUnits when they are not there). The voucher becomes
    exhausted when its last unit is used; its unused commitment stays until settlement. Only
    an approved provider records (``ensure_provider_active``: not a suspended or revoked one);
    the portal form, the CSV import, the API and corrections all come through here."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    ensure_provider_active(session, voucher.provider_id)
    if submission_key:
        _refuse_repeated_submission(session, voucher.provider_id, submission_key)
    preview = preview_redemption(session, voucher=voucher, event=event, language=language,
                                 check_units=False, approved_price_cents=approved_price_cents)
    period = take_units(session, voucher, event.service_date, event.units, language)
    redemption = Redemption(
        voucher_id=voucher.id, provider_id=voucher.provider_id, voucher_period_id=period.id,
        service_date=event.service_date, units=event.units,
        unit_price_cents=preview.unit_price_cents, unit_value_cents=preview.unit_value_cents,
        voucher_pays_cents=preview.voucher_pays_cents,
        client_pays_cents=preview.client_pays_cents, status=RedemptionStatus.RECORDED,
        caregiver_ref=event.caregiver_ref or None, note=event.note or None, source=source,
        client_share_status=ClientShareStatus.DUE if preview.client_pays_cents > 0 else None,
        created_by_user_id=user_id, submission_key=submission_key,
    )
    session.add(redemption)
    if not submission_key:
        session.flush()
    else:  # a savepoint (two round trips) only where a conflict is answered rather than raised
        try:
            with session.begin_nested():
                session.flush()
        except sa.exc.IntegrityError:  # the same form, sent twice at the same moment
            _refuse_repeated_submission(session, voucher.provider_id, submission_key)
            raise
    record_event(session, actor, "redemption.recorded", "redemption", redemption.id,
                 client_id=voucher.client_id, voucher_id=voucher.id,
                 provider_id=voucher.provider_id, service_date=event.service_date,
                 units=event.units, unit_price_cents=preview.unit_price_cents,
                 voucher_pays_cents=preview.voucher_pays_cents,
                 client_pays_cents=preview.client_pays_cents, source=source)
    return redemption
