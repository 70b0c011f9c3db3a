"""Demo step: vouchers in the demo provider's use, a month of service events with feedback, and
an invoice waiting for the administrator.

Dates follow the clock: the home-care voucher is valid from the start of the month before last
until three months ahead, so that the demo provider (provider@example.fi) can record services
in last month and invoice it. The cleaning voucher has service events in the month before last,
rated by the client, and that month's invoice waits for the administrator's decision.
Idempotent: the vouchers are found by their codes.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.audit.services import Actor
from voucher.budgets.ledger import commit, find_budget
from voucher.budgets.models import Budget
from voucher.catalogue.models import ServiceType
from voucher.catalogue.rates import rate_on
from voucher.clients.models import Client
from voucher.demo.providers import DEMO_PROVIDER_BUSINESS_ID
from voucher.feedback.models import Feedback
from voucher.invoicing.services import create_invoice
from voucher.providers.models import Provider
from voucher.redemptions.services import EventInput, record_redemption
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

#: The home-care voucher's code is also the example in the API description.
HOME_CARE_CODE = "K7QM-4TXR-9PWA-HB3E"
CLEANING_CODE = "P3WX-8KNM-2RTA-CV6J"
#: Yearly budgets created for the demo municipality when none exist yet (cents).
BUDGETS = {"HOME_CARE": 25_000_000, "CLEANING": 8_000_000}
ACTOR = Actor.system("demo")
#: (day of the month, hours, caregiver, score, comment) of the cleaning visits.
CLEANING_VISITS = [
    (3, 300, "AK-12", 9, "Siisti jälki ja ystävällinen siivooja."),
    (7, 200, "AK-12", 10, None),
    (10, 300, "AK-07", 8, "Ikkunat jäivät pesemättä, muuten hyvä."),
    (14, 200, "AK-12", 9, None),
    (17, 300, "AK-12", 7, "Tuli puoli tuntia myöhässä."),
    (21, 250, "AK-07", 10, "Kiitos!"),
]


def _month_start(day: dt.date, months_back: int) -> dt.date:
    month = day.replace(day=1)
    for _i in range(months_back):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month


def _month_end(day: dt.date, months_ahead: int) -> dt.date:
    month = day.replace(day=1)
    for _i in range(months_ahead + 1):
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return month - dt.timedelta(days=1)


def _budget(session: Session, client: Client, service: ServiceType, year: int) -> Budget:
    budget = find_budget(session, client.municipality_id, service.id, year)
    if budget is None:
        budget = Budget(municipality_id=client.municipality_id, service_type_id=service.id,
                        year=year, amount_cents=BUDGETS[service.code])
        session.add(budget)
        session.flush()
    return budget


def _voucher(session: Session, *, code: str, client: Client, service: ServiceType,
             provider: Provider, units: int, valid_from: dt.date, valid_until: dt.date,
             value_basis: ValueBasis, unit_value_cents: int, issuer: User) -> Voucher:
    """An issued voucher, committed against its budgets, accepted by the provider."""
    periods = plan_periods(Recurrence.TOTAL, units, valid_from, valid_until)
    voucher = Voucher(
        code=code, confirmation_code=code[-4:] + "21", client_id=client.id,
        service_type_id=service.id, municipality_id=client.municipality_id,
        value_basis=value_basis, unit_value_cents=unit_value_cents,
        calculation={"demo": True}, recurrence=Recurrence.TOTAL, units_per_period=units,
        units_granted=units, valid_from=valid_from, valid_until=valid_until,
        status=VoucherStatus.ASSIGNED, provider_id=provider.id, created_by_user_id=issuer.id,
        need_assessment="Asiakas tarvitsee apua arjen askareisiin kotona selviytyäkseen.",
        issued_at=clock.now(), decision_number=take_decision_numbers(session, clock.now())[0])
    voucher.periods = [VoucherPeriod(starts_on=p.starts_on, ends_on=p.ends_on,
                                     units_granted=p.units) for p in periods]
    session.add(voucher)
    session.flush()
    for year, cents in commitment_by_year(periods, unit_value_cents).items():
        commit(session, _budget(session, client, service, year), cents, voucher_id=voucher.id)
        voucher.committed_cents += cents
    session.add(VoucherAssignment(voucher_id=voucher.id, provider_id=provider.id,
                                  status=AssignmentStatus.ACCEPTED, chosen_via="client",
                                  responded_at=clock.now()))
    session.flush()
    return voucher


def load_service_events(session: Session) -> None:
    """The demo provider's vouchers, events, feedback and invoice (once)."""
    if session.execute(sa.select(Voucher.id).where(Voucher.code == HOME_CARE_CODE)).first():
        return
    provider = session.execute(sa.select(Provider).where(
        Provider.business_id == DEMO_PROVIDER_BUSINESS_ID)).scalar_one()
    users = {u.email: u for u in session.execute(sa.select(User)).scalars()}
    client = session.get(Client, users["client@example.fi"].client_id)
    # Aino's home care comes from the vouchers step; this fresh home-care voucher (no events
    # yet, for recording in the portal and through the API) is Matti Niemi's.
    home_care_client = session.execute(sa.select(Client).where(
        Client.first_name == "Matti", Client.last_name == "Niemi")).scalars().first() or client
    services = {s.code: s for s in session.execute(sa.select(ServiceType)).scalars()}
    today = clock.today()
    issuer = users["casemanager@example.fi"]
    last_but_one = _month_start(today, 2)
    _voucher(session, code=HOME_CARE_CODE, client=home_care_client, service=services["HOME_CARE"],
             provider=provider, units=4000, valid_from=_month_start(today, 1),
             valid_until=_month_end(today, 3), value_basis=ValueBasis.INCOME_RELATED,
             unit_value_cents=2900, issuer=issuer)
    cleaning = _voucher(
        session, code=CLEANING_CODE, client=client, service=services["CLEANING"],
        provider=provider, units=3000, valid_from=last_but_one,
        valid_until=_month_end(today, 3), value_basis=ValueBasis.FIXED,
        unit_value_cents=rate_on(session, services["CLEANING"].id, last_but_one)
        .unit_value_cents, issuer=issuer)
    for day, hours, carer, score, comment in CLEANING_VISITS:
        event = record_redemption(
            session, voucher=cleaning, source="portal", actor=ACTOR,
            event=EventInput(service_date=last_but_one.replace(day=day), units=hours,
                             caregiver_ref=carer))
        session.add(Feedback(redemption_id=event.id, provider_id=provider.id,
                             client_id=client.id, score=score, comment=comment))
    create_invoice(session, provider_id=provider.id, period=last_but_one, actor=ACTOR)
    session.flush()
