"""Settlement test helpers: a small world of two municipalities, one service, two providers."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tests import factories
from voucher.audit.services import Actor
from voucher.settlement.run import Payer, settle_approved_invoices


@pytest.fixture
def world(db):
    """Ylivieska and Nivala, home care (value 32 €/h), two providers pricing it 39 € and 30 €."""
    ylivieska = factories.municipality(db, "977", "Ylivieska")
    nivala = factories.municipality(db, "535", "Nivala")
    home_care = factories.service_type(db, "HOME_CARE", value=3200, cap=4800)
    aurinko = factories.provider(db, services={home_care: 3900}, name="Hoiva Aurinko Oy",
                                 municipalities=[ylivieska, nivala])
    kuura = factories.provider(db, services={home_care: 3000}, name="Kuura Oy",
                               municipalities=[ylivieska, nivala])
    admin = factories.user(db)
    return SimpleNamespace(ylivieska=ylivieska, nivala=nivala, home_care=home_care,
                           aurinko=aurinko, kuura=kuura, admin=admin)


def voucher_for(db, world, provider, *, home=None, **kwargs):
    holder = factories.client(db, home=home or world.ylivieska)
    return factories.voucher(db, holder=holder, service=world.home_care, assigned_to=provider,
                             **kwargs)


def events(db, voucher, *days_and_units, price=None):
    """Service events on the voucher: (day of November 2026, units) pairs."""
    return [factories.redemption(db, voucher, day=dt.date(2026, 11, day), units=units,
                                 price_cents=price)
            for day, units in days_and_units]


@pytest.fixture
def settle(app, db):
    """Run settlement in the test's session and commit, as the page and the CLI do."""

    def run(up_to=None, actor=None):
        result = settle_approved_invoices(db, actor=actor or Actor.system("test"),
                                          payer=Payer.from_config(app.config), up_to=up_to)
        db.commit()
        return result

    return run
