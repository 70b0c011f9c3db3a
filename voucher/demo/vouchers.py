"""Demo step: clients and vouchers in every state, made with the real services (so the budget
ledgers, assignments and audit trail are as they would be).

- Aino Virtanen (client@example.fi): home care, income-related, 8 h a month, in use with the
  demo provider, with services recorded.
- Helmi Korhonen: home care above the four-eyes limit, made by casemanager@example.fi and
  waiting for casemanager2@example.fi's approval.
- Eino Mäkelä: cleaning help, the demo provider asked on his behalf (a request to answer), and
  a draft for caregiver's relief.
- Matti Niemi (no e-mail, never logs in): cleaning help issued, letter by post; and an expired
  one with some services used.
- Lars Sjöberg (Swedish): cleaning help used up.
- Sanna Laine: family home help (free for the client), cancelled when the family moved.

Dates are relative to today, so the demo stays current; each voucher is found by its client and
need assessment before anything is made.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.audit.services import Actor
from voucher.catalogue.models import ServiceType
from voucher.clients.identity import identity_code_index
from voucher.clients.models import Client
from voucher.clients.services import ClientDetails, register_client
from voucher.demo.budgets import demo_years
from voucher.money import split_payment
from voucher.municipalities.models import Municipality
from voucher.providers.models import Provider
from voucher.providers.pricing import approved_price_for
from voucher.redemptions.models import ClientShareStatus, Redemption
from voucher.reviews.models import ReviewChannel
from voucher.reviews.services import file_request
from voucher.vouchers import choice, issuing, lifecycle
from voucher.vouchers.models import Recurrence, Voucher
from voucher.vouchers.units import take_units

KUURA = "Siivouspalvelu Kuura Oy"

#: More fictitious clients (individual numbers 900–999 are never given to real people).
CLIENTS = [
    dict(identity_code="120541-9212", first_name="Helmi", last_name="Korhonen",
         municipality="977", language="fi", email="helmi.korhonen@example.fi",
         phone="+358 40 555 0102", street_address="Ouluntie 14 B 7", postal_code="84100",
         city="Ylivieska", household_size=2, gross_monthly_income_cents=248_040),
    dict(identity_code="030738-934H", first_name="Eino", last_name="Mäkelä", municipality="535",
         language="fi", email="eino.makela@example.fi", phone="+358 44 555 0103",
         street_address="Kalliontie 2", postal_code="85500", city="Nivala", household_size=1,
         gross_monthly_income_cents=142_000),
    dict(identity_code="250460-947C", first_name="Matti", last_name="Niemi", municipality="977",
         language="fi", phone="+358 8 555 0104", street_address="Peltotie 9",
         postal_code="84100", city="Ylivieska", household_size=1,
         gross_monthly_income_cents=118_000),
    dict(identity_code="081152-9569", first_name="Lars", last_name="Sjöberg", municipality="535",
         language="sv", email="lars.sjoberg@example.fi", phone="+358 50 555 0105",
         street_address="Jokikatu 6", postal_code="85500", city="Nivala", household_size=2,
         gross_monthly_income_cents=310_000),
    dict(identity_code="170985-968C", first_name="Sanna", last_name="Laine", municipality="535",
         language="fi", email="sanna.laine@example.fi", phone="+358 40 555 0106",
         street_address="Vanhatie 21", postal_code="85500", city="Nivala", household_size=4,
         gross_monthly_income_cents=395_000),
]


def _clients(session: Session, municipalities: dict[str, Municipality], case_manager: User
             ) -> dict[str, Client]:
    """The demo clients by first name (Aino from the people step included)."""
    found = {}
    for spec in CLIENTS:
        spec = dict(spec)
        code = spec.pop("identity_code")
        client = session.execute(sa.select(Client).where(
            Client.identity_code_index == identity_code_index(code))).scalar_one_or_none()
        if client is None:
            spec["municipality_id"] = municipalities[spec.pop("municipality")].id
            client = register_client(session, identity_code=code,
                                     details=ClientDetails(**spec), user=case_manager,
                                     actor=Actor.of_user(case_manager))
        found[client.first_name] = client
    found["Aino"] = session.execute(sa.select(Client).where(
        Client.first_name == "Aino", Client.last_name == "Virtanen")).scalars().first()
    return found


def _exists(session: Session, client: Client, need: str) -> bool:
    return session.execute(sa.select(Voucher.id).where(
        Voucher.client_id == client.id, Voucher.need_assessment == need)).first() is not None


def _decide(session, client, service, need, actor, *, recurrence=Recurrence.TOTAL, units,
            start, end, draft=False) -> Voucher:
    decision = issuing.Decision(
        service_type_id=service.id, need_assessment=need, recurrence=recurrence,
        units_per_period=units * 100, valid_from=start, valid_until=end,
        household_size=client.household_size, income_cents=client.gross_monthly_income_cents)
    make = issuing.save_draft if draft else issuing.issue_decision
    return make(session, client=client, decision=decision, actor=actor)


def _record(session: Session, voucher: Voucher, provider: Provider, day: dt.date,
            units: int) -> None:
    """A delivered service, as the provider would record it."""
    period = take_units(session, voucher, day, units * 100)
    price = approved_price_for(session, provider.id, voucher.service_type_id, day)
    voucher_pays, client_pays = split_payment(units * 100, price, voucher.unit_value_cents)
    session.add(Redemption(
        voucher_id=voucher.id, provider_id=provider.id, voucher_period_id=period.id,
        service_date=day, units=units * 100, unit_price_cents=price,
        unit_value_cents=voucher.unit_value_cents, voucher_pays_cents=voucher_pays,
        client_pays_cents=client_pays, source="portal",
        client_share_status=ClientShareStatus.DUE if client_pays else None))
    session.flush()


def _assign(session, voucher, provider, provider_actor, chooser, via="client") -> None:
    assignment = choice.choose_provider(session, voucher, provider_id=provider.id,
                                        actor=chooser, via=via)
    choice.accept_request(session, assignment, actor=provider_actor)


def load_vouchers(session: Session, municipalities: dict[str, Municipality],
                  service_types: dict[str, ServiceType], providers: dict[str, Provider],
                  users: dict[str, User]) -> None:
    """The demo vouchers (see the module docstring)."""
    today = clock.today()
    year_start = dt.date(demo_years()[0], 1, 1)
    kaisa = Actor.of_user(users["casemanager@example.fi"])
    pekka = Actor.of_user(users["casemanager2@example.fi"])
    aino_user, sari = users["client@example.fi"], users["provider@example.fi"]
    aurinko = session.get(Provider, sari.provider_id)
    kuura = next(p for p in providers.values() if p.legal_name == KUURA)
    kuura_actor = Actor.system("demo: Kuuran Siivous")
    clients = _clients(session, municipalities, users["casemanager@example.fi"])
    home_care, cleaning = service_types["HOME_CARE"], service_types["CLEANING"]

    need = "Tarvitsee apua peseytymisessä, pukeutumisessa ja lääkkeiden ottamisessa."
    if not _exists(session, clients["Aino"], need):
        start = max(year_start, (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1))
        end = start.replace(year=start.year + 1) - dt.timedelta(days=1)
        voucher = _decide(session, clients["Aino"], home_care, need, kaisa,
                          recurrence=Recurrence.MONTHLY, units=8, start=start, end=end)
        _assign(session, voucher, aurinko, Actor.of_user(sari), Actor.of_user(aino_user))
        for day in (start + dt.timedelta(days=6), start + dt.timedelta(days=20),
                    today - dt.timedelta(days=3)):
            if start <= day <= today:
                _record(session, voucher, aurinko, day, 2)

    need = "Muistisairaus etenee; tarvitsee päivittäistä apua kotona puolison tueksi."
    if not _exists(session, clients["Helmi"], need):
        start = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        _decide(session, clients["Helmi"], home_care, need, kaisa, recurrence=Recurrence.MONTHLY,
                units=20, start=start, end=start.replace(year=start.year + 1)
                - dt.timedelta(days=1))

    need = "Lonkkaleikkauksen jälkeen ei pysty siivoamaan itse."
    if not _exists(session, clients["Eino"], need):
        voucher = _decide(session, clients["Eino"], cleaning, need, kaisa, units=20,
                          start=today + dt.timedelta(days=7), end=today + dt.timedelta(days=190))
        choice.choose_provider(session, voucher, provider_id=aurinko.id, actor=kaisa,
                               via="case_manager")
    need = "Omaishoitaja tarvitsee lakisääteiset vapaapäivät; kolme vuorokautta kuukaudessa."
    if not _exists(session, clients["Eino"], need):
        _decide(session, clients["Eino"], service_types["CAREGIVER_RELIEF"], need, kaisa,
                recurrence=Recurrence.MONTHLY, units=3, start=today + dt.timedelta(days=14),
                end=today + dt.timedelta(days=195), draft=True)

    need = "Asuu yksin, heikko näkö; kodin siivous kahdesti kuukaudessa."
    if not _exists(session, clients["Matti"], need):
        voucher = _decide(session, clients["Matti"], cleaning, need, kaisa, units=12,
                          start=today, end=today + dt.timedelta(days=180))
        # Matti asks by letter for more: a request for review waits for Pekka's decision.
        file_request(session, voucher, channel=ReviewChannel.PAPER, received_on=today,
                     text="Toivon siivousta joka viikko, koska näköni on heikentynyt.",
                     actor=pekka)

    need = "Kesän ajan apua kodin siivoukseen käsivamman vuoksi."
    start, end = max(year_start, today - dt.timedelta(days=120)), today - dt.timedelta(days=30)
    if start <= end and not _exists(session, clients["Matti"], need):
        with clock.frozen_at(start):
            voucher = _decide(session, clients["Matti"], cleaning, need, kaisa, units=10,
                              start=start, end=end)
            _assign(session, voucher, kuura, kuura_actor, kaisa, via="case_manager")
        _record(session, voucher, kuura, start + dt.timedelta(days=10), 2)
        _record(session, voucher, kuura, start + dt.timedelta(days=40), 2)

    need = "Behöver hjälp med storstädning efter sjukhusvistelse."
    start = max(year_start, today - dt.timedelta(days=60))
    if start < today and not _exists(session, clients["Lars"], need):
        with clock.frozen_at(start):
            voucher = _decide(session, clients["Lars"], cleaning, need, kaisa, units=6,
                              start=start, end=today + dt.timedelta(days=60))
            _assign(session, voucher, kuura, kuura_actor, kaisa, via="case_manager")
        for offset in range(3):
            _record(session, voucher, kuura, start + (today - start) * offset // 3, 2)

    need = "Perheen äiti toipuu leikkauksesta; apua lastenhoitoon ja kodinhoitoon."
    if not _exists(session, clients["Sanna"], need):
        voucher = _decide(session, clients["Sanna"], service_types["FAMILY_HOME_HELP"], need,
                          kaisa, units=40, start=max(year_start, today - dt.timedelta(days=30)),
                          end=today + dt.timedelta(days=60))
        lifecycle.cancel_voucher(session, voucher, reason="Perhe muutti toiselle paikkakunnalle.",
                                 actor=pekka)

    lifecycle.expire_vouchers(session, today=today, grace_days=14)
