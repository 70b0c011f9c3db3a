"""Demo history, part 1: the history's clients and their vouchers, committed against budgets.

Fictitious people only: identity codes use the individual numbers 900–999, which are never
given to real persons. Everything is drawn from a seeded random generator, so the demo is the
same every time it is loaded on the same day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.budgets import ledger
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.catalogue.models import ServiceType
from voucher.clients.identity import protect_identity_code
from voucher.clients.models import Client
from voucher.municipalities.models import Municipality
from voucher.providers.listing import find_listed
from voucher.vouchers.decision_numbers import take_decision_numbers
from voucher.vouchers.models import (
    AssignmentStatus,
    Recurrence,
    ValueBasis,
    Voucher,
    VoucherAssignment,
    VoucherPeriod,
    VoucherPolicy,
    VoucherStatus,
)
from voucher.vouchers.periods import commitment_by_year, plan_periods

#: Voucher codes of the history start with this; the step runs once.
MARK = "HIST"
CLIENTS = {"977": 60, "535": 45, "746": 22, "009": 13}
FIRST_NAMES = ["Aila", "Aino", "Anja", "Eero", "Eila", "Elsa", "Erkki", "Esko", "Hilkka",
               "Irja", "Jorma", "Kaarina", "Kalevi", "Kerttu", "Lahja", "Leena", "Martti",
               "Matti", "Mirja", "Orvokki", "Paavo", "Pentti", "Pirkko", "Raili", "Raimo",
               "Reino", "Seppo", "Sirkka", "Tauno", "Terttu", "Toivo", "Tuula", "Unto", "Vieno"]
LAST_NAMES = ["Alatalo", "Haapala", "Hautala", "Heikkilä", "Hietala", "Honkala", "Isola",
              "Jokela", "Kangas", "Kauppila", "Kinnunen", "Koskela", "Kujala", "Lahti",
              "Lehtola", "Leinonen", "Mattila", "Niemelä", "Ojala", "Pahkala", "Pelkonen",
              "Rahkola", "Rautio", "Saarela", "Salmela", "Sorvisto", "Tuomela", "Vähäsarja"]
_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


@dataclass(frozen=True)
class Kind:
    """How vouchers of a service type look in the history."""

    code: str
    weight: int
    recurrence: Recurrence
    units: tuple[int, ...]  # per month (monthly) or in all (total), hundredths
    months: tuple[int, ...]  # validity
    values: tuple[int, ...]  # unit values; () = the price cap (free for the client)
    basis: ValueBasis
    visit: int  # units of one service event


KINDS = [
    Kind("HOME_CARE", 45, Recurrence.MONTHLY, (600, 800, 1000, 1200, 1600), (6, 12),
         (3200, 3200, 2950, 2700, 2450), ValueBasis.INCOME_RELATED, 100),
    Kind("CLEANING", 30, Recurrence.MONTHLY, (300, 400), (6, 12), (2500,), ValueBasis.FIXED,
         150),
    Kind("CAREGIVER_RELIEF", 15, Recurrence.MONTHLY, (200, 300), (12,), (12000,),
         ValueBasis.FIXED, 100),
    Kind("FAMILY_HOME_HELP", 10, Recurrence.TOTAL, (2000, 3000, 4000), (3,), (),
         ValueBasis.FREE_FOR_CLIENT, 200),
]


@dataclass
class Period:
    id: int
    starts_on: dt.date
    ends_on: dt.date
    units_granted: int


@dataclass
class HistoryVoucher:
    """A history voucher as plain data (rows are written in bulk, not through the ORM)."""

    id: int
    kind: Kind
    row: dict
    offer_id: int
    #: Share of the granted units the client uses, in per cent.
    usage: int
    periods: list[Period] = field(default_factory=list)
    status: VoucherStatus = VoucherStatus.ASSIGNED
    #: Units taken so far per period id (written to the database at the end, in bulk).
    used: dict[int, int] = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["row"][name]
        except KeyError:
            raise AttributeError(name) from None

    def remaining(self, period: Period) -> int:
        return period.units_granted - self.used.get(period.id, 0)

    @property
    def units_used(self) -> int:
        return sum(self.used.values())


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _identity_code(rng: random.Random, young: bool) -> str:
    born = dt.date(rng.randint(1982, 1996) if young else rng.randint(1930, 1958),
                   rng.randint(1, 12), rng.randint(1, 28))
    digits = f"{born:%d%m%y}{rng.randint(900, 999):03d}"
    return f"{digits[:6]}-{digits[6:]}{_CHECK[int(digits) % 31]}"


def create_clients(session: Session, municipalities: dict[str, Municipality],
                   rng: random.Random) -> list[tuple[Client, Kind]]:
    """The history's clients, each with the kind of voucher they will get."""
    taken = set(session.execute(sa.select(Client.identity_code_index)).scalars())
    planned = []
    for code, count in CLIENTS.items():
        for _n in range(count):
            kind = rng.choices(KINDS, weights=[k.weight for k in KINDS])[0]
            protected = protect_identity_code(
                _identity_code(rng, young=kind.code == "FAMILY_HOME_HELP"))
            if protected.index in taken:
                continue
            taken.add(protected.index)
            home = municipalities[code]
            planned.append((Client(
                identity_code_encrypted=protected.encrypted, identity_code_index=protected.index,
                identity_code_masked=protected.masked, first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES), municipality_id=home.id,
                language="sv" if rng.random() < 0.05 else "fi", city=home.name_fi,
                household_size=rng.choice((1, 1, 2)),
                gross_monthly_income_cents=rng.randrange(110_000, 260_000, 500)), kind))
    session.add_all([client for client, _kind in planned])
    session.flush()
    return planned


