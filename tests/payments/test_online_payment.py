"""Paying self-shares by card against the local fake Stripe: success, decline, 3-D Secure,
webhooks (duplicate, forged, out of order) and the database's guard against paying twice."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.payments.conftest import confirm, run_jobs, start
from tests.stripe_fake import authenticate, intent, signed_event
from voucher.payments import services
from voucher.payments.models import (
    JobStatus,
    OnlinePayment,
    OnlinePaymentEvent,
    OnlinePaymentStatus,
    StripeWebhookEvent,
)
from voucher.redemptions.models import ClientShareStatus, Redemption

WEBHOOK = "/payments/stripe/webhook"


def shares(db, events) -> list[ClientShareStatus]:
    db.rollback()
    return [db.get(Redemption, e.id).client_share_status for e in events]


def deliver(client, stripe_fake, payment, event_type, *, event_id=None):
    """Stripe's webhook for the payment's intent as the fake has it now, signed."""
    payload, headers = signed_event(
        event_type, intent(stripe_fake, payment.stripe_payment_intent_id), event_id=event_id)
    return client.post(WEBHOOK, data=payload, headers=headers)


def test_due_self_shares_are_listed_per_provider_and_month(db, world):
    groups = services.due_self_shares(db, world.client.id)
    assert [(g.provider.id, g.period, g.total_cents, len(g.events)) for g in groups] == [
        (world.provider.id, dt.date(2026, 10, 1), 2100, 3),
        (world.provider.id, dt.date(2026, 11, 1), 700, 1)]


def test_a_paid_month_becomes_paid_online_only_when_stripe_says_so(
        db, client, world, stripe_fake):
    payment = start(db, world)
    assert payment.amount_cents == 2100
    assert intent(stripe_fake, payment.stripe_payment_intent_id)["amount"] == 2100
    assert confirm(db, stripe_fake, payment).result == {"intent_status": "succeeded"}
    # The card went through, but nothing changes before the verified webhook.
    assert shares(db, world.october) == [ClientShareStatus.DUE] * 3
    response = deliver(client, stripe_fake, payment, "payment_intent.succeeded",
                       event_id="evt_success_1")
    assert response.status_code == 200 and response.json["outcome"] == "succeeded"
    assert shares(db, world.october) == [ClientShareStatus.PAID_ONLINE] * 3
    assert shares(db, world.november) == [ClientShareStatus.DUE]
    assert db.get(OnlinePayment, payment.id).status == OnlinePaymentStatus.SUCCEEDED
    # Stripe sends it again: 200, nothing changes.
    again = deliver(client, stripe_fake, payment, "payment_intent.succeeded",
                    event_id="evt_success_1")
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    assert db.execute(sa.select(sa.func.count()).select_from(StripeWebhookEvent)).scalar() == 1
    assert services.due_self_shares(db, world.client.id)[0].period == dt.date(2026, 11, 1)


def test_a_lost_webhook_is_made_good_by_the_job_that_watches_the_confirmation(
        db, world, stripe_fake):
    payment = start(db, world)
    attempt = confirm(db, stripe_fake, payment)
    assert shares(db, world.october) == [ClientShareStatus.DUE] * 3  # no webhook comes
    assert run_jobs(db) == {}  # the watch is not due yet
    assert run_jobs(db, after=dt.timedelta(minutes=3)) == {"succeeded": 1}
    assert shares(db, world.october) == [ClientShareStatus.PAID_ONLINE] * 3
    assert db.get(OnlinePayment, payment.id).status == OnlinePaymentStatus.SUCCEEDED
    db.refresh(attempt)
    assert attempt.status == JobStatus.DONE


def test_a_declined_card_gives_a_message_and_leaves_the_events_due(
        db, client, world, stripe_fake):
    payment = start(db, world)
    attempt = confirm(db, stripe_fake, payment, "4000000000000341")
    assert attempt.result["declined"]  # Stripe's message for the card holder
    assert shares(db, world.october) == [ClientShareStatus.DUE] * 3
    response = deliver(client, stripe_fake, payment, "payment_intent.payment_failed")
    assert response.json["outcome"] == "failed"
    db.rollback()
    failed = db.get(OnlinePayment, payment.id)
    assert failed.status == OnlinePaymentStatus.FAILED and failed.failure_code == "declined"
    assert shares(db, world.october) == [ClientShareStatus.DUE] * 3
    # The events are free again: a new payment can be started for them.
    second = start(db, world)
    assert second.id != payment.id and second.amount_cents == 2100


def test_three_d_secure_waits_for_the_client_and_a_failed_check_leaves_the_events_due(
        db, client, world, stripe_fake):
    payment = start(db, world)
    attempt = confirm(db, stripe_fake, payment, "4000002500003155")
    assert attempt.result["intent_status"] == "requires_action"
    secret = attempt.result["client_secret"]
    assert shares(db, world.october) == [ClientShareStatus.DUE] * 3
    failed = authenticate(stripe_fake, payment.stripe_payment_intent_id, secret, success=False)
    assert failed["status"] == "requires_payment_method"
    assert failed["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    assert shares(db, world.october) == [ClientShareStatus.DUE] * 3
    # The client tries again and completes the check: the charge goes through.
    retry = confirm(db, stripe_fake, payment, "4000002500003155")
    assert authenticate(stripe_fake, payment.stripe_payment_intent_id,
                        retry.result["client_secret"], True)["status"] == "succeeded"
    assert deliver(client, stripe_fake, payment,
                   "payment_intent.succeeded").json["outcome"] == "succeeded"
    assert shares(db, world.october) == [ClientShareStatus.PAID_ONLINE] * 3


def test_a_forged_webhook_is_refused_and_changes_nothing(db, client, world, stripe_fake):
    payment = start(db, world)
    confirm(db, stripe_fake, payment)
    payload, headers = signed_event("payment_intent.succeeded",
                                    intent(stripe_fake, payment.stripe_payment_intent_id),
                                    secret="whsec_someone_else")
    assert client.post(WEBHOOK, data=payload, headers=headers).status_code == 400
    assert client.post(WEBHOOK, data=payload).status_code == 400  # no signature at all
    tampered = payload.replace(b'"amount": 2100', b'"amount": 1')
    _good, good_headers = signed_event("payment_intent.succeeded", {"id": "x"})
    assert client.post(WEBHOOK, data=tampered, headers=good_headers).status_code == 400
    db.rollback()
    assert db.get(OnlinePayment, payment.id).status == OnlinePaymentStatus.PENDING
    assert db.execute(sa.select(sa.func.count()).select_from(StripeWebhookEvent)).scalar() == 0
    assert shares(db, world.october) == [ClientShareStatus.DUE] * 3


def test_a_failure_arriving_after_the_success_does_not_downgrade(db, client, world,
                                                                 stripe_fake):
    payment = start(db, world)
    confirm(db, stripe_fake, payment)
    assert deliver(client, stripe_fake, payment,
                   "payment_intent.succeeded").json["outcome"] == "succeeded"
    late = deliver(client, stripe_fake, payment, "payment_intent.payment_failed")
    assert late.status_code == 200 and late.json["outcome"] == "not_downgraded"
    db.rollback()
    assert db.get(OnlinePayment, payment.id).status == OnlinePaymentStatus.SUCCEEDED
    assert shares(db, world.october) == [ClientShareStatus.PAID_ONLINE] * 3


def test_a_success_after_a_failure_records_the_money_and_refunds_what_was_paid_again(
        db, client, world, stripe_fake):
    """Out of order the other way: the failure was processed, the client paid the events in a
    new payment, then the first intent's success arrives. No event is paid twice: the money of
    the first payment goes back."""
    first = start(db, world)
    confirm(db, stripe_fake, first)
    payload, headers = signed_event("payment_intent.payment_failed", {
        **intent(stripe_fake, first.stripe_payment_intent_id),
        "status": "requires_payment_method",
        "last_payment_error": {"message": "Your card was declined."}})
    assert client.post(WEBHOOK, data=payload, headers=headers).json["outcome"] == "failed"
    second = start(db, world)
    confirm(db, stripe_fake, second)
    assert deliver(client, stripe_fake, second,
                   "payment_intent.succeeded").json["outcome"] == "succeeded"
    late = deliver(client, stripe_fake, first, "payment_intent.succeeded")
    assert late.json["outcome"] == "succeeded_after_failure"
    db.rollback()
    first = db.get(OnlinePayment, first.id)
    assert (first.status, first.refunded_cents) == (OnlinePaymentStatus.SUCCEEDED, 2100)
    assert shares(db, world.october) == [ClientShareStatus.PAID_ONLINE] * 3
    # The refund is owed at once and made by the job runner.
    assert run_jobs(db) == {"refunded": 3}


def test_an_event_is_never_in_two_live_payments(db, world, stripe_fake):
    first = start(db, world)
    # Starting again (another tab) continues the same pending payment.
    assert start(db, world).id == first.id
    # And the database itself refuses a second live link to the same event.
    other = OnlinePayment(client_id=world.client.id, provider_id=world.provider.id,
                          period=dt.date(2026, 10, 1), amount_cents=700,
                          idempotency_key="pay-test-other")
    db.add(other)
    db.flush()
    db.add(OnlinePaymentEvent(online_payment_id=other.id, redemption_id=world.october[0].id,
                              live_redemption_id=world.october[0].id, amount_cents=700))
    with pytest.raises(sa.exc.IntegrityError):
        db.flush()
    db.rollback()
