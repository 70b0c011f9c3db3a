"""The demo client pays a month's self-shares by card in the local fake Stripe's card form; the
fake's signed webhook reaches the live server and the month turns paid; the provider sees the
money collected. A declined card leaves the self-shares due with a clear message."""

from __future__ import annotations

import re
import time

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import axe_check, login
from tests.stripe_fake import (  # noqa: F401 (fixtures)
    WEBHOOK_SECRET,
    localstripe_url,
    stripe_config,
    stripe_fake,
)
from voucher.accounts.models import User
from voucher.money import format_cents
from voucher.payments import services
from voucher.payments.models import OnlinePayment, OnlinePaymentStatus
from voucher.redemptions.models import ClientShareStatus, Redemption

#: Seconds the page may take to turn paid: the fake waits a second before its webhook, and the
#: page polls the payment's state once a second.
CONFIRMATION_TIMEOUT_MS = 20_000


@pytest.fixture
def app_config(app_config, stripe_fake):  # noqa: F811
    return {**app_config, **stripe_config(stripe_fake)}


@pytest.fixture
def stripe_webhooks(stripe_fake, live_url):  # noqa: F811
    """The fake sends its signed webhooks to the live server, as Stripe would; afterwards it
    sends none (its endpoints outlive the test, there is no way to remove one)."""
    endpoint = f"{stripe_fake}/_config/webhooks/voucher-browser"
    requests.post(endpoint, data={"url": f"{live_url}/payments/stripe/webhook",
                                  "secret": WEBHOOK_SECRET}, timeout=5).raise_for_status()
    yield
    requests.post(endpoint, json={"url": "http://127.0.0.1:9/", "secret": WEBHOOK_SECRET,
                                  "events": []}, timeout=5).raise_for_status()


def money(cents: int) -> str:
    """The amount as the Finnish page shows it, as a regex (non-breaking spaces or not)."""
    return re.escape(format_cents(cents, "fi")).replace("\xa0", r"\s")


def _client_id(demo, email: str = "client@example.fi") -> int:
    return demo.execute(sa.select(User.client_id).where(User.email == email)).scalar_one()


