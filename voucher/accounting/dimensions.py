"""Keeping the accounting dimensions: per municipality × service type the ledger account, cost
centre and the further dimensions (project, internal order, VAT code); the authority's own
accounts (the bank account, the clearing account of self-shares paid online); each provider's
supplier number in the purchase ledger.

Every change is a new dated row, audited; nothing is rewritten. A settlement posts with the
values in force on its date (the latest ``valid_from`` on or before it). A change may take
effect only after the date of the newest posting file, so that no batch already posted is
contradicted by what the dimensions say was in force on its date; a change that has not taken
effect yet may be cancelled.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounting.models import (
    DIMENSION_FIELDS,
    AccountingDimensions,
    AuthorityAccount,
    PostingFile,
    SupplierNumber,
)
from voucher.audit.services import Actor, record_event
from voucher.catalogue.models import ServiceType
from voucher.errors import DomainError, NotFound, ValidationFailed
from voucher.i18n import current_language, format_date, localized
from voucher.municipalities.models import Municipality
from voucher.providers.models import Provider

#: A dimension value: what ERPs accept as codes (letters, digits, . _ / -), at most 20.
_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._/-]{0,19}")


class DimensionDateTaken(DomainError):
    code = "dimension_date_taken"
    status = 409
    message = _l("A change from this date already exists. Choose another date or cancel that "
                 "change first.")


class ChangeBeforePosting(DomainError):
    code = "dimension_change_before_posting"
    status = 409
    message = _l("A change can take effect from %(day)s at the earliest: the payment batch "
                 "of %(posted)s was already posted with the values in force then.")


class ChangeInForce(DomainError):
    code = "dimension_change_in_force"
    status = 409
    message = _l("This change has already taken effect and cannot be cancelled; add a new "
                 "change instead.")


@dataclass(frozen=True)
class Missing:
    """Accounting data a settlement on ``on`` needs and does not have."""

    #: "service" (a municipality × service type), "authority" or "supplier".
    kind: str
    name: str

    def describe(self) -> str:
        return self.name


class DimensionsMissing(DomainError):
    code = "dimensions_missing"
    status = 409
    message = _l("Settlement was stopped and nothing was changed: accounting dimensions in "
                 "force on %(day)s are missing for %(missing)s. Add them on the Accounting "
                 "page and run settlement again.")


def newest_posting_date(session: Session) -> dt.date | None:
    return session.execute(sa.select(sa.func.max(PostingFile.posted_on))).scalar()


def earliest_change_date(session: Session) -> dt.date | None:
    """The first day a new value may take effect (None: any day, nothing is posted yet)."""
    newest = newest_posting_date(session)
    return newest + dt.timedelta(days=1) if newest else None


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check_values(values: dict[str, str | None], *, needs_cost_centre: bool) -> dict:
    cleaned = {name: _clean(values.get(name)) for name in DIMENSION_FIELDS}
    errors = {}
    for name, value in cleaned.items():
        if value is not None and not _CODE.fullmatch(value):
            errors[name] = str(_l("Use 1–20 letters, digits, dots, hyphens, underscores or "
                                  "slashes, beginning with a letter or a digit."))
    if cleaned["account"] is None:
        errors["account"] = str(_l("Enter the ledger account."))
    if needs_cost_centre and cleaned["cost_centre"] is None:
        errors["cost_centre"] = str(_l("Enter the cost centre."))
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _check_date(session: Session, valid_from: dt.date | None) -> None:
    if valid_from is None:
        raise ValidationFailed({"valid_from": str(_l("Enter the date from which the values "
                                                     "apply."))})
    earliest = earliest_change_date(session)
    if earliest is not None and valid_from < earliest:
        raise ChangeBeforePosting(field="valid_from", day=format_date(earliest),
                                  posted=format_date(earliest - dt.timedelta(days=1)))


def _latest_on(rows, day: dt.date):
    """The row in force on ``day`` among one key's rows (None before the first)."""
    chosen = None
    for row in rows:
        if row.valid_from <= day and (chosen is None or row.valid_from > chosen.valid_from):
            chosen = row
    return chosen


def service_dimensions_in_force(session: Session, on: dt.date
                                ) -> dict[tuple[int, int], AccountingDimensions]:
    """(municipality id, service type id) → the dimensions in force on ``on``."""
    by_key: dict[tuple[int, int], list[AccountingDimensions]] = {}
    for row in session.execute(sa.select(AccountingDimensions).where(
            AccountingDimensions.municipality_id.is_not(None),
            AccountingDimensions.valid_from <= on)).scalars():
        by_key.setdefault((row.municipality_id, row.service_type_id), []).append(row)
    return {key: _latest_on(rows, on) for key, rows in by_key.items()}


