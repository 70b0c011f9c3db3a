"""Payments test world: a client with due self-shares at one provider, the app talking to the
local fake Stripe; helpers that act as the client's browser and as the job runner."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tests import factories
from tests.stripe_fake import (  # noqa: F401 (fixtures)
    card_token,
    fault_proxy,
    localstripe_url,
    stripe_config,
    stripe_fake,
    stripe_faults,
    stripe_proxy_url,
)
from voucher import clock
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.payments import jobs, services
from voucher.payments.models import OnlinePayment, StripeJob
from voucher.payments.stripe_client import Gateway


@pytest.fixture
def app_config(app_config, stripe_fake):  # noqa: F811
    return {**app_config, **stripe_config(stripe_fake)}


@pytest.fixture
def gateway(app):
    return Gateway.from_config(app.config)


@pytest.fixture
def world(db):
    """Home care worth 32 €/h, priced 39 €/h by Hoiva Aurinko: a self-share of 7 €/h. The
    client has three October events (21 € due) and one in November (7 €)."""
    home = factories.municipality(db, "977", "Ylivieska")
    home_care = factories.service_type(db, "HOME_CARE", value=3200, cap=4800)
    aurinko = factories.provider(db, services={home_care: 3900}, name="Hoiva Aurinko Oy",
                                 municipalities=[home])
    holder = factories.client(db, home=home, first_name="Aino", last_name="Virtanen")
    voucher = factories.voucher(db, holder=holder, service=home_care, assigned_to=aurinko,
                                valid_from=dt.date(2026, 10, 1))
    october = [factories.redemption(db, voucher, day=dt.date(2026, 10, d), units=100)
               for d in (5, 12, 19)]
    november = [factories.redemption(db, voucher, day=dt.date(2026, 11, 2), units=100)]
    user = factories.user(db, role=Role.CLIENT, email="aino@example.fi", client_id=holder.id)
    provider_user = factories.user(db, role=Role.PROVIDER, email="aurinko@example.fi",
                                   provider_id=aurinko.id)
    db.commit()
    return SimpleNamespace(home=home, home_care=home_care, provider=aurinko, client=holder,
                           voucher=voucher, october=october, november=november, user=user,
                           provider_user=provider_user)


ACTOR = Actor.system("test")


def start(db, world, period=dt.date(2026, 10, 1)) -> OnlinePayment:
    """Start paying a month as the pay request does: the commit creates the intent (SQLite
    keeps a transaction's snapshot, hence the fresh transaction before and after)."""
    db.rollback()
    payment = services.start_payment(db, client_id=world.client.id,
                                     provider_id=world.provider.id, period=period, actor=ACTOR)
    db.commit()
    db.refresh(payment)
    return payment


def confirm(db, stripe_url, payment, number="4242424242424242") -> StripeJob:
    """Pay with a card as the browser and the confirm request do; returns the attempt."""
    db.rollback()
    job = services.request_confirmation(db, payment=db.get(OnlinePayment, payment.id),
                                        token=card_token(stripe_url, number), actor=ACTOR)
    db.commit()
    db.refresh(job)
    return job


def run_jobs(db, *, after: dt.timedelta = dt.timedelta(0)) -> dict[str, int]:
    """The cron runner, ``after`` from now (the clock stays moved)."""
    db.rollback()
    if after:
        clock.freeze(clock.now() + after)
    outcomes = jobs.run_due_jobs()
    db.rollback()
    return outcomes
