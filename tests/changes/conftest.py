"""Changes of decisions: the settlement world (home care at 32 €/h, Aurinko pricing it 39 €),
with two case managers of Ylivieska."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tests import factories
from tests.settlement.conftest import settle, world  # noqa: F401 (the fixtures)
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.catalogue.models import ServiceTypeRate
from voucher.changes import services

OCTOBER = dt.date(2026, 10, 1)


@pytest.fixture
def people(db, world):  # noqa: F811
    maker = factories.user(db, role=Role.CASE_MANAGER, municipalities=[world.ylivieska],
                           display_name="Kaisa Palveluohjaaja")
    approver = factories.user(db, role=Role.CASE_MANAGER, municipalities=[world.ylivieska],
                              display_name="Pekka Hyväksyjä")
    return SimpleNamespace(maker=maker, approver=approver, a=Actor.of_user(maker),
                           b=Actor.of_user(approver))


def new_rate(db, world, *,  # noqa: F811
              value: int, valid_from: dt.date = OCTOBER) -> None:
    """A new value table of home care from ``valid_from``."""
    db.add(ServiceTypeRate(service_type_id=world.home_care.id, valid_from=valid_from,
                           unit_value_cents=value, price_cap_cents=4800))
    db.flush()


def change(db, voucher, people, **fields) -> object:
    """Propose (maker) and approve (approver) a change; returns the change."""
    fields.setdefault("reason", "Tulot tarkistettiin hakemuksen liitteistä.")
    fields.setdefault("starts_on", OCTOBER)
    proposal = services.ChangeInput(**fields)
    proposed = services.propose_change(db, voucher, proposal, actor=people.a)
    return services.approve_change(db, proposed, actor=people.b)
