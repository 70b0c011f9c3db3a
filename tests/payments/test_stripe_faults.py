"""Every Stripe call under every fault: Stripe answers 500, hangs past the timeout, or the
connection is cut, before the call reaches the fake Stripe or after it did its work (the answer
is lost). Each test asserts that the person sees a clear, translated message, that nothing
half-done is committed, that the job finishes the work once the fake answers again, that no
euro is lost or doubled (the reconciliation after every test, and the fake's own records), and
that the audit trail has every step.

The fault proxy (scripts/fault_proxy.py) sits between the app and the fake; the app waits one
second per call and does not retry by itself, so that each fault reaches our own code.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests import factories
from tests.conftest import post_form
from tests.payments.conftest import ACTOR, confirm, run_jobs, start
from tests.stripe_fake import (
    WEBHOOK_SECRET,
    authenticate,
    card_token,
    forget_idempotency_keys,
    intent,
    refunds,
    signed_event,
    stripe_config,
)
from voucher.audit.models import AuditEvent
from voucher.payments import billing
from voucher.payments.models import (
    JobKind,
    JobStatus,
    OnlinePayment,
    OnlinePaymentEvent,
    OnlinePaymentStatus,
    OnlineRefund,
    RefundStatus,
    StripeJob,
)
from voucher.payments.stripe_client import Gateway
from voucher.payments.stripe_reconciliation import reconcile_with_stripe
from voucher.redemptions.corrections import void_redemption
from voucher.redemptions.models import ClientShareStatus, Redemption

#: Before the fake: the call never reached it. After: the fake did the work, the answer was lost.
BEFORE = ("error", "hang", "cut")
AFTER = ("error_after", "hang_after", "cut_after")
FAULTS = BEFORE + AFTER
INTENTS = r"^/v1/payment_intents$"
CONFIRM = r"^/v1/payment_intents/[^/]+/confirm$"
CANCEL = r"^/v1/payment_intents/[^/]+/cancel$"
ONE_INTENT = r"^/v1/payment_intents/pi_[^/]+$"
REFUNDS = r"^/v1/refunds$"


@pytest.fixture
def app_config(app_config, stripe_faults, stripe_fake):
    """The app talks to the fake through the fault proxy; Stripe.js (the browser) directly."""
    return {**app_config, **stripe_config(stripe_faults.url),
            "STRIPE_JS_URL": f"{stripe_fake}/js.stripe.com/v3/",
            "STRIPE_TIMEOUT_SECONDS": 1, "STRIPE_NETWORK_RETRIES": 0}


def add_fault(faults, method, path, fault, times=1):
    faults.add(method, path, fault, times=times, seconds=3 if "hang" in fault else None)


def actions(db, payment_id: int) -> list[str]:
    db.rollback()
    return list(db.execute(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "online_payment",
        AuditEvent.object_id == str(payment_id)).order_by(AuditEvent.id)).scalars())


def shares(db, events) -> list[ClientShareStatus]:
    db.rollback()
    return [db.get(Redemption, e.id).client_share_status for e in events]


def held(db, events) -> bool:
    db.rollback()
    return db.execute(sa.select(sa.func.count()).select_from(OnlinePaymentEvent).where(
        OnlinePaymentEvent.live_redemption_id.in_([e.id for e in events]))).scalar() > 0


def fake_intents(stripe_fake) -> list[dict]:
    response = requests.get(f"{stripe_fake}/v1/payment_intents", auth=("sk_test_voucher", ""),
                            params={"limit": 100}, timeout=5)
    response.raise_for_status()
    return response.json()["data"]


def reconcile(app, stripe_fake):
    """The daily comparison with Stripe, straight to the fake: nothing may be left to alert."""
    found = reconcile_with_stripe(gateway=Gateway(app.config["STRIPE_SECRET_KEY"], stripe_fake,
                                                  timeout_seconds=5))
    assert found.alerts == []
    return found


def client_pays(client, world):
    """The client presses "pay" for October; the card page (or its message) opens."""
    response = post_form(client, "/self-shares/pay", {"provider_id": world.provider.id,
                                                      "period": "2026-10-01"},
                         form_page="/self-shares/")
    assert response.status_code == 303
    return response.headers["Location"], client.get(response.headers["Location"])


# -- Creating the intent (the request that starts a payment) ------------------------------------

@pytest.mark.parametrize("fault", FAULTS)
def test_starting_a_payment_while_stripe_fails(app, db, client, auth, world, stripe_faults,
                                               stripe_fake, fault):
    add_fault(stripe_faults, "POST", INTENTS, fault)
    auth.login("aino@example.fi", factories.PASSWORD)
    _location, page = client_pays(client, world)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Korttimaksupalvelu ei vastannut. Mitään ei veloitettu" in html
    assert 'id="card-form"' not in html and "Yritä uudelleen" in html
    db.rollback()
    payment = db.execute(sa.select(OnlinePayment)).scalar_one()
    assert (payment.status, payment.failure_code) == (OnlinePaymentStatus.FAILED, "unavailable")
    # Nothing holds the self-shares: the client may try again, the provider may bill them.
    assert not held(db, world.october) and shares(db, world.october) == [
        ClientShareStatus.DUE] * 3
    reached = [i for i in fake_intents(stripe_fake)]
    assert len(reached) == (1 if fault in AFTER else 0)
    # The fake answers again: the job makes sure no intent of that payment can ever be paid.
    stripe_faults.clear()
    assert run_jobs(db, after=dt.timedelta(minutes=3)) == {"orphan_cancelled": 1}
    assert [i["status"] for i in fake_intents(stripe_fake)] == ["canceled"]
    db.refresh(payment)
    assert payment.stripe_payment_intent_id == fake_intents(stripe_fake)[0]["id"]
    assert actions(db, payment.id) == [
        "online_payment.started", "stripe_job.create_intent.retry",
        "stripe_job.create_intent.orphan_cancelled"]
    # A second try goes through, and nothing is left over at Stripe.
    _again, page = client_pays(client, world)
    assert 'id="card-form"' in page.get_data(as_text=True)
    reconcile(app, stripe_fake)


def test_a_payment_whose_request_died_before_stripe_is_ended_by_the_job(
        app, db, world, stripe_faults, stripe_fake):
    """The request committed the payment, then its process died before calling Stripe: the
    runner ends the payment after the grace period, and leaves no intent that could be paid."""
    from voucher.payments import services

    db.rollback()
    payment = services.start_payment(db, client_id=world.client.id,
                                     provider_id=world.provider.id,
                                     period=dt.date(2026, 10, 1), actor=ACTOR)
    db.info.pop("after_commit_work", None)  # the process dies: the work after commit is lost
    db.commit()
    assert run_jobs(db) == {}  # the request's grace
    assert run_jobs(db, after=dt.timedelta(minutes=3)) == {"orphan_cancelled": 1}
    db.refresh(payment)
    assert (payment.status, payment.failure_code) == (OnlinePaymentStatus.FAILED, "unavailable")
    assert [i["status"] for i in fake_intents(stripe_fake)] == ["canceled"]
    assert not held(db, world.october)
    reconcile(app, stripe_fake)


# -- Confirming the card (the request that pays) ------------------------------------------------

@pytest.mark.parametrize("fault", FAULTS)
def test_paying_by_card_while_stripe_fails(app, db, client, auth, world, stripe_faults,
                                           stripe_fake, fault):
    auth.login("aino@example.fi", factories.PASSWORD)
    location, page = client_pays(client, world)
    assert 'id="card-form"' in page.get_data(as_text=True)
    add_fault(stripe_faults, "POST", CONFIRM, fault)
    response = post_form(client, location + "/confirm",
                         {"stripe_token": card_token(stripe_fake)}, form_page=location)
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Korttimaksupalvelu ei vastannut. Jos korttiasi veloitettiin" in html
    assert 'id="card-form"' in html  # trying again cannot charge twice: it is the same intent
    db.rollback()
    payment = db.execute(sa.select(OnlinePayment)).scalar_one()
    # Nothing is recorded as paid before Stripe says so; the self-shares wait for its word.
    assert payment.status == OnlinePaymentStatus.PENDING
    assert shares(db, world.october) == [ClientShareStatus.DUE] * 3 and held(db, world.october)
    charged = intent(stripe_fake, payment.stripe_payment_intent_id)["status"] == "succeeded"
    assert charged == (fault in AFTER)
    stripe_faults.clear()
    if fault in AFTER:
        # The card was charged and no webhook came: the job watching the payment records it.
        assert run_jobs(db, after=dt.timedelta(minutes=3)) == {"succeeded": 1}
    else:
        # Nothing was charged: the job sees the intent waiting; the client tries again.
        assert run_jobs(db, after=dt.timedelta(minutes=3)) == {"watching": 1}
        retry = post_form(client, location + "/confirm",
                          {"stripe_token": card_token(stripe_fake)}, form_page=location)
        assert "Kortti hyväksyttiin" in client.get(retry.headers["Location"]).get_data(
            as_text=True)
        assert run_jobs(db, after=dt.timedelta(minutes=3)).get("succeeded") == 1
    assert shares(db, world.october) == [ClientShareStatus.PAID_ONLINE] * 3
    paid = intent(stripe_fake, payment.stripe_payment_intent_id)
    assert (paid["status"], paid["amount"]) == ("succeeded", 2100)
    assert len(fake_intents(stripe_fake)) == 1  # one intent, charged once
    steps = actions(db, payment.id)
    assert steps[:3] == ["online_payment.started", "stripe_job.create_intent.created",
                         "online_payment.confirm_requested"]
    assert "stripe_job.confirm_intent.retry" in steps and "online_payment.succeeded" in steps
    reconcile(app, stripe_fake)


@pytest.mark.parametrize("fault", BEFORE)
def test_paying_while_the_card_cannot_be_attached(app, db, client, auth, world, stripe_faults,
                                                  stripe_fake, fault):
    """The first of the confirmation's calls fails (reading the card of the token)."""
    auth.login("aino@example.fi", factories.PASSWORD)
    location, _page = client_pays(client, world)
    add_fault(stripe_faults, "GET", r"^/v1/tokens/", fault)
    response = post_form(client, location + "/confirm",
                         {"stripe_token": card_token(stripe_fake)}, form_page=location)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Korttimaksupalvelu ei vastannut" in html
    stripe_faults.clear()
    retry = post_form(client, location + "/confirm", {"stripe_token": card_token(stripe_fake)},
                      form_page=location)
    assert "Kortti hyväksyttiin" in client.get(retry.headers["Location"]).get_data(as_text=True)
    assert run_jobs(db, after=dt.timedelta(minutes=3)).get("succeeded") == 1
    assert shares(db, world.october) == [ClientShareStatus.PAID_ONLINE] * 3
    reconcile(app, stripe_fake)


