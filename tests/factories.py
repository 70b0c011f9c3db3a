"""Plain factory functions for test data, with sensible defaults. Each adds and flushes; the
test commits when a request must see the data."""

from __future__ import annotations

import datetime as dt
import itertools

import sqlalchemy as sa

from voucher import clock
from voucher.accounts.models import Role, User
from voucher.accounts.passwords import hash_password
from voucher.audit.services import Actor
from voucher.budgets.ledger import commit as commit_to_budget
from voucher.budgets.models import Budget
from voucher.catalogue.models import ServiceType, ServiceTypeRate, Unit
from voucher.clients.identity import protect_identity_code
from voucher.clients.models import Client
from voucher.municipalities.models import Municipality
from voucher.providers.models import (
    PriceStatus,
    Provider,
    ProviderLanguage,
    ProviderPrice,
    ProviderService,
    ProviderStatus,
    ServiceStatus,
)
from voucher.vouchers.decision_numbers import take_decision_numbers
from voucher.vouchers.models import (
    AssignmentStatus,
    Recurrence,
    ValueBasis,
    Voucher,
    VoucherAssignment,
    VoucherPeriod,
    VoucherStatus,
)
from voucher.vouchers.periods import commitment_by_year, plan_periods

PASSWORD = "correct horse battery"
RATES_FROM = dt.date(2026, 1, 1)
_sequence = itertools.count(1)


def municipality(db, code: str = "977", name: str = "Ylivieska", *,
                 dimensions: bool = True) -> Municipality:
    """A municipality, with accounting dimensions for every service type (unless not)."""
    found = db.execute(
        sa.select(Municipality).where(Municipality.code == code)).scalar_one_or_none()
    if found:
        return found
    row = Municipality(code=code, name_fi=name, name_sv=name)
    db.add(row)
    db.flush()
    if dimensions:
        for service in db.execute(sa.select(ServiceType)).scalars():
            accounting_dimensions(db, row, service)
    return row


_ACCOUNTANT = Actor.system("test")


def accounting_dimensions(db, home: Municipality, service: ServiceType, *,
                          valid_from: dt.date = RATES_FROM, account: str = "4360",
                          cost_centre: str | None = None, **values):
    """The dimensions a settlement posts a municipality × service type to (through the
    administrator's service), and the authority's own accounts when they are still missing."""
    from voucher.accounting import dimensions

    authority_dimensions(db)
    return dimensions.set_service_dimensions(
        db, actor=_ACCOUNTANT, municipality=home, service_type=service,
        valid_from=max(valid_from, dimensions.earliest_change_date(db) or valid_from),
        account=account, cost_centre=cost_centre or f"{home.code}-{service.code[:8]}",
        **values)


def authority_dimensions(db) -> None:
    """The bank account and the self-share clearing account, unless already there."""
    from voucher.accounting import dimensions
    from voucher.accounting.models import AuthorityAccount

    in_force = dimensions.authority_dimensions_in_force(db, dt.date(2100, 1, 1))
    for account, number in ((AuthorityAccount.BANK, "1910"),
                            (AuthorityAccount.SELF_SHARES, "2880")):
        if account not in in_force:
            dimensions.set_authority_dimensions(
                db, actor=_ACCOUNTANT, authority_account=account,
                valid_from=dimensions.earliest_change_date(db) or RATES_FROM, account=number)


def user(db, *, role: Role = Role.ADMIN, email: str | None = None, password: str = PASSWORD,
         language: str = "fi", municipalities=None, provider_id=None, client_id=None,
         display_name: str | None = None) -> User:
    n = next(_sequence)
    row = User(
        email=email or f"{role.value}{n}@example.fi", role=role,
        display_name=display_name or f"Test {role.value} {n}", language=language,
        password_hash=hash_password(password) if password else None,
        provider_id=provider_id, client_id=client_id,
    )
    if role == Role.CASE_MANAGER:
        row.municipalities = municipalities if municipalities is not None else [municipality(db)]
    db.add(row)
    db.flush()
    return row




