"""Running the service catalogue: service types, their published texts and their dated rates.

A change of the voucher value or the price cap never rewrites history: it is a new
``ServiceTypeRate`` from a date on, so the value in force on any past date stays answerable.
Only a change that has not yet taken effect may be cancelled.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.audit.services import Actor, record_event
from voucher.catalogue.models import ServiceType, ServiceTypeRate, Unit
from voucher.errors import DomainError, NotFound, ValidationFailed
from voucher.providers.models import ProviderService, ServiceStatus

#: Texts published in Finnish, Swedish and English.
TEXT_FIELDS = tuple(f"{name}_{lang}" for name in ("name", "description", "criteria")
                    for lang in ("fi", "sv", "en"))
#: What a service type is and requires, besides its texts.
FLAG_FIELDS = ("fractional_units", "income_related", "free_for_client", "requires_soteri",
               "for_children", "is_active")


class ServiceCodeTaken(DomainError):
    code = "service_code_taken"
    status = 409
    message = _l("A service type with this code already exists.")


class UnitInUse(DomainError):
    code = "unit_in_use"
    status = 409
    message = _l("The unit cannot be changed: providers have already offered prices per %(unit)s.")


class RateDateTaken(DomainError):
    code = "rate_date_taken"
    status = 409
    message = _l("A change from this date already exists. Choose another date or cancel that "
                 "change first.")


class RateInForce(DomainError):
    code = "rate_in_force"
    status = 409
    message = _l("This value has already taken effect and cannot be cancelled; add a new "
                 "change instead.")


def _check_rate(unit_value_cents: int, price_cap_cents: int | None) -> None:
    if price_cap_cents is not None and price_cap_cents < unit_value_cents:
        raise ValidationFailed({"price_cap": str(_l(
            "The price cap cannot be below the voucher value."))})


def find_service_type(session: Session, service_type_id: int) -> ServiceType:
    found = session.get(ServiceType, service_type_id)
    if found is None:
        raise NotFound()
    return found


def list_service_types(session: Session, *, active_only: bool = False) -> list[ServiceType]:
    query = sa.select(ServiceType).order_by(ServiceType.name_fi)
    if active_only:
        query = query.where(ServiceType.is_active.is_(True))
    return list(session.execute(query).scalars())


def create_service_type(
    session: Session, *, actor: Actor, code: str, unit: Unit, unit_value_cents: int,
    price_cap_cents: int | None, valid_from: dt.date, **details,
) -> ServiceType:
    """Add a service type with its first voucher value and price cap from ``valid_from``."""
    code = code.strip().upper()
    if session.execute(sa.select(ServiceType.id).where(ServiceType.code == code)).first():
        raise ServiceCodeTaken(field="code")
    _check_rate(unit_value_cents, price_cap_cents)
    service_type = ServiceType(code=code, unit=unit,
                               **{k: v for k, v in details.items()
                                  if k in TEXT_FIELDS + FLAG_FIELDS})
    session.add(service_type)
    session.flush()
    session.add(ServiceTypeRate(service_type_id=service_type.id, valid_from=valid_from,
                                unit_value_cents=unit_value_cents,
                                price_cap_cents=price_cap_cents,
                                created_by_user_id=actor.user_id))
    session.flush()
    record_event(session, actor, "service_type.created", "service_type", service_type.id,
                 code=code, unit=str(unit), unit_value_cents=unit_value_cents,
                 price_cap_cents=price_cap_cents, valid_from=valid_from.isoformat())
    return service_type


def update_service_type(
    session: Session, service_type: ServiceType, *, actor: Actor, unit: Unit, **details,
) -> None:
    """Change the texts and flags. The unit stays once providers have priced the service."""
    if unit != service_type.unit:
        priced = session.execute(sa.select(ProviderService.id).where(
            ProviderService.service_type_id == service_type.id).limit(1)).first()
        if priced:
            raise UnitInUse(field="unit", unit=str(service_type.unit.value))
    changed = []
    for name in ("unit", *TEXT_FIELDS, *FLAG_FIELDS):
        value = unit if name == "unit" else details.get(name, getattr(service_type, name))
        if getattr(service_type, name) != value:
            setattr(service_type, name, value)
            changed.append(name)
    if changed:
        record_event(session, actor, "service_type.updated", "service_type", service_type.id,
                     changed=changed)


def schedule_rate(
    session: Session, service_type: ServiceType, *, actor: Actor, valid_from: dt.date,
    unit_value_cents: int, price_cap_cents: int | None,
) -> ServiceTypeRate:
    """Set a new voucher value and price cap from a date after today; earlier decisions and
    service events keep the value that was in force on their dates."""
    if valid_from <= clock.today():
        raise ValidationFailed({"valid_from": str(_l(
            "A change can take effect tomorrow at the earliest, so that nothing already "
            "decided changes."))})
    _check_rate(unit_value_cents, price_cap_cents)
    if session.execute(sa.select(ServiceTypeRate.id).where(
            ServiceTypeRate.service_type_id == service_type.id,
            ServiceTypeRate.valid_from == valid_from)).first():
        raise RateDateTaken(field="valid_from")
    rate = ServiceTypeRate(service_type_id=service_type.id, valid_from=valid_from,
                           unit_value_cents=unit_value_cents, price_cap_cents=price_cap_cents,
                           created_by_user_id=actor.user_id)
    session.add(rate)
    session.flush()
    record_event(session, actor, "service_type.rate_scheduled", "service_type", service_type.id,
                 rate_id=rate.id, valid_from=valid_from.isoformat(),
                 unit_value_cents=unit_value_cents, price_cap_cents=price_cap_cents)
    return rate


def cancel_planned_rate(session: Session, service_type: ServiceType, rate_id: int, *,
                        actor: Actor) -> None:
    """Remove a change that has not yet taken effect."""
    rate = session.get(ServiceTypeRate, rate_id)
    if rate is None or rate.service_type_id != service_type.id:
        raise NotFound()
    if rate.valid_from <= clock.today():
        raise RateInForce()
    session.delete(rate)
    session.flush()
    record_event(session, actor, "service_type.rate_cancelled", "service_type", service_type.id,
                 rate_id=rate_id, valid_from=rate.valid_from.isoformat())


def offers_above_cap(session: Session, service_type_id: int, cap_cents: int | None) -> int:
    """How many approved offers have a price in force above ``cap_cents`` (they stay in force
    until changed; new prices above the cap are refused)."""
    if cap_cents is None:
        return 0
    return session.execute(
        sa.select(sa.func.count()).select_from(ProviderService).where(
            ProviderService.service_type_id == service_type_id,
            ProviderService.status == ServiceStatus.APPROVED,
            ProviderService.current_price_cents > cap_cents)
    ).scalar_one()