def authority_dimensions_in_force(session: Session, on: dt.date
                                  ) -> dict[AuthorityAccount, AccountingDimensions]:
    by_key: dict[AuthorityAccount, list[AccountingDimensions]] = {}
    for row in session.execute(sa.select(AccountingDimensions).where(
            AccountingDimensions.authority_account.is_not(None),
            AccountingDimensions.valid_from <= on)).scalars():
        by_key.setdefault(row.authority_account, []).append(row)
    return {key: _latest_on(rows, on) for key, rows in by_key.items()}


def supplier_numbers_in_force(session: Session, on: dt.date, provider_ids=None
                              ) -> dict[int, str]:
    """Provider id → its supplier number in force on ``on``."""
    query = sa.select(SupplierNumber).where(SupplierNumber.valid_from <= on)
    if provider_ids is not None:
        query = query.where(SupplierNumber.provider_id.in_(sorted(set(provider_ids))))
    by_provider: dict[int, list[SupplierNumber]] = {}
    for row in session.execute(query).scalars():
        by_provider.setdefault(row.provider_id, []).append(row)
    return {key: _latest_on(rows, on).supplier_number for key, rows in by_provider.items()}


def service_history(session: Session, municipality_id: int, service_type_id: int
                    ) -> list[AccountingDimensions]:
    """Every value of a municipality × service type, newest first."""
    return list(session.execute(sa.select(AccountingDimensions).where(
        AccountingDimensions.municipality_id == municipality_id,
        AccountingDimensions.service_type_id == service_type_id)
        .order_by(AccountingDimensions.valid_from.desc())).scalars())


def authority_history(session: Session, account: AuthorityAccount
                      ) -> list[AccountingDimensions]:
    return list(session.execute(sa.select(AccountingDimensions).where(
        AccountingDimensions.authority_account == account)
        .order_by(AccountingDimensions.valid_from.desc())).scalars())


def supplier_history(session: Session, provider_id: int) -> list[SupplierNumber]:
    return list(session.execute(sa.select(SupplierNumber).where(
        SupplierNumber.provider_id == provider_id)
        .order_by(SupplierNumber.valid_from.desc())).scalars())


def set_service_dimensions(session: Session, *, actor: Actor, municipality: Municipality,
                           service_type: ServiceType, valid_from: dt.date,
                           **values) -> AccountingDimensions:
    """Post a municipality's vouchers of a service type to these dimensions from
    ``valid_from`` on (account and cost centre required)."""
    cleaned = _check_values(values, needs_cost_centre=True)
    _check_date(session, valid_from)
    history = service_history(session, municipality.id, service_type.id)
    return _add(session, actor, history, valid_from, cleaned,
                AccountingDimensions(municipality_id=municipality.id,
                                     service_type_id=service_type.id),
                key={"municipality": municipality.code, "service": service_type.code})


def set_authority_dimensions(session: Session, *, actor: Actor,
                             authority_account: AuthorityAccount, valid_from: dt.date,
                             **values) -> AccountingDimensions:
    """The dimensions of one of the authority's own accounts from ``valid_from`` on."""
    cleaned = _check_values(values, needs_cost_centre=False)
    _check_date(session, valid_from)
    history = authority_history(session, authority_account)
    return _add(session, actor, history, valid_from, cleaned,
                AccountingDimensions(authority_account=authority_account),
                key={"authority_account": authority_account.value})


def _add(session, actor, history, valid_from, cleaned, row, *, key) -> AccountingDimensions:
    if any(r.valid_from == valid_from for r in history):
        raise DimensionDateTaken(field="valid_from")
    before = _latest_on(history, valid_from)
    for name, value in cleaned.items():
        setattr(row, name, value)
    row.valid_from = valid_from
    row.created_by_user_id = actor.user_id
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except sa.exc.IntegrityError as exc:  # the same change saved at the same moment
        raise DimensionDateTaken(field="valid_from") from exc
    record_event(session, actor, "accounting.dimensions_set", "accounting_dimensions", row.id,
                 **key, valid_from=valid_from.isoformat(), after=cleaned,
                 before=before.values() if before else None)
    return row