# -- 3-D Secure: Stripe.js finishes in the browser, the job reads the outcome --------------------

@pytest.mark.parametrize("fault", BEFORE)
def test_three_d_secure_completed_while_stripe_fails_to_answer_the_job(
        app, db, world, stripe_faults, stripe_fake, fault):
    payment = start(db, world)
    attempt = confirm(db, stripe_fake, payment, "4000002500003155")
    assert attempt.result["intent_status"] == "requires_action"
    authenticate(stripe_fake, payment.stripe_payment_intent_id, attempt.result["client_secret"],
                 success=True)  # the browser and Stripe.js; no webhook reaches us
    add_fault(stripe_faults, "GET", ONE_INTENT, fault, times=0)
    assert run_jobs(db, after=dt.timedelta(minutes=3)) == {"retry": 1}
    assert shares(db, world.october) == [ClientShareStatus.DUE] * 3
    db.refresh(attempt)
    assert attempt.status == JobStatus.QUEUED and attempt.last_error
    stripe_faults.clear()
    assert run_jobs(db, after=dt.timedelta(minutes=3)) == {"succeeded": 1}
    assert shares(db, world.october) == [ClientShareStatus.PAID_ONLINE] * 3
    assert "stripe_job.confirm_intent.retry" in actions(db, payment.id)
    reconcile(app, stripe_fake)


