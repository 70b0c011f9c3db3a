"""The one place that talks to Stripe: the official SDK's ``StripeClient`` with the keys and the
API base from the configuration (development and tests point it at a local fake).

Every call that creates something sends an idempotency key. Real Stripe answers a retried call
with the same object; the local fake ignores the keys, which is why the database guards against
paying or refunding twice on its own (see ``models``).
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from flask import current_app
from flask_babel import lazy_gettext as _l

from voucher.errors import DomainError

#: Seconds to wait for Stripe before giving up on a call (the client sees a message).
TIMEOUT_SECONDS = 20


class PaymentServiceUnavailable(DomainError):
    code = "payment_service_unavailable"
    status = 503
    message = _l("The card payment service did not answer. Nothing was charged; please try "
                 "again in a moment.")


class CardDeclined(DomainError):
    code = "card_declined"
    status = 402
    message = _l("The card payment did not go through: %(reason)s Nothing was charged and "
                 "your self-shares are still due. You can try another card.")


@dataclass(frozen=True)
class Intent:
    """What the app needs of a PaymentIntent."""

    id: str
    status: str
    client_secret: str
    amount: int


def is_configured(config=None) -> bool:
    """Online payment is in use when a secret and a publishable key are set."""
    config = config or current_app.config
    return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_PUBLISHABLE_KEY"))


class Gateway:
    """Stripe calls of the self-share payment, with the SDK's errors turned into ours."""

    def __init__(self, secret_key: str, api_base: str | None = None):
        base = {"api": api_base.rstrip("/")} if api_base else None
        http = stripe.RequestsClient(timeout=TIMEOUT_SECONDS)
        self._client = stripe.StripeClient(secret_key, base_addresses=base or {},
                                           http_client=http, max_network_retries=1)

    @classmethod
    def from_config(cls, config=None) -> Gateway:
        config = config or current_app.config
        if not config.get("STRIPE_SECRET_KEY"):
            raise PaymentServiceUnavailable()
        return cls(config["STRIPE_SECRET_KEY"], config.get("STRIPE_API_BASE"))

    def create_intent(self, *, amount_cents: int, idempotency_key: str,
                      metadata: dict[str, str]) -> Intent:
        """A PaymentIntent in euros for card payment, not yet confirmed."""
        intent = self._call(self._client.v1.payment_intents.create, params={
            "amount": amount_cents, "currency": "eur", "payment_method_types": ["card"],
            "metadata": metadata}, options={"idempotency_key": idempotency_key})
        return _intent(intent)

    def card_of_token(self, token_id: str) -> str:
        """The card (usable as a payment method) of a token made by Stripe.js in the browser."""
        token = self._call(self._client.v1.tokens.retrieve, token_id)
        return token["card"]["id"]

    def confirm_intent(self, intent_id: str, *, payment_method: str) -> Intent:
        """Attach the card and confirm. A declined card raises CardDeclined; a card that needs
        3-D Secure leaves the intent in ``requires_action`` for Stripe.js to finish."""
        self._call(self._client.v1.payment_intents.update, intent_id,
                   params={"payment_method": payment_method})
        return _intent(self._call(self._client.v1.payment_intents.confirm, intent_id))

    def retrieve_intent(self, intent_id: str) -> Intent:
        return _intent(self._call(self._client.v1.payment_intents.retrieve, intent_id))

    def cancel_intent(self, intent_id: str) -> Intent:
        """Cancel an intent nobody finished; one that was paid meanwhile cannot be cancelled
        (PaymentServiceUnavailable: the webhook then records the payment)."""
        return _intent(self._call(self._client.v1.payment_intents.cancel, intent_id))

    def refund(self, *, intent_id: str, amount_cents: int, idempotency_key: str) -> str:
        """Give back part (or all) of a payment; returns the refund's id."""
        refund = self._call(self._client.v1.refunds.create, params={
            "payment_intent": intent_id, "amount": amount_cents},
            options={"idempotency_key": idempotency_key})
        return refund["id"]

    @staticmethod
    def _call(method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except stripe.CardError as exc:
            raise CardDeclined(reason=_reason(exc)) from exc
        except stripe.StripeError as exc:
            raise PaymentServiceUnavailable() from exc


def _reason(exc: stripe.CardError) -> str:
    message = (exc.user_message or str(getattr(exc, "_message", "") or "")).strip()
    return message if message.endswith(".") else f"{message}." if message else ""


def _intent(intent) -> Intent:
    return Intent(id=intent["id"], status=intent["status"],
                  client_secret=intent["client_secret"], amount=int(intent["amount"]))


def gateway() -> Gateway:
    """The gateway of the current app (tests may replace ``current_app.extensions``)."""
    return current_app.extensions.get("voucher.stripe_gateway") or Gateway.from_config()


def construct_event(payload: bytes, signature: str | None, secret: str):
    """A webhook event verified against the endpoint secret; raises ValueError for a payload
    that is not JSON and ``stripe.SignatureVerificationError`` for a bad signature."""
    return stripe.Webhook.construct_event(payload, signature or "", secret)