def set_supplier_number(session: Session, *, actor: Actor, provider: Provider,
                        valid_from: dt.date, supplier_number: str | None) -> SupplierNumber:
    """The provider's supplier number in the purchase ledger from ``valid_from`` on."""
    number = _clean(supplier_number)
    if number is None:
        raise ValidationFailed({"supplier_number": str(_l("Enter the supplier number."))})
    if not _CODE.fullmatch(number):
        raise ValidationFailed({"supplier_number": str(_l(
            "Use 1–20 letters, digits, dots, hyphens, underscores or slashes, beginning with "
            "a letter or a digit."))})
    _check_date(session, valid_from)
    history = supplier_history(session, provider.id)
    if any(r.valid_from == valid_from for r in history):
        raise DimensionDateTaken(field="valid_from")
    before = _latest_on(history, valid_from)
    row = SupplierNumber(provider_id=provider.id, valid_from=valid_from,
                         supplier_number=number, created_by_user_id=actor.user_id)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except sa.exc.IntegrityError as exc:
        raise DimensionDateTaken(field="valid_from") from exc
    record_event(session, actor, "accounting.supplier_number_set", "provider", provider.id,
                 supplier_number_id=row.id, valid_from=valid_from.isoformat(), after=number,
                 before=before.supplier_number if before else None)
    return row


def _check_cancellable(session: Session, valid_from: dt.date) -> None:
    earliest = earliest_change_date(session)
    if valid_from <= clock.today() or (earliest is not None and valid_from < earliest):
        raise ChangeInForce()


def cancel_dimensions(session: Session, dimensions_id: int, *, actor: Actor
                      ) -> AccountingDimensions:
    """Remove a change of dimensions that has not taken effect yet."""
    row = session.get(AccountingDimensions, dimensions_id)
    if row is None:
        raise NotFound()
    _check_cancellable(session, row.valid_from)
    session.delete(row)
    session.flush()
    record_event(session, actor, "accounting.dimensions_cancelled", "accounting_dimensions",
                 dimensions_id, valid_from=row.valid_from.isoformat(), values=row.values(),
                 municipality_id=row.municipality_id, service_type_id=row.service_type_id,
                 authority_account=row.authority_account.value if row.authority_account
                 else None)
    return row


def cancel_supplier_number(session: Session, supplier_number_id: int, *, actor: Actor
                           ) -> SupplierNumber:
    row = session.get(SupplierNumber, supplier_number_id)
    if row is None:
        raise NotFound()
    _check_cancellable(session, row.valid_from)
    session.delete(row)
    session.flush()
    record_event(session, actor, "accounting.supplier_number_cancelled", "provider",
                 row.provider_id, supplier_number_id=supplier_number_id,
                 valid_from=row.valid_from.isoformat(), supplier_number=row.supplier_number)
    return row


def missing_for_settlement(session: Session, *, on: dt.date, pairs, provider_ids,
                           self_shares: bool, language: str | None = None) -> list[Missing]:
    """What a settlement on ``on`` lacks: dimensions of its municipality × service type pairs
    (municipality id, service type id), the bank account's (and, when self-shares are passed
    on, the clearing account's), and its providers' supplier numbers."""
    from voucher.accounting.labels import AUTHORITY_ACCOUNTS

    language = language or current_language()
    missing: list[Missing] = []
    in_force = service_dimensions_in_force(session, on)
    wanted = sorted(set(pairs) - set(in_force))
    if wanted:
        municipalities = {m.id: m for m in session.execute(sa.select(Municipality).where(
            Municipality.id.in_({m for m, _s in wanted}))).scalars()}
        services = {s.id: s for s in session.execute(sa.select(ServiceType).where(
            ServiceType.id.in_({s for _m, s in wanted}))).scalars()}
        for municipality_id, service_type_id in sorted(
                wanted, key=lambda k: (municipalities[k[0]].code, services[k[1]].code)):
            service = localized(services[service_type_id], "name", language)
            missing.append(Missing(
                "service", f"{municipalities[municipality_id].name(language)} – {service}"))
    authority = authority_dimensions_in_force(session, on)
    needed = [AuthorityAccount.BANK] + ([AuthorityAccount.SELF_SHARES] if self_shares else [])
    missing += [Missing("authority", str(AUTHORITY_ACCOUNTS[a])) for a in needed
                if a not in authority]
    numbers = supplier_numbers_in_force(session, on, provider_ids)
    lacking = sorted(set(provider_ids) - set(numbers))
    if lacking:
        for provider in session.execute(sa.select(Provider).where(Provider.id.in_(lacking))
                                        .order_by(Provider.legal_name)).scalars():
            missing.append(Missing("supplier", _("the supplier number of %(provider)s",
                                                 provider=provider.legal_name)))
    return missing


def refuse_if_missing(session: Session, **kwargs) -> None:
    """Raise DimensionsMissing naming everything a settlement on ``on`` lacks."""
    missing = missing_for_settlement(session, **kwargs)
    if missing:
        raise DimensionsMissing(day=format_date(kwargs["on"]),
                                missing="; ".join(m.describe() for m in missing))