@pytest.mark.parametrize("fault", AFTER)
def test_three_d_secure_asked_for_but_the_answer_was_lost(app, db, client, auth, world,
                                                          stripe_faults, stripe_fake, fault):
    """Stripe asked for 3-D Secure, but the answer never reached us: the client is told, and
    however the client goes on, the money is recorded once."""
    auth.login("aino@example.fi", factories.PASSWORD)
    location, _page = client_pays(client, world)
    add_fault(stripe_faults, "POST", CONFIRM, fault)
    response = post_form(client, location + "/confirm",
                         {"stripe_token": card_token(stripe_fake, "4000002500003155")},
                         form_page=location)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Korttimaksupalvelu ei vastannut" in html
    stripe_faults.clear()
    db.rollback()
    payment = db.execute(sa.select(OnlinePayment)).scalar_one()
    assert intent(stripe_fake, payment.stripe_payment_intent_id)["status"] == "requires_action"
    # The watch sees the intent waiting for the client, and keeps watching.
    assert run_jobs(db, after=dt.timedelta(minutes=3)) == {"watching": 1}
    assert shares(db, world.october) == [ClientShareStatus.DUE] * 3
    reconcile(app, stripe_fake)


# -- Cancelling an abandoned payment (the daily job) ---------------------------------------------