def _open_self_shares(page) -> None:
    page.get_by_role("navigation", name="Päävalikko").get_by_role(
        "link", name="Omavastuuosuudet", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Omavastuuosuudet")
    axe_check(page)


def _start_paying(page, group) -> None:
    """Press the month's pay button on the self-shares page; the card page opens."""
    month = rf"{group.period.month}\/{group.period.year}"  # "/" ends a regex in Playwright
    page.get_by_role("button", name=re.compile(
        rf"^Maksa {money(group.total_cents)} palveluntuottajalle "
        rf"{re.escape(group.provider.name)} kuukaudelta {month}$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Korttimaksu")
    axe_check(page)


def _fill_card(page, number: str) -> None:
    """The fake Stripe.js card form: five text inputs, named by payments.js."""
    card = page.get_by_role("group", name="Kortin tiedot")
    card.get_by_label("Kortin numero").fill(number)
    card.get_by_label("Voimassaolokuukausi (KK)").fill("12")
    card.get_by_label("Voimassaolovuosi (VV)").fill("30")
    card.get_by_label("Turvakoodi (CVC)").fill("123")
    card.get_by_label("Postinumero").fill("84100")


def test_client_pays_a_month_by_card_and_the_provider_sees_it_collected(
        page, demo, stripe_webhooks):
    client_id = _client_id(demo)
    groups = services.due_self_shares(demo, client_id)
    assert groups, "the demo client has self-shares due"
    group = groups[0]
    event_ids = [e.id for e in group.events]
    demo.rollback()

    login(page, "client@example.fi")
    axe_check(page)
    _open_self_shares(page)
    section = page.get_by_role("region", name=f"{group.provider.name}, "
                                              f"{group.period.month}/{group.period.year}")
    expect(section).to_contain_text(re.compile(f"Yhteensä {money(group.total_cents)}"))
    expect(section.get_by_role("listitem")).to_have_count(len(group.events))
    _start_paying(page, group)
    expect(page.locator("#payment-state")).to_have_text("Odottaa maksua")

    _fill_card(page, "4242424242424242")
    # Hold the page on its waiting state (its polls answered "pending") for the axe check.
    page.route("**/self-shares/payments/*/status",
               lambda route: route.fulfill(json={"status": "pending"}))
    page.get_by_role("button", name=re.compile(f"^Maksa {money(group.total_cents)}$")).click()
    expect(page.get_by_role("status")).to_contain_text(
        "Kortti hyväksyttiin. Odotetaan maksupalvelun vahvistusta")
    axe_check(page)
    page.unroute("**/self-shares/payments/*/status")
    # The page waits for the payment service's webhook, then shows the month paid.
    expect(page.get_by_text(re.compile("^Maksettu. Kiitos"))).to_be_visible(
        timeout=CONFIRMATION_TIMEOUT_MS)
    expect(page.locator("#payment-state")).to_have_text("Maksettu")
    axe_check(page)
    demo.rollback()
    assert {demo.get(Redemption, i).client_share_status for i in event_ids} == {
        ClientShareStatus.PAID_ONLINE}
    payment = demo.execute(sa.select(OnlinePayment).where(
        OnlinePayment.client_id == client_id)).scalar_one()
    assert payment.status == OnlinePaymentStatus.SUCCEEDED
    assert payment.amount_cents == group.total_cents
    demo.rollback()

    # The month is no longer due; the payment is in the client's list.
    _open_self_shares(page)
    expect(page.get_by_role("button", name=re.compile(
        rf"kuukaudelta {group.period.month}\/{group.period.year}$"))).to_have_count(0)
    payments = page.get_by_role("table", name="Korttimaksusi, uusin ensin")
    expect(payments.get_by_role("row").nth(1)).to_contain_text("Maksettu")
    expect(payments.get_by_role("row").nth(1)).to_contain_text(
        re.compile(money(group.total_cents)))

    page.get_by_role("button", name="Kirjaudu ulos").click()
    axe_check(page)
    login(page, "provider@example.fi")
    axe_check(page)
    _open_self_shares(page)
    collected = page.get_by_role("definition").filter(has=page.locator(
        "xpath=preceding-sibling::dt[1][normalize-space()='Asiakkaiden verkossa maksamat']"))
    expect(collected).to_have_text(re.compile(f"^{money(group.total_cents)}$"))


def test_a_declined_card_says_so_and_the_self_shares_stay_due(page, demo, stripe_webhooks):
    client_id = _client_id(demo)
    group = services.due_self_shares(demo, client_id)[0]
    event_ids = [e.id for e in group.events]
    demo.rollback()

    login(page, "client@example.fi")
    axe_check(page)
    _open_self_shares(page)
    _start_paying(page, group)
    _fill_card(page, "4000000000000341")  # the fake declines charging this card
    page.get_by_role("button", name=re.compile(f"^Maksa {money(group.total_cents)}$")).click()
    alert = page.get_by_role("alert").filter(has_text="Korttimaksu ei onnistunut")
    expect(alert).to_contain_text("Mitään ei veloitettu")
    expect(alert).to_contain_text("omavastuuosuutesi ovat yhä maksamatta")
    # No card form on a payment Stripe is about to end; the retry starts over through "pay".
    expect(page.get_by_role("button", name=re.compile("^Maksa "))).to_have_count(0)
    expect(page.get_by_role("button", name="Yritä uudelleen toisella kortilla")).to_be_visible()
    axe_check(page)
    events = page.get_by_role("heading", name="Palvelutapahtumat").locator(
        "xpath=following-sibling::ul[1]").get_by_role("listitem")
    expect(events).to_have_count(len(event_ids))
    for item in events.all():
        expect(item).to_contain_text("(Maksamatta)")

    # The fake's payment_failed webhook frees the events: the month can be paid afresh.
    demo.rollback()
    _wait_for_failed_payment(demo, client_id)
    _open_self_shares(page)
    expect(page.get_by_role("button", name=re.compile(
        rf"kuukaudelta {group.period.month}\/{group.period.year}$"))).to_be_visible()
    payments = page.get_by_role("table", name="Korttimaksusi, uusin ensin")
    expect(payments.get_by_role("row").nth(1)).to_contain_text("Epäonnistui")
    demo.rollback()
    assert {demo.get(Redemption, i).client_share_status for i in event_ids} == {
        ClientShareStatus.DUE}
    demo.rollback()


def _wait_for_failed_payment(demo, client_id: int) -> None:
    for _ in range(100):
        status = demo.execute(sa.select(OnlinePayment.status).where(
            OnlinePayment.client_id == client_id)).scalar_one()
        demo.rollback()
        if status == OnlinePaymentStatus.FAILED:
            return
        time.sleep(0.1)
    pytest.fail("the fake's payment_failed webhook did not arrive")
