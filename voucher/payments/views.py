"""Self-share pages: the client's list and card payment, the provider's statement, and the
Stripe webhook."""

from __future__ import annotations

import datetime as dt
import logging

import stripe
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from voucher import clock, db
from voucher.access import public, roles
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.errors import DomainError
from voucher.extensions import csrf
from voucher.invoicing.services import period_label
from voucher.payments import billing, provider_statement, services, stripe_client, webhooks
from voucher.payments import labels as _payment_labels  # noqa: F401 (registers them)
from voucher.payments.models import OnlinePaymentStatus, RefundStatus
from voucher.web import current_actor

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)
bp.add_app_template_filter(period_label, "month")


def _period(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "").replace(day=1)
    except ValueError:
        abort(400)


def _int(value: str | None) -> int:
    if not value or not value.isascii() or not value.isdigit() or int(value) >= 2**31:
        abort(400)
    return int(value)


@bp.get("/self-shares/")
@roles(Role.CLIENT)
def self_shares():
    """What the client owes per provider and month, with one "pay" action each."""
    session = db.session()
    client_id = current_user.client_id
    payments = services.client_payments(session, client_id)
    return render_template(
        "payments/self_shares.html",
        groups=services.due_self_shares(session, client_id,
                                        pay_days=stripe_client.pay_days()),
        payments=payments, refunds=services.refunds_of(session, [p.id for p in payments]),
        online=stripe_client.is_configured(), pay_days=stripe_client.pay_days(),
        today=clock.today(),
        Status=OnlinePaymentStatus,
        RefundStatus=RefundStatus)


@bp.post("/self-shares/pay")
@roles(Role.CLIENT)
def pay():
    """Start (or continue) paying one provider's month; the intent is created at Stripe right
    after the commit, before the card page opens."""
    if not stripe_client.is_configured():
        abort(404)
    try:
        payment = services.start_payment(
            db.session(), client_id=current_user.client_id,
            provider_id=_int(request.form.get("provider_id")),
            period=_period(request.form.get("period")), actor=current_actor())
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".self_shares"), code=303)
    return redirect(url_for(".payment", payment_id=payment.id), code=303)


def _attempt_id() -> int | None:
    value = request.args.get("attempt", "")
    return int(value) if value.isascii() and value.isdigit() and int(value) < 2**31 else None


@bp.get("/self-shares/payments/<int:payment_id>")
@roles(Role.CLIENT)
def payment(payment_id: int):
    """The card form while the payment waits; what Stripe answered to the last card; the
    payment's state afterwards."""
    session = db.session()
    found = services.find_client_payment(session, client_id=current_user.client_id,
                                         payment_id=payment_id)
    attempt = services.confirmation_of(session, found, _attempt_id())
    result = (attempt.result or {}) if attempt else {}
    pending = found.status == OnlinePaymentStatus.PENDING
    waiting = pending and bool(request.args.get("sent") or result.get("intent_status") in (
        "succeeded", "processing"))
    declined = pending and result.get("declined") is not None
    return render_template(
        "payments/payment.html", payment=found, result=result, waiting=waiting,
        declined=declined, card_form=pending and bool(found.stripe_payment_intent_id)
        and not waiting and not declined,
        retry=declined or found.failure_code == "unavailable",
        events=services.payment_events(session, found),
        refunds=services.refunds_of(session, [found.id]).get(found.id, []),
        Status=OnlinePaymentStatus, RefundStatus=RefundStatus,
        publishable_key=current_app.config.get("STRIPE_PUBLISHABLE_KEY"),
        stripe_js_url=current_app.config.get("STRIPE_JS_URL"))


@bp.post("/self-shares/payments/<int:payment_id>/confirm")
@roles(Role.CLIENT)
def confirm(payment_id: int):
    """Pay with the card Stripe.js turned into a token: recorded, sent to Stripe right after
    the commit, and the page then shows Stripe's answer (3-D Secure goes on in Stripe.js)."""
    session = db.session()
    found = services.find_client_payment(session, client_id=current_user.client_id,
                                         payment_id=payment_id)
    token = request.form.get("stripe_token", "")
    if not token.startswith("tok_") or len(token) > 255 or not token.isascii():
        flash(_("The card details did not reach the payment service. Check them and try "
                "again."), "error")
        return redirect(url_for(".payment", payment_id=found.id), code=303)
    try:
        attempt = services.request_confirmation(session, payment=found, token=token,
                                                actor=current_actor())
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".payment", payment_id=found.id), code=303)
    return redirect(url_for(".payment", payment_id=found.id, attempt=attempt.id), code=303)


@bp.get("/self-shares/payments/<int:payment_id>/status")
@roles(Role.CLIENT)
def status(payment_id: int):
    """The payment's state, for the page that waits for the bank's answer."""
    found = services.find_client_payment(db.session(), client_id=current_user.client_id,
                                         payment_id=payment_id)
    return jsonify(status=found.status.value)


@bp.post("/payments/stripe/webhook")
@public
@csrf.exempt
def stripe_webhook():
    """Stripe's events, verified with the endpoint secret; anything unverified is 400 and
    changes nothing; a duplicate is 200 and changes nothing."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        abort(404)
    payload = request.get_data(cache=False)
    try:
        event = stripe_client.construct_event(
            payload, request.headers.get("Stripe-Signature"), secret)
    except (ValueError, stripe.SignatureVerificationError):
        log.warning("stripe webhook refused: bad signature or payload")
        return jsonify(error="invalid signature"), 400
    outcome = webhooks.handle_event(db.session(), event.to_dict(),
                                    actor=Actor.system("stripe:webhook"))
    return jsonify(received=True, outcome=outcome)


@bp.get("/provider/self-shares")
@roles(Role.PROVIDER)
def provider_self_shares():
    """The provider's statement of self-shares: due, paid online and not yet passed on, and the
    settlement payments with their voucher and self-share parts."""
    statement = provider_statement.statement(db.session(), current_user.provider_id)
    return render_template("payments/provider_self_shares.html", statement=statement)


@bp.post("/provider/self-shares/bill")
@roles(Role.PROVIDER)
def bill_myself():
    """The provider bills a client's month of self-shares itself."""
    try:
        count = billing.bill_by_provider(
            db.session(), provider_id=current_user.provider_id,
            client_id=_int(request.form.get("client_id")),
            period=_period(request.form.get("period")), actor=current_actor())
    except DomainError as exc:
        flash(str(exc), "error")
    else:
        flash(_("%(count)d self-shares marked as billed by you. Send the client your own "
                "invoice for them.", count=count), "success")
    return redirect(url_for(".provider_self_shares"), code=303)
