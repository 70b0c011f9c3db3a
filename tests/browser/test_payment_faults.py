"""When Stripe fails, people are told what happened and nothing is lost: the demo client starts
paying while Stripe does not answer, is told so, tries again once it answers and pays; the
provider voids a paid event while Stripe is down and the client sees the refund on its way; the
administrator reads the alert a stuck refund raised and resolves it. Every page is checked
with axe at 320 and 1280 CSS px."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import check_page, login
from tests.browser.test_self_share_payment import (
    _client_id,
    _fill_card,
    _open_self_shares,
    money,
)
from tests.payments.conftest import ACTOR, confirm, run_jobs
from tests.stripe_fake import (  # noqa: F401 (fixtures)
    localstripe_url,
    stripe_config,
    stripe_fake,
    stripe_faults,
    stripe_proxy_url,
)
from voucher.payments import services
from voucher.payments.jobs import ALERT_AFTER_ATTEMPTS
from voucher.payments.models import OnlinePayment, OnlinePaymentStatus
from voucher.redemptions.models import RedemptionStatus


@pytest.fixture
def app_config(app_config, stripe_faults, stripe_fake):  # noqa: F811
    return {**app_config, **stripe_config(stripe_faults.url),
            "STRIPE_JS_URL": f"{stripe_fake}/js.stripe.com/v3/",
            "STRIPE_TIMEOUT_SECONDS": 1, "STRIPE_NETWORK_RETRIES": 0}


def _pay_button(page, group):
    month = rf"{group.period.month}\/{group.period.year}"
    return page.get_by_role("button", name=re.compile(
        rf"^Maksa {money(group.total_cents)} palveluntuottajalle "
        rf"{re.escape(group.provider.name)} kuukaudelta {month}$"))


def test_stripe_down_when_the_client_pays_then_back(page, demo, stripe_faults):  # noqa: F811
    client_id = _client_id(demo)
    group = services.due_self_shares(demo, client_id)[0]
    demo.rollback()
    stripe_faults.add("POST", r"^/v1/payment_intents$", "cut")

    login(page, "client@example.fi")
    check_page(page)
    _open_self_shares(page)
    check_page(page)
    _pay_button(page, group).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Korttimaksu")
    expect(page.get_by_role("status")).to_contain_text(
        "Korttimaksupalvelu ei vastannut. Mitään ei veloitettu")
    expect(page.get_by_role("button", name=re.compile("^Maksa "))).to_have_count(0)
    check_page(page)

    # Stripe answers again: "try again" opens the card form and the payment goes through.
    page.get_by_role("button", name="Yritä uudelleen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Korttimaksu")
    check_page(page)
    _fill_card(page, "4242424242424242")
    page.route("**/self-shares/payments/*/status",
               lambda route: route.fulfill(json={"status": "pending"}))
    page.get_by_role("button", name=re.compile(f"^Maksa {money(group.total_cents)}$")).click()
    expect(page.get_by_role("status")).to_contain_text("Kortti hyväksyttiin")
    check_page(page)
    page.unroute("**/self-shares/payments/*/status")
    # No webhook reaches this test's server: the job watching the payment records it.
    run_jobs(demo, after=dt.timedelta(minutes=3))
    page.reload()
    expect(page.get_by_text(re.compile("^Maksettu. Kiitos"))).to_be_visible()
    check_page(page)
    payments = demo.execute(sa.select(OnlinePayment.status).where(
        OnlinePayment.client_id == client_id).order_by(OnlinePayment.id)).scalars().all()
    assert payments == [OnlinePaymentStatus.FAILED, OnlinePaymentStatus.SUCCEEDED]
    demo.rollback()


def test_a_refund_stuck_at_stripe_is_shown_as_pending_and_alerts_the_administrator(
        page, demo, stripe_faults, stripe_fake):  # noqa: F811
    client_id = _client_id(demo)
    group = next(g for g in services.due_self_shares(demo, client_id)
                 if any(e.status == RedemptionStatus.RECORDED for e in g.events))
    event = next(e for e in group.events if e.status == RedemptionStatus.RECORDED)
    payment = services.start_payment(demo, client_id=client_id, provider_id=group.provider.id,
                                     period=group.period, actor=ACTOR)
    demo.commit()  # the intent is created after the commit
    confirm(demo, stripe_fake, payment)
    run_jobs(demo, after=dt.timedelta(minutes=3))

    stripe_faults.add("POST", r"^/v1/refunds$", "error", times=0)
    login(page, "provider@example.fi")
    check_page(page)
    page.goto(f"/provider/service-events/{event.id}/void")
    check_page(page)
    page.get_by_role("button", name="Mitätöi palvelutapahtuma").click()
    expect(page.get_by_text("Palvelutapahtuma mitätöitiin")).to_be_visible()
    check_page(page)
    for _ in range(ALERT_AFTER_ATTEMPTS):
        run_jobs(demo, after=dt.timedelta(hours=7))
    page.get_by_role("button", name="Kirjaudu ulos").click()
    check_page(page)

    login(page, "client@example.fi")
    check_page(page)
    page.goto(f"/self-shares/payments/{payment.id}")
    expect(page.get_by_text(re.compile("palautetaan kortillesi"))).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Kirjaudu ulos").click()
    check_page(page)

    login(page, "admin@example.fi")
    check_page(page)
    page.get_by_role("navigation", name="Päävalikko").get_by_role(
        "link", name="Hälytykset").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hälytykset")
    alert = page.get_by_role("region", name=re.compile("Stripe-työ"))
    expect(alert).to_contain_text("epäonnistunut")
    check_page(page)
    alert.get_by_role("button", name="Merkitse käsitellyksi").click()
    expect(page.get_by_text("Kerro, mitä hälytyksen vuoksi tehtiin.")).to_be_visible()
    check_page(page)
    page.get_by_role("region", name=re.compile("Stripe-työ")).get_by_label(
        "Mitä tehtiin").fill("Stripe toimii taas, palautus lähti 3.12.")
    page.get_by_role("region", name=re.compile("Stripe-työ")).get_by_role(
        "button", name="Merkitse käsitellyksi").click()
    expect(page.get_by_text("Hälytys on käsitelty.")).to_be_visible()
    expect(page.get_by_text("Avoimia hälytyksiä ei ole.")).to_be_visible()
    check_page(page)
    stripe_faults.clear()
    assert run_jobs(demo, after=dt.timedelta(hours=7)) == {"refunded": 1}