@pytest.mark.parametrize("fault", FAULTS)
def test_cancelling_an_abandoned_payment_while_stripe_fails(app, db, world, stripe_faults,
                                                            stripe_fake, fault):
    payment = start(db, world)
    db.rollback()
    from voucher import clock

    clock.freeze(clock.now() + dt.timedelta(days=2))
    assert billing.abandon_stale_payments(db, actor=ACTOR) == 1
    db.commit()
    add_fault(stripe_faults, "POST", CANCEL, fault)
    assert run_jobs(db) == {"retry": 1}
    # Until Stripe says the intent is cancelled, money could still come: the payment waits.
    db.refresh(payment)
    assert payment.status == OnlinePaymentStatus.PENDING and held(db, world.october)
    cancelled_at_fake = intent(stripe_fake, payment.stripe_payment_intent_id)["status"]
    assert (cancelled_at_fake == "canceled") == (fault in AFTER)
    stripe_faults.clear()
    assert run_jobs(db, after=dt.timedelta(minutes=2)) == {"failed": 1}
    db.refresh(payment)
    assert (payment.status, payment.failure_code) == (OnlinePaymentStatus.FAILED, "abandoned")
    assert not held(db, world.october)
    assert billing.bill_by_provider(db, provider_id=world.provider.id,
                                    client_id=world.client.id, period=dt.date(2026, 10, 1),
                                    actor=ACTOR) == 3
    db.commit()
    steps = actions(db, payment.id)
    assert steps[-4:] == ["online_payment.cancel_requested", "stripe_job.cancel_intent.retry",
                          "online_payment.abandoned", "stripe_job.cancel_intent.failed"]
    reconcile(app, stripe_fake)


# -- Refunds (a paid event is voided; the job refunds) -------------------------------------------

def paid(db, world, stripe_fake) -> OnlinePayment:
    payment = start(db, world)
    confirm(db, stripe_fake, payment)
    assert run_jobs(db, after=dt.timedelta(minutes=3)) == {"succeeded": 1}
    db.refresh(payment)
    return payment


@pytest.mark.parametrize("fault", FAULTS)
def test_refunding_a_voided_event_while_stripe_fails(app, db, client, auth, world,
                                                     stripe_faults, stripe_fake, fault):
    payment = paid(db, world, stripe_fake)
    add_fault(stripe_faults, "POST", REFUNDS, fault)
    # The provider voids the event: that succeeds at once, whatever Stripe does.
    auth.login("aurinko@example.fi", factories.PASSWORD)
    void_page = f"/provider/service-events/{world.october[0].id}/void"
    response = post_form(client, void_page, {}, form_page=void_page)
    assert response.status_code == 303
    assert shares(db, world.october)[0] == ClientShareStatus.REFUNDED
    assert run_jobs(db) == {"retry": 1}
    refund = db.execute(sa.select(OnlineRefund)).scalar_one()
    assert refund.status == RefundStatus.PENDING
    made = refunds(stripe_fake, payment.stripe_payment_intent_id)
    assert len(made) == (1 if fault in AFTER else 0)
    # The client sees the refund on its way; the provider's statement deducts it already.
    auth.logout()
    auth.login("aino@example.fi", factories.PASSWORD)
    page = client.get(f"/self-shares/payments/{payment.id}").get_data(as_text=True)
    assert "palautetaan kortillesi" in page and "odottaa maksupalvelun vahvistusta" in page
    stripe_faults.clear()
    outcome = run_jobs(db, after=dt.timedelta(minutes=2))
    assert outcome == ({"found": 1} if fault in AFTER else {"refunded": 1})
    db.refresh(refund)
    assert refund.status == RefundStatus.SUCCEEDED
    made = refunds(stripe_fake, payment.stripe_payment_intent_id)
    assert [(r["amount"], r["id"]) for r in made] == [(700, refund.stripe_refund_id)]
    steps = actions(db, payment.id)
    assert steps[-4:] == ["online_payment.refund_recorded", "stripe_job.refund.retry",
                          "online_payment.refunded",
                          f"stripe_job.refund.{'found' if fault in AFTER else 'refunded'}"]
    reconcile(app, stripe_fake)


def test_a_refund_retried_after_stripe_forgot_the_key_is_not_made_twice(
        app, db, world, stripe_faults, stripe_fake):
    payment = paid(db, world, stripe_fake)
    void_redemption(db, provider_id=world.provider.id, redemption_id=world.october[1].id,
                    actor=ACTOR)
    db.commit()
    add_fault(stripe_faults, "POST", REFUNDS, "cut_after")
    assert run_jobs(db) == {"retry": 1}
    stripe_faults.clear()
    forget_idempotency_keys(stripe_fake)  # a day later: the key means nothing to Stripe now
    assert run_jobs(db, after=dt.timedelta(days=1)) == {"found": 1}
    assert [r["amount"] for r in refunds(stripe_fake, payment.stripe_payment_intent_id)] == [700]
    reconcile(app, stripe_fake)


