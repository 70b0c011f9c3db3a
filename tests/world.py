"""A small world for voucher, budget and browser tests: Ylivieska with two case managers, a
client, services of each value basis with budgets for 2026 and 2027, and two listed providers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests import factories
from voucher.accounts.models import Role
from voucher.audit.services import Actor


@dataclass
class World:
    home: object
    other_home: object
    fixed: object
    income: object
    free: object
    case_manager: object
    second_case_manager: object
    other_case_manager: object
    client: object
    client_user: object
    provider: object
    cheap_provider: object
    provider_user: object
    budgets: dict

    def actor(self, user) -> Actor:
        return Actor.of_user(user)


@pytest.fixture
def world(db) -> World:
    home = factories.municipality(db, "977", "Ylivieska")
    other = factories.municipality(db, "535", "Nivala")
    fixed = factories.service_type(db, "CLEANING", value=2500, cap=3800)
    income = factories.service_type(db, "HOME_CARE", value=3200, cap=4800, income_related=True)
    free = factories.service_type(db, "FAMILY_HOME_HELP", value=4000, cap=4000,
                                  free_for_client=True)
    factories.income_table(db, service=income)
    budgets = {}
    for service in (fixed, income, free):
        for year in (2026, 2027):
            budgets[(service.code, year)] = factories.budget(
                db, home=home, service=service, year=year, amount_cents=10_000_000)
    cm = factories.user(db, role=Role.CASE_MANAGER, municipalities=[home],
                        email="kaisa@example.fi", display_name="Kaisa Palveluohjaaja")
    cm2 = factories.user(db, role=Role.CASE_MANAGER, municipalities=[home],
                         email="pekka@example.fi", display_name="Pekka Hyväksyjä")
    other_cm = factories.user(db, role=Role.CASE_MANAGER, municipalities=[other],
                              email="nivala@example.fi")
    holder = factories.client(db, home=home, first_name="Aino", last_name="Virtanen",
                              household_size=1, income_cents=165_000)
    client_user = factories.user(db, role=Role.CLIENT, client_id=holder.id,
                                 email=holder.email)
    provider = factories.provider(db, services={fixed: 3300, income: 3900, free: 3800},
                                  municipalities=[home], name="Hoivapalvelu Aurinko Oy",
                                  languages=("fi", "sv"))
    cheap = factories.provider(db, services={fixed: 2400, income: 3100},
                               municipalities=[home, other], name="Kuuran Siivous Oy")
    provider_user = factories.user(db, role=Role.PROVIDER, provider_id=provider.id,
                                   email="sari@aurinko.example.fi")
    db.commit()
    return World(home, other, fixed, income, free, cm, cm2, other_cm, holder, client_user,
                 provider, cheap, provider_user, budgets)