def issue_vouchers(session: Session, clients: list[tuple[Client, Kind]],
                   service_types: dict[str, ServiceType], months: list[dt.date],
                   rng: random.Random, *, issuer_id: int, approver_id: int
                   ) -> list[HistoryVoucher]:
    """One assigned voucher per client (a provider that serves the client's municipality),
    committed against budgets that are created, or raised, to fit."""
    threshold = session.get(VoucherPolicy, 1).four_eyes_threshold_cents
    offers = {(service.id, municipality_id): find_listed(
        session, service_type_id=service.id, municipality_id=municipality_id)[0]
        for service in service_types.values()
        for municipality_id in {client.municipality_id for client, _kind in clients}}
    planned = []
    for n, (client, kind) in enumerate(clients, start=1):
        service = service_types[kind.code]
        if not offers[(service.id, client.municipality_id)]:
            continue
        listing = rng.choice(offers[(service.id, client.municipality_id)])
        starts = rng.choice(months[:-1])
        ends = add_months(starts, rng.choice(kind.months)) - dt.timedelta(days=1)
        value = rng.choice(kind.values) if kind.values else service.rates[-1].price_cap_cents
        plans = plan_periods(kind.recurrence, rng.choice(kind.units), starts, ends)
        shares = commitment_by_year(plans, value)
        issued_at = clock.start_of_day(starts - dt.timedelta(days=rng.randint(3, 12)))
        row = dict(
            code=f"{MARK}-{n:04d}-{rng.randrange(16**6):06X}", confirmation_code=f"H{n:05d}",
            client_id=client.id, service_type_id=service.id,
            municipality_id=client.municipality_id, value_basis=kind.basis,
            unit_value_cents=value, recurrence=kind.recurrence, calculation={},
            units_per_period=plans[0].units, units_granted=sum(p.units for p in plans),
            units_used=0, valid_from=starts, valid_until=ends, status=VoucherStatus.ASSIGNED,
            committed_cents=sum(shares.values()),
            need_assessment="Palvelutarpeen arvio tehty kotikäynnillä; tarve jatkuu.",
            provider_id=listing.provider.id, created_by_user_id=issuer_id,
            approved_by_user_id=approver_id if sum(shares.values()) > threshold else None,
            created_at=issued_at, issued_at=issued_at)
        planned.append((row, plans, shares, kind, listing.offer.id, rng.randint(60, 100)))
    _number_decisions(session, [p[0] for p in planned])
    ids = session.execute(sa.insert(Voucher).returning(Voucher.id, sort_by_parameter_order=True),
                          [p[0] for p in planned]).scalars().all()
    period_rows = [{"voucher_id": voucher_id, "starts_on": plan.starts_on,
                    "ends_on": plan.ends_on, "units_granted": plan.units, "units_used": 0}
                   for voucher_id, p in zip(ids, planned, strict=True) for plan in p[1]]
    period_ids = iter(session.execute(
        sa.insert(VoucherPeriod).returning(VoucherPeriod.id, sort_by_parameter_order=True),
        period_rows).scalars().all())
    session.execute(sa.insert(VoucherAssignment).returning(VoucherAssignment.id), [
        {"voucher_id": voucher_id, "provider_id": p[0]["provider_id"],
         "status": AssignmentStatus.ACCEPTED, "chosen_via": "client",
         "chosen_at": p[0]["issued_at"], "responded_at": p[0]["issued_at"]}
        for voucher_id, p in zip(ids, planned, strict=True)])
    issued = [HistoryVoucher(voucher_id, kind, row, offer_id, usage, [
        Period(next(period_ids), plan.starts_on, plan.ends_on, plan.units) for plan in plans])
        for voucher_id, (row, plans, _shares, kind, offer_id, usage)
        in zip(ids, planned, strict=True)]
    _commit(session, [(v, p[2]) for v, p in zip(issued, planned, strict=True)])
    return issued