def service_type(db, code: str = "HOME_CARE", *, value: int = 3200, cap: int | None = 4800,
                 unit: Unit = Unit.HOUR, income_related: bool = False,
                 free_for_client: bool = False, fractional_units: bool = True,
                 dimensions: bool = True) -> ServiceType:
    """A service type with a rate from the start of 2026 (value and cap in cents), and
    accounting dimensions in every municipality (unless not)."""
    found = db.execute(sa.select(ServiceType).where(ServiceType.code == code)).scalar_one_or_none()
    if found:
        return found
    row = ServiceType(code=code, name_fi=f"{code} fi", name_sv=f"{code} sv", name_en=f"{code} en",
                      unit=unit, income_related=income_related, free_for_client=free_for_client,
                      fractional_units=fractional_units)
    db.add(row)
    db.flush()
    db.add(ServiceTypeRate(service_type_id=row.id, valid_from=RATES_FROM, unit_value_cents=value,
                           price_cap_cents=cap))
    db.flush()
    if dimensions:
        for home in db.execute(sa.select(Municipality)).scalars():
            accounting_dimensions(db, home, row)
    return row


def _business_id(n: int) -> str:
    # Bases 2000000–8999999 from n; when a base has no valid check digit, a base of n's own in
    # 9000000–9299999 (never another n's, so IDs stay unique).
    for base in [f"{2000000 + n * 7919 % 7000000:07d}",
                 *(f"{9000000 + n * 3 + k:07d}" for k in range(3))]:
        remainder = sum(int(d) * w for d, w in zip(base, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        if remainder != 1:
            return f"{base}-{0 if remainder == 0 else 11 - remainder}"
    raise AssertionError("unreachable: three consecutive bases cannot all have remainder 1")


def provider(db, *, services: dict | None = None, status: ProviderStatus = ProviderStatus.APPROVED,
             municipalities=None, languages=("fi",), name: str | None = None,
             supplier_number: str | None = "auto") -> Provider:
    """A provider; ``services`` maps ServiceType (or code) to an approved unit price in cents;
    with a supplier number in the purchase ledger from 2026 (None: without)."""
    n = next(_sequence)
    row = Provider(business_id=_business_id(n), legal_name=name or f"Testipalvelu {n} Oy",
                   email=f"provider{n}@example.fi", iban="FI2112345600000785", bic="NDEAFIHH",
                   contact_person="Test Person", phone="+358 40 000 0000", status=status,
                   street_address="Katu 1", postal_code="84100", city="Ylivieska")
    row.languages = [ProviderLanguage(language=code) for code in languages]
    row.municipalities = list(municipalities) if municipalities is not None else [municipality(db)]
    db.add(row)
    db.flush()
    for key, price in (services or {}).items():
        offered = key if isinstance(key, ServiceType) else service_type(db, key)
        approved = status in (ProviderStatus.APPROVED, ProviderStatus.SUSPENDED)
        offer = ProviderService(provider_id=row.id, service_type_id=offered.id,
                                criteria_confirmed=True,
                                status=ServiceStatus.APPROVED if approved else ServiceStatus.DRAFT,
                                current_price_cents=price if approved else None)
        db.add(offer)
        db.flush()
        db.add(ProviderPrice(provider_service_id=offer.id, unit_price_cents=price,
                             valid_from=RATES_FROM,
                             status=PriceStatus.APPROVED if approved else PriceStatus.PENDING))
    db.flush()
    if supplier_number is not None:
        from voucher.accounting.dimensions import earliest_change_date, set_supplier_number

        set_supplier_number(db, actor=_ACCOUNTANT, provider=row,
                            valid_from=earliest_change_date(db) or RATES_FROM,
                            supplier_number=f"S{n:05d}" if supplier_number == "auto"
                            else supplier_number)
    return row


_HETU_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def identity_code(n: int | None = None) -> str:
    """A valid, fictitious henkilötunnus (individual number 900–999)."""
    n = next(_sequence) if n is None else n
    day, month, year = 1 + n % 28, 1 + (n // 28) % 12, 40 + n % 50
    individual = 900 + n % 100
    digits = f"{day:02d}{month:02d}{year:02d}{individual:03d}"
    return f"{digits[:6]}-{digits[6:]}{_HETU_CHARS[int(digits) % 31]}"


def client(db, *, home=None, first_name: str = "Testi", last_name: str | None = None,
           language: str = "fi", household_size: int | None = 1,
           income_cents: int | None = 150000, code: str | None = None) -> Client:
    protected = protect_identity_code(code or identity_code())
    row = Client(identity_code_encrypted=protected.encrypted, identity_code_index=protected.index,
                 identity_code_masked=protected.masked, first_name=first_name,
                 last_name=last_name or f"Asiakas{next(_sequence)}",
                 municipality_id=(home or municipality(db)).id, language=language,
                 household_size=household_size, gross_monthly_income_cents=income_cents,
                 email=f"client{next(_sequence)}@example.fi")
    db.add(row)
    db.flush()
    return row


def budget(db, *, home=None, service=None, year: int = 2026,
           amount_cents: int = 10_000_000) -> Budget:
    row = Budget(municipality_id=(home or municipality(db)).id,
                 service_type_id=(service or service_type(db)).id, year=year,
                 amount_cents=amount_cents)
    db.add(row)
    db.flush()
    return row


def voucher(db, *, holder: Client | None = None, service: ServiceType | None = None,
            assigned_to: Provider | None = None, unit_value_cents: int = 3200,
            units: int = 1000, recurrence: Recurrence = Recurrence.TOTAL,
            valid_from: dt.date = dt.date(2026, 11, 1),
            valid_until: dt.date = dt.date(2026, 12, 31),
            status: VoucherStatus | None = None, budget_cents: int = 10_000_000,
            value_basis: ValueBasis = ValueBasis.FIXED, creator=None) -> Voucher:
    """An issued voucher (assigned when ``assigned_to`` is given) with its periods, committed
    against the budgets of its years (created when missing). ``units`` are hundredths per
    period."""
    service = service or service_type(db)
    holder = holder or client(db)
    creator = creator or user(db, role=Role.CASE_MANAGER)
    periods = plan_periods(recurrence, units, valid_from, valid_until)
    granted = sum(p.units for p in periods)
    if status is None:
        status = VoucherStatus.ASSIGNED if assigned_to else VoucherStatus.ISSUED
    n = next(_sequence)
    row = Voucher(code=f"TEST{n:04d}ABCDEFGHJKMNPQ", confirmation_code=f"C{n:05d}",
                  client_id=holder.id, service_type_id=service.id,
                  municipality_id=holder.municipality_id, value_basis=value_basis,
                  unit_value_cents=unit_value_cents, recurrence=recurrence,
                  units_per_period=units, units_granted=granted, valid_from=valid_from,
                  valid_until=valid_until, status=status, need_assessment="Test need.",
                  provider_id=assigned_to.id if assigned_to else None,
                  created_by_user_id=creator.id, issued_at=clock.now(),
                  decision_number=take_decision_numbers(db, clock.now())[0])
    row.periods = [VoucherPeriod(starts_on=p.starts_on, ends_on=p.ends_on,
                                 units_granted=p.units) for p in periods]
    db.add(row)
    db.flush()
    for year, cents in commitment_by_year(periods, unit_value_cents).items():
        target = db.execute(sa.select(Budget).where(
            Budget.municipality_id == holder.municipality_id,
            Budget.service_type_id == service.id, Budget.year == year)).scalar_one_or_none()
        target = target or budget(db, home=db.get(Municipality, holder.municipality_id),
                                  service=service, year=year, amount_cents=budget_cents)
        commit_to_budget(db, target, cents, voucher_id=row.id)
        row.committed_cents += cents
    if assigned_to:
        db.add(VoucherAssignment(voucher_id=row.id, provider_id=assigned_to.id,
                                 status=AssignmentStatus.ACCEPTED, chosen_via="client"))
    db.flush()
    return row



def income_table(db, *, service=None, valid_from: dt.date = RATES_FROM,
                 minimum_value_cents: int = 800,
                 rows=((1, 100_000, 150), (2, 150_000, 120), (3, 190_000, 100))):
    """An income table; ``rows`` are (household size, income limit cents, basis points)."""
    from voucher.catalogue.models import IncomeTable, IncomeTableRow

    service = service or service_type(db, "HOME_CARE_INCOME", income_related=True)
    table = IncomeTable(service_type_id=service.id, valid_from=valid_from,
                        minimum_value_cents=minimum_value_cents)
    table.rows = [IncomeTableRow(household_size=size, income_limit_cents=limit,
                                 reduction_basis_points=points) for size, limit, points in rows]
    db.add(table)
    db.flush()
    return table


def redemption(db, voucher: Voucher, *, day: dt.date | None = None, units: int = 100,
               price_cents: int | None = None, corrects=None):
    """A recorded service event on an assigned voucher: units taken with ``take_units``, the
    price (default: the provider's approved price, else the unit value) split into voucher share
    and self-share. ``corrects`` (an invoiced event) makes its correction instead: negative
    units and amounts, the units given back."""
    from voucher.money import split_payment
    from voucher.providers.pricing import approved_price_for
    from voucher.redemptions.models import ClientShareStatus, Redemption
    from voucher.vouchers.units import give_back_units, take_units

    if corrects is not None:
        give_back_units(db, voucher, corrects.voucher_period_id, corrects.units)
        row = Redemption(
            voucher_id=voucher.id, provider_id=corrects.provider_id,
            voucher_period_id=corrects.voucher_period_id, service_date=corrects.service_date,
            units=-corrects.units, unit_price_cents=corrects.unit_price_cents,
            unit_value_cents=corrects.unit_value_cents,
            voucher_pays_cents=-corrects.voucher_pays_cents,
            client_pays_cents=-corrects.client_pays_cents, corrects_id=corrects.id,
            source="portal")
    else:
        day = day or voucher.valid_from
        price = price_cents or approved_price_for(db, voucher.provider_id,
                                                  voucher.service_type_id, day)
        price = voucher.unit_value_cents if price is None else price
        period = take_units(db, voucher, day, units)
        voucher_pays, client_pays = split_payment(units, price, voucher.unit_value_cents)
        row = Redemption(
            voucher_id=voucher.id, provider_id=voucher.provider_id, voucher_period_id=period.id,
            service_date=day, units=units, unit_price_cents=price,
            unit_value_cents=voucher.unit_value_cents, voucher_pays_cents=voucher_pays,
            client_pays_cents=client_pays, source="portal",
            client_share_status=ClientShareStatus.DUE if client_pays else None)
    db.add(row)
    db.flush()
    return row


# --- Service events, invoices, API tokens, feedback (redemptions issue) ---


def api_token(db, seller: Provider, *, name: str = "Test system") -> str:
    """A new API token of the provider (the secret itself)."""
    from voucher.api.tokens import create_token
    from voucher.audit.services import Actor

    _row, token = create_token(db, provider_id=seller.id, name=name,
                               actor=Actor.system("test"))
    return token


def service_event(db, voucher_row: Voucher, *, service_date: dt.date = dt.date(2026, 11, 2),
               units: int = 100, unit_price_cents: int | None = None,
               caregiver_ref: str | None = None, source: str = "portal"):
    """A service event recorded through the service (units taken from the voucher)."""
    from voucher.audit.services import Actor
    from voucher.redemptions.services import EventInput, record_redemption

    return record_redemption(
        db, voucher=voucher_row,
        event=EventInput(service_date=service_date, units=units,
                         unit_price_cents=unit_price_cents, caregiver_ref=caregiver_ref),
        source=source, actor=Actor.system("test"))


def monthly_invoice(db, seller: Provider, *, period: dt.date = dt.date(2026, 10, 1)):
    """The provider's invoice of a closed month (its recorded events must exist)."""
    from voucher.audit.services import Actor
    from voucher.invoicing.services import create_invoice

    return create_invoice(db, provider_id=seller.id, period=period, actor=Actor.system("test"))


def invoice(db, provider: Provider, events: list, *, status=None, period: dt.date | None = None,
            approved_at: dt.datetime | None = None):
    """An invoice of the provider's service events (default: approved) with one line per event,
    its number from the gap-free sequence. The events of a sent invoice become ``invoiced``."""
    from voucher.invoicing.models import (
        Invoice,
        InvoiceLine,
        InvoiceNumberSequence,
        InvoiceStatus,
    )
    from voucher.invoicing.reference import reference_for_invoice
    from voucher.redemptions.models import RedemptionStatus

    status = status or InvoiceStatus.APPROVED
    sequence = db.get(InvoiceNumberSequence, 1)
    sequence.last_number += 1
    number = sequence.last_number
    first = events[0].service_date if events else clock.today()
    decided = status in (InvoiceStatus.APPROVED, InvoiceStatus.REJECTED, InvoiceStatus.PAID)
    row = Invoice(
        number=number, provider_id=provider.id, period=period or first.replace(day=1),
        status=status, business_id=provider.business_id, provider_name=provider.legal_name,
        iban=provider.iban, bic=provider.bic, reference=reference_for_invoice(number),
        voucher_total_cents=sum(e.voucher_pays_cents for e in events),
        client_total_cents=sum(e.client_pays_cents for e in events), line_count=len(events),
        decided_at=(approved_at or clock.now()) if decided else None)
    row.lines = [InvoiceLine(redemption_id=e.id, voucher_code=e.voucher.code,
                             service_date=e.service_date, units=e.units,
                             unit_price_cents=e.unit_price_cents,
                             voucher_pays_cents=e.voucher_pays_cents,
                             client_pays_cents=e.client_pays_cents) for e in events]
    if status != InvoiceStatus.REJECTED:
        for event in events:
            event.status = RedemptionStatus.INVOICED
    db.add(row)
    db.flush()
    return row