def test_a_refund_that_keeps_failing_raises_an_alert_and_keeps_trying(
        app, db, world, stripe_faults, stripe_fake):
    from voucher.alerts.models import OperatorAlert
    from voucher.payments.jobs import ALERT_AFTER_ATTEMPTS

    paid(db, world, stripe_fake)
    void_redemption(db, provider_id=world.provider.id, redemption_id=world.october[2].id,
                    actor=ACTOR)
    db.commit()
    add_fault(stripe_faults, "POST", REFUNDS, "error", times=0)
    for _ in range(ALERT_AFTER_ATTEMPTS):
        assert run_jobs(db, after=dt.timedelta(hours=7)) == {"retry": 1}
    alert = db.execute(sa.select(OperatorAlert)).scalar_one()
    assert alert.kind == "stripe.job_stuck"
    job = db.execute(sa.select(StripeJob).where(StripeJob.kind == JobKind.REFUND)).scalar_one()
    assert job.status == JobStatus.QUEUED
    stripe_faults.clear()
    assert run_jobs(db, after=dt.timedelta(hours=7)) == {"refunded": 1}


# -- Webhook delivery (Stripe to us) -------------------------------------------------------------

@pytest.fixture
def live_app(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_webhook_lost_on_the_way_is_made_good(app, db, world, stripe_fake, fault_proxy,
                                                live_app, fault):
    incoming = fault_proxy(live_app)
    incoming.add("POST", r"^/payments/stripe/webhook$", fault, times=0,
                 seconds=3 if "hang" in fault else None)
    requests.post(f"{stripe_fake}/_config/webhooks/voucher", data={
        "url": f"{incoming.url}/payments/stripe/webhook", "secret": WEBHOOK_SECRET,
        "events[]": ["payment_intent.succeeded"]}, timeout=5).raise_for_status()
    payment = start(db, world)
    confirm(db, stripe_fake, payment)
    for _ in range(50):  # the fake sends its webhook a second after the charge
        if incoming.log():
            break
        threading.Event().wait(0.1)
    assert [entry["fault"] for entry in incoming.log()] == [fault]
    # Before the app: nothing happens. After it: the app records it (the proxy logs the call
    # as it arrives, so the app may still be at work), and Stripe never hears.
    expected = OnlinePaymentStatus.SUCCEEDED if fault in AFTER else OnlinePaymentStatus.PENDING
    for _ in range(100):
        db.rollback()
        status = db.get(OnlinePayment, payment.id).status
        if status == expected or fault not in AFTER:
            break
        threading.Event().wait(0.1)
    assert status == expected
    # Stripe retries a webhook it got no 2xx for: once the app has it, it is a duplicate.
    incoming.clear()
    event = intent(stripe_fake, payment.stripe_payment_intent_id)
    body, headers = signed_event("payment_intent.succeeded", event, event_id="evt_retry")
    first = requests.post(f"{live_app}/payments/stripe/webhook", data=body, headers=headers,
                          timeout=5).json()["outcome"]
    assert first == ("already_succeeded" if fault in AFTER else "succeeded")
    again = requests.post(f"{live_app}/payments/stripe/webhook", data=body, headers=headers,
                          timeout=5).json()["outcome"]
    assert again == "duplicate"
    assert shares(db, world.october) == [ClientShareStatus.PAID_ONLINE] * 3
    reconcile(app, stripe_fake)


def test_a_lost_webhook_is_found_by_the_daily_comparison(app, db, world, stripe_fake):
    """No webhook, and the watching job gone too (e.g. a restore from an older backup): the
    daily comparison with Stripe records the payment."""
    payment = start(db, world)
    confirm(db, stripe_fake, payment)
    db.execute(sa.update(StripeJob).values(status=JobStatus.DONE))
    db.commit()
    from voucher import clock

    clock.freeze(clock.now() + dt.timedelta(hours=1))
    found = reconcile(app, stripe_fake)
    assert any(f"payment {payment.id}: succeeded" in line for line in found.repaired)
    assert shares(db, world.october) == [ClientShareStatus.PAID_ONLINE] * 3
    assert "online_payment.succeeded" in actions(db, payment.id)