def _number_decisions(session: Session, rows: list[dict]) -> None:
    """Decision numbers for the history's vouchers, in the order they were issued."""
    for row in sorted(rows, key=lambda r: r["issued_at"]):
        row["decision_number"] = take_decision_numbers(session, row["issued_at"])[0]


def _commit(session: Session, shares: list[tuple[HistoryVoucher, dict[int, int]]]) -> None:
    """Commit each voucher's yearly shares: budgets created (or raised) with a quarter to
    spare, entries written in bulk, the budgets' totals from them."""
    needed: dict[tuple, int] = {}
    for voucher, by_year in shares:
        for year, cents in by_year.items():
            key = (voucher.municipality_id, voucher.service_type_id, year)
            needed[key] = needed.get(key, 0) + cents
    budgets = {}
    for (municipality_id, service_type_id, year), cents in sorted(needed.items()):
        budget = ledger.find_budget(session, municipality_id, service_type_id, year)
        room = -(-cents * 5 // 4 // 1_000_000) * 1_000_000  # a quarter to spare, whole 10 000 €
        if budget is None:
            budget = Budget(municipality_id=municipality_id, service_type_id=service_type_id,
                            year=year, amount_cents=room,
                            created_at=min(clock.now(),
                                           clock.start_of_day(dt.date(year - 1, 12, 1))))
            session.add(budget)
        elif budget.free_cents < cents:
            budget.amount_cents += room
        budgets[(municipality_id, service_type_id, year)] = budget
    session.flush()
    session.execute(sa.insert(BudgetEntry).returning(BudgetEntry.id), [
        {"budget_id": budgets[(voucher.municipality_id, voucher.service_type_id, year)].id,
         "kind": EntryKind.COMMIT, "amount_cents": cents, "voucher_id": voucher.id,
         "reason": "issued", "created_at": voucher.issued_at,
         "created_by_user_id": voucher.created_by_user_id}
        for voucher, by_year in shares for year, cents in by_year.items()])
    # The running totals from the entries; the budgets' check constraints stand guard.
    for key, budget in budgets.items():
        budget.committed_cents += needed[key]
    session.flush()
