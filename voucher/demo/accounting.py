"""Demo step: the accounting dimensions Kallio posts to, entered through the administrator's
services from the start of 2026 (before the history is settled): per municipality × service
type a ledger account (one per service), a cost centre (per municipality and service) and the
VAT code of exempt social services; the bank and the self-share clearing account; a supplier
number for every approved (or once approved) provider."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.accounting import dimensions
from voucher.accounting.models import AccountingDimensions, AuthorityAccount, SupplierNumber
from voucher.audit.services import Actor
from voucher.catalogue.models import ServiceType
from voucher.municipalities.models import Municipality
from voucher.providers.models import Provider, ProviderStatus

DIMENSIONS_FROM = dt.date(2026, 1, 1)
#: The purchase account of each service (Finnish municipal chart: 43xx purchases of customer
#: services from private providers) and its digit in the cost centre.
ACCOUNTS = {"HOME_CARE": ("4341", "1"), "CLEANING": ("4342", "2"),
            "CAREGIVER_RELIEF": ("4343", "3"), "FAMILY_HOME_HELP": ("4344", "4")}
AUTHORITY = {AuthorityAccount.BANK: "1910", AuthorityAccount.SELF_SHARES: "2881"}
#: Exempt social services (VAT Act § 37): the ERP's code of "0 %, exempt".
VAT_CODE = "ALV0"


def load_dimensions(session: Session, municipalities: dict[str, Municipality],
                    service_types: dict[str, ServiceType],
                    providers: dict[str, Provider]) -> None:
    """Every key that has no value yet gets one from 1 January 2026 (idempotent)."""
    actor = Actor.system("demo")
    have = {(row.municipality_id, row.service_type_id) for row in session.execute(
        sa.select(AccountingDimensions)).scalars() if row.municipality_id}
    for code, municipality in sorted(municipalities.items()):
        for service_code, service in sorted(service_types.items()):
            if (municipality.id, service.id) in have:
                continue
            account, digit = ACCOUNTS.get(service_code, ("4349", "9"))
            dimensions.set_service_dimensions(
                session, actor=actor, municipality=municipality, service_type=service,
                valid_from=DIMENSIONS_FROM, account=account, cost_centre=f"3{code}{digit}",
                vat_code=VAT_CODE,
                project="PERHE26" if service_code == "FAMILY_HOME_HELP" else None)
    in_force = dimensions.authority_dimensions_in_force(session, dt.date(2100, 1, 1))
    for key, account in AUTHORITY.items():
        if key not in in_force:
            dimensions.set_authority_dimensions(session, actor=actor, authority_account=key,
                                                valid_from=DIMENSIONS_FROM, account=account)
    numbered = set(session.execute(sa.select(SupplierNumber.provider_id)).scalars())
    paid = (ProviderStatus.APPROVED, ProviderStatus.SUSPENDED, ProviderStatus.REVOKED)
    for n, provider in enumerate(sorted(providers.values(), key=lambda p: p.business_id), 1):
        if provider.status in paid and provider.id not in numbered:
            dimensions.set_supplier_number(session, actor=actor, provider=provider,
                                           valid_from=DIMENSIONS_FROM,
                                           supplier_number=f"{20000 + n}")
    session.flush()
