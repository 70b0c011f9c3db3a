"""Refunds when a paid event is voided or corrected (and the app's own guard, which the fake
does not have), settlement passing the self-shares on, the provider's statement, billing by
the provider, the pages, and a webhook sent by the fake itself."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests import factories
from tests.conftest import post_form
from tests.payments.conftest import ACTOR, confirm, run_jobs, start
from tests.stripe_fake import WEBHOOK_SECRET, card_token, intent, refunds, signed_event
from voucher import clock
from voucher.accounts.models import Role
from voucher.invoicing.models import InvoiceStatus
from voucher.payments import billing, services
from voucher.payments import refunds as refund_service
from voucher.payments.models import (
    OnlinePayment,
    OnlinePaymentStatus,
    OnlineRefund,
    RefundStatus,
)
from voucher.redemptions.corrections import correct_redemption, void_redemption
from voucher.redemptions.models import ClientShareStatus, Redemption
from voucher.settlement.run import Payer, settle_approved_invoices


def paid_october(db, client, world, stripe_fake) -> OnlinePayment:
    payment = start(db, world)
    confirm(db, stripe_fake, payment)
    payload, headers = signed_event("payment_intent.succeeded",
                                    intent(stripe_fake, payment.stripe_payment_intent_id))
    assert client.post("/payments/stripe/webhook", data=payload,
                       headers=headers).json["outcome"] == "succeeded"
    db.rollback()
    return db.get(OnlinePayment, payment.id)


def test_voiding_a_paid_event_succeeds_at_once_and_its_refund_follows(
        db, client, world, stripe_fake):
    payment = paid_october(db, client, world, stripe_fake)
    void_redemption(db, provider_id=world.provider.id, redemption_id=world.october[0].id,
                    actor=ACTOR)
    db.commit()
    assert db.get(Redemption, world.october[0].id).client_share_status == \
        ClientShareStatus.REFUNDED
    db.refresh(payment)
    assert payment.refunded_cents == 700
    refund = db.execute(sa.select(OnlineRefund)).scalar_one()
    assert refund.status == RefundStatus.PENDING  # owed at once, made by the job
    assert refunds(stripe_fake, payment.stripe_payment_intent_id) == []
    assert run_jobs(db) == {"refunded": 1}
    db.refresh(refund)
    assert refund.status == RefundStatus.SUCCEEDED and refund.stripe_refund_id
    made = refunds(stripe_fake, payment.stripe_payment_intent_id)
    assert [(r["amount"], r["metadata"]["refund_key"]) for r in made] == [
        (700, refund.idempotency_key)]
    assert run_jobs(db, after=dt.timedelta(hours=1)) == {"already_succeeded": 1}  # the watch
    assert len(refunds(stripe_fake, payment.stripe_payment_intent_id)) == 1  # nothing twice


def test_refunds_never_exceed_the_payment_although_the_fake_would_allow_it(
        db, client, world, stripe_fake):
    payment = paid_october(db, client, world, stripe_fake)
    refund_service.refund_part(db, payment=payment, redemption_id=world.october[0].id,
                               amount_cents=1400, reason="void", actor=ACTOR)
    db.commit()
    with pytest.raises(refund_service.RefundRefused):
        refund_service.refund_part(db, payment=payment, redemption_id=world.october[1].id,
                                   amount_cents=1400, reason="void", actor=ACTOR)
    db.rollback()
    with pytest.raises(refund_service.RefundRefused):  # the same event twice
        refund_service.refund_part(db, payment=payment, redemption_id=world.october[0].id,
                                   amount_cents=100, reason="void", actor=ACTOR)
    db.rollback()
    assert db.get(OnlinePayment, payment.id).refunded_cents == 1400
    run_jobs(db)
    # Only the one refund reached the fake, which itself would have taken more.
    assert [r["amount"] for r in refunds(stripe_fake, payment.stripe_payment_intent_id)] == [1400]
    extra = requests.post(f"{stripe_fake}/v1/refunds", auth=("sk_test_voucher", ""), data={
        "payment_intent": payment.stripe_payment_intent_id, "amount": 5000}, timeout=5)
    assert extra.status_code == 200  # the fake's gap: no limit


def test_settlement_pays_the_self_shares_to_the_provider_and_deducts_later_refunds(
        app, db, client, world, stripe_fake):
    payment = paid_october(db, client, world, stripe_fake)
    factories.invoice(db, world.provider, world.october, status=InvoiceStatus.APPROVED)
    db.commit()
    first = settle_approved_invoices(db, actor=ACTOR, payer=Payer.from_config(app.config))
    db.commit()
    paid = first.batch.payments[0]
    assert (paid.voucher_share_cents, paid.self_share_cents, paid.amount_cents) == (
        9600, 2100, 11700)
    assert first.batch.total_cents == 11700 and "117.00" in first.batch.sepa_xml
    # The provider corrects one event later: the self-share goes back to the client and is
    # deducted from the provider's next payment.
    correct_redemption(db, provider_id=world.provider.id, redemption_id=world.october[1].id,
                       replacement=None, actor=ACTOR)
    db.commit()
    assert db.get(OnlinePayment, payment.id).refunded_cents == 700
    factories.invoice(db, world.provider, world.november, status=InvoiceStatus.APPROVED)
    db.commit()
    second = settle_approved_invoices(db, actor=ACTOR, payer=Payer.from_config(app.config))
    db.commit()
    again = second.batch.payments[0]
    # No new self-shares to cover the 7 € refund (still pending at Stripe: it is owed to the
    # client all the same): it waits for a later payment, nothing of it is passed on.
    assert db.execute(sa.select(OnlineRefund.status)).scalar_one() == RefundStatus.PENDING
    assert (again.voucher_share_cents, again.self_share_cents) == (3200, 0)
    assert run_jobs(db) == {"refunded": 1}


def _row(page: str, name: str) -> list[str]:
    """The cells of the first table row naming ``name`` (spaces normalised)."""
    row = re.search(r"<tr>(?:(?!</tr>).)*" + re.escape(name) + r"(?:(?!</tr>).)*</tr>", page, re.S)
    assert row, f"no row with {name}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).replace("\xa0", " ").strip()
            for c in cells]


def test_the_settlement_preview_and_batch_show_each_payments_self_share_part(
        db, client, auth, world, stripe_fake):
    paid_october(db, client, world, stripe_fake)
    factories.invoice(db, world.provider, world.october, status=InvoiceStatus.APPROVED)
    factories.user(db, role=Role.ADMIN, email="boss@example.fi")
    db.commit()
    auth.login("boss@example.fi", factories.PASSWORD)
    preview = client.get("/admin/settlement/").get_data(as_text=True)
    # Voucher shares 96 €, self-shares paid online 21 €, together 117 €.
    assert _row(preview, "Hoiva Aurinko Oy")[-3:] == ["96,00 €", "21,00 €", "117,00 €"]
    assert "Suorita tilitys: maksa 1 laskua, 117,00 €" in preview.replace("\xa0", " ")
    response = post_form(client, "/admin/settlement/run", {"up_to": ""},
                         form_page="/admin/settlement/")
    assert response.status_code == 303
    batch = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _row(batch, "Hoiva Aurinko Oy")[-4:-1] == ["96,00 €", "21,00 €", "117,00 €"]


def test_the_provider_sees_self_shares_on_its_statement_and_can_bill_a_month_itself(
        db, client, auth, world, stripe_fake):
    paid_october(db, client, world, stripe_fake)
    auth.login("aurinko@example.fi", factories.PASSWORD)
    response = client.get("/provider/self-shares")
    assert response.status_code == 200, response.headers.get("Location")
    page = response.get_data(as_text=True)
    assert "21,00" in page and "Aino V." in page
    response = post_form(client, "/provider/self-shares/bill", {
        "client_id": world.client.id, "period": "2026-11-01"}, form_page="/provider/self-shares")
    assert response.status_code == 303
    db.rollback()
    assert [db.get(Redemption, e.id).client_share_status for e in world.november] == [
        ClientShareStatus.BILLED_BY_PROVIDER]


def test_unpaid_self_shares_go_to_the_provider_after_the_payment_days(app, db, world):
    factories.invoice(db, world.provider, world.october, status=InvoiceStatus.SUBMITTED)
    db.commit()
    assert billing.bill_unpaid(db, days=14, actor=ACTOR) == 0
    runner = app.test_cli_runner()
    from voucher import clock
    clock.freeze(clock.now() + dt.timedelta(days=15))
    result = runner.invoke(args=["payments", "bill-unpaid"])
    assert result.exit_code == 0 and "3 self-shares" in result.output
    db.rollback()
    assert {db.get(Redemption, e.id).client_share_status for e in world.october} == {
        ClientShareStatus.BILLED_BY_PROVIDER}
    assert db.get(Redemption, world.november[0].id).client_share_status == ClientShareStatus.DUE


def test_a_self_share_can_be_paid_online_to_the_end_of_its_pay_by_day(app, db, world):
    """The day the client is shown is the day the billing keeps to: not billed at its last
    minute, billed from the next day on."""
    invoice = factories.invoice(db, world.provider, world.october, status=InvoiceStatus.SUBMITTED)
    db.commit()
    october = next(g for g in services.due_self_shares(db, world.client.id, pay_days=14)
                   if g.period == dt.date(2026, 10, 1))
    assert october.pay_by == clock.local(invoice.created_at).date() + dt.timedelta(days=14)
    assert all(g.pay_by is None for g in services.due_self_shares(db, world.client.id))
    last_minute = dt.datetime.combine(october.pay_by, dt.time(23, 59), clock.HELSINKI)
    with clock.frozen_at(last_minute):
        assert billing.bill_unpaid(db, days=14, actor=ACTOR) == 0
    with clock.frozen_at(last_minute + dt.timedelta(minutes=2)):
        assert billing.bill_unpaid(db, days=14, actor=ACTOR) == len(world.october)
    db.commit()
    assert {db.get(Redemption, e.id).client_share_status for e in world.october} == {
        ClientShareStatus.BILLED_BY_PROVIDER}


def test_without_a_pay_time_self_shares_go_to_the_provider_once_invoiced(app, db, world):
    factories.invoice(db, world.provider, world.october, status=InvoiceStatus.SUBMITTED)
    db.commit()
    assert billing.bill_unpaid(db, days=0, actor=ACTOR) == len(world.october)


def test_the_client_pays_from_the_self_shares_page(db, client, auth, world, stripe_fake):
    auth.login("aino@example.fi", factories.PASSWORD)
    page = client.get("/self-shares/")
    assert page.status_code == 200 and "21,00" in page.get_data(as_text=True)
    response = post_form(client, "/self-shares/pay", {"provider_id": world.provider.id,
                                                      "period": "2026-10-01"},
                         form_page="/self-shares/")
    assert response.status_code == 303
    payment_page = client.get(response.headers["Location"])
    html = payment_page.get_data(as_text=True)
    assert f'src="{stripe_fake}/js.stripe.com/v3/"' in html and "js/payments.js" in html
    csp = payment_page.headers["Content-Security-Policy"]
    assert f"script-src 'self' {stripe_fake}" in csp and "unsafe-inline" not in csp
    declined = post_form(client, response.headers["Location"] + "/confirm", {
        "stripe_token": card_token(stripe_fake, "4000000000000341")},
        form_page=response.headers["Location"])
    assert declined.status_code == 303 and "attempt=" in declined.headers["Location"]
    answer = client.get(declined.headers["Location"]).get_data(as_text=True)
    assert "Korttimaksu ei onnistunut" in answer and "Yritä uudelleen toisella kortilla" in answer


def test_without_stripe_keys_the_pay_action_is_hidden(app, db, client, auth, world):
    app.config["STRIPE_SECRET_KEY"] = None
    auth.login("aino@example.fi", factories.PASSWORD)
    page = client.get("/self-shares/").get_data(as_text=True)
    assert "your provider bills" in page.lower() or "palveluntuottaja laskuttaa" in page.lower()
    assert 'action="/self-shares/pay"' not in page


def test_the_fake_sends_a_signed_webhook_that_records_the_payment(app, db, world, stripe_fake):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        requests.post(f"{stripe_fake}/_config/webhooks/voucher", data={
            "url": f"http://127.0.0.1:{server.server_port}/payments/stripe/webhook",
            "secret": WEBHOOK_SECRET, "events[]": ["payment_intent.succeeded",
                                                   "payment_intent.payment_failed"]},
            timeout=5).raise_for_status()
        payment = start(db, world)
        confirm(db, stripe_fake, payment)
        for _ in range(100):
            db.rollback()
            if db.get(OnlinePayment, payment.id).status == OnlinePaymentStatus.SUCCEEDED:
                break
            time.sleep(0.1)
        assert db.get(OnlinePayment, payment.id).status == OnlinePaymentStatus.SUCCEEDED
        assert {db.get(Redemption, e.id).client_share_status for e in world.october} == {
            ClientShareStatus.PAID_ONLINE}
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert db.execute(sa.select(sa.func.count()).select_from(OnlineRefund)).scalar() == 0


def test_a_payment_left_half_way_is_cancelled_and_its_self_shares_can_be_billed(
        db, world, stripe_fake):
    from voucher.payments.billing import abandon_stale_payments, bill_by_provider

    payment = start(db, world)
    assert abandon_stale_payments(db, actor=ACTOR) == 0  # still fresh
    clock.freeze(clock.now() + dt.timedelta(days=2))
    assert abandon_stale_payments(db, actor=ACTOR) == 1
    db.commit()
    assert db.get(OnlinePayment, payment.id).status == OnlinePaymentStatus.PENDING
    assert run_jobs(db) == {"failed": 1}
    assert intent(stripe_fake, payment.stripe_payment_intent_id)["status"] == "canceled"
    failed = db.get(OnlinePayment, payment.id)
    assert (failed.status, failed.failure_code) == (OnlinePaymentStatus.FAILED, "abandoned")
    # Free again: the provider may bill them now, and nothing waits on a dead payment.
    assert bill_by_provider(db, provider_id=world.provider.id, client_id=world.client.id,
                            period=dt.date(2026, 10, 1), actor=ACTOR) == len(world.october)
    assert abandon_stale_payments(db, actor=ACTOR) == 0


def test_a_payment_paid_before_it_could_be_cancelled_is_recorded_as_paid(
        db, world, stripe_fake):
    from voucher.payments.billing import abandon_stale_payments

    payment = start(db, world)
    card = card_token(stripe_fake)
    db.rollback()
    services.request_confirmation(db, payment=db.get(OnlinePayment, payment.id), token=card,
                                  actor=ACTOR)
    db.commit()  # confirmed at Stripe; no webhook comes
    clock.freeze(clock.now() + dt.timedelta(days=2))
    assert abandon_stale_payments(db, actor=ACTOR) == 1
    db.commit()
    outcomes = run_jobs(db)
    assert outcomes.get("succeeded") == 1  # the cancellation found the intent paid
    assert db.get(OnlinePayment, payment.id).status == OnlinePaymentStatus.SUCCEEDED
    assert intent(stripe_fake, payment.stripe_payment_intent_id)["status"] == "succeeded"
