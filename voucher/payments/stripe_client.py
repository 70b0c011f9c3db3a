"""The one place that talks to Stripe: the official SDK's ``StripeClient`` with the keys, the API
base and the timeouts from the configuration (development and tests point it at a local fake).

Nothing here touches the database, and nothing calls it inside a transaction: the calls are
recorded as jobs (``jobs``) and made after the commit. Every call that changes something sends
an idempotency key, so that a call repeated after a lost answer is the same call at Stripe.
Errors come in three kinds: the card was declined (``CardDeclined``), Stripe did not answer or
answered with a server error (``GatewayUnavailable``: try again later), or Stripe refused the
call for good (``GatewayRefused``: retrying cannot help; an operator must look).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import stripe
from flask import current_app


class GatewayUnavailable(Exception):
    """Stripe did not answer in time, the connection broke, or it answered 5xx or 429."""


class GatewayRefused(Exception):
    """Stripe refused the call (4xx other than a declined card): retrying cannot help."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


class CardDeclined(Exception):
    """The card was declined; ``reason`` is Stripe's message for the card holder."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Intent:
    """What the app needs of a PaymentIntent."""

    id: str
    status: str
    client_secret: str
    amount: int
    amount_received: int = 0
    currency: str = "eur"
    error_message: str | None = None
    metadata: dict = field(default_factory=dict)
    created: int = 0

    def failed(self) -> Intent:
        """The same intent as a failed attempt (a ``payment_failed`` event says so)."""
        return replace(self, status="requires_payment_method",
                       error_message=self.error_message or "")


@dataclass(frozen=True)
class Refund:
    id: str
    status: str
    amount: int
    payment_intent: str | None
    metadata: dict = field(default_factory=dict)


def is_configured(config=None) -> bool:
    """Online payment is in use when a secret and a publishable key are set."""
    config = config or current_app.config
    return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_PUBLISHABLE_KEY"))


def pay_days(config=None) -> int:
    """Days a client has to pay a month's self-shares online after its invoice
    (SELF_SHARE_PAY_DAYS); none when online payment is not in use."""
    config = config or current_app.config
    return config["SELF_SHARE_PAY_DAYS"] if is_configured(config) else 0


class Gateway:
    """The Stripe calls of the self-share payment, with the SDK's errors turned into ours."""

    def __init__(self, secret_key: str, api_base: str | None = None, *,
                 timeout_seconds: float = 10, network_retries: int = 1):
        base = {"api": api_base.rstrip("/")} if api_base else {}
        http = stripe.RequestsClient(timeout=timeout_seconds)
        self._client = stripe.StripeClient(secret_key, base_addresses=base, http_client=http,
                                           max_network_retries=network_retries)

    @classmethod
    def from_config(cls, config=None) -> Gateway:
        config = config or current_app.config
        if not config.get("STRIPE_SECRET_KEY"):
            raise GatewayUnavailable("online payment is not configured")
        return cls(config["STRIPE_SECRET_KEY"], config.get("STRIPE_API_BASE"),
                   timeout_seconds=config.get("STRIPE_TIMEOUT_SECONDS", 10),
                   network_retries=config.get("STRIPE_NETWORK_RETRIES", 1))

    def create_intent(self, *, amount_cents: int, idempotency_key: str,
                      metadata: dict[str, str]) -> Intent:
        """A PaymentIntent in euros for card payment, not yet confirmed."""
        return intent_of(self._call(self._client.v1.payment_intents.create, params={
            "amount": amount_cents, "currency": "eur", "payment_method_types": ["card"],
            "metadata": metadata}, options={"idempotency_key": idempotency_key}))

    def card_of_token(self, token_id: str) -> str:
        """The card (usable as a payment method) of a token made by Stripe.js in the browser."""
        token = self._call(self._client.v1.tokens.retrieve, token_id)
        return token["card"]["id"]

    def confirm_intent(self, intent_id: str, *, payment_method: str,
                       idempotency_key: str) -> Intent:
        """Attach the card and confirm. A declined card raises CardDeclined; a card that needs
        3-D Secure leaves the intent in ``requires_action`` for Stripe.js to finish."""
        self._call(self._client.v1.payment_intents.update, intent_id,
                   params={"payment_method": payment_method},
                   options={"idempotency_key": f"{idempotency_key}-attach"})
        return intent_of(self._call(self._client.v1.payment_intents.confirm, intent_id,
                                  options={"idempotency_key": f"{idempotency_key}-confirm"}))

    def retrieve_intent(self, intent_id: str) -> Intent:
        return intent_of(self._call(self._client.v1.payment_intents.retrieve, intent_id))

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        """Cancel an intent nobody finished. One that was paid (or cancelled) meanwhile cannot
        be cancelled: GatewayRefused, and the caller looks at the intent."""
        return intent_of(self._call(self._client.v1.payment_intents.cancel, intent_id,
                                  options={"idempotency_key": idempotency_key}))

    def list_intents(self, *, created_since: dt.datetime) -> Iterator[Intent]:
        """Every intent created since then, newest first."""
        page = self._call(self._client.v1.payment_intents.list, params={
            "limit": 100, "created": {"gte": int(created_since.timestamp())}})
        try:
            for intent in page.auto_paging_iter():
                yield intent_of(intent)
        except stripe.StripeError as exc:
            raise _translated(exc) from exc

    def refunds_of(self, intent_id: str) -> list[Refund]:
        page = self._call(self._client.v1.refunds.list, params={
            "payment_intent": intent_id, "limit": 100})
        try:
            return [_refund(refund) for refund in page.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise _translated(exc) from exc

    def refund(self, *, intent_id: str, amount_cents: int, idempotency_key: str,
               metadata: dict[str, str]) -> Refund:
        """Give back part of a payment. The key is also kept in the refund's metadata, so that
        a retry after Stripe has forgotten the key (24 hours) finds the refund instead of
        making a second one (``refunds_of``)."""
        return _refund(self._call(self._client.v1.refunds.create, params={
            "payment_intent": intent_id, "amount": amount_cents,
            "metadata": {**metadata, "refund_key": idempotency_key}},
            options={"idempotency_key": idempotency_key}))

    @staticmethod
    def _call(method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except stripe.StripeError as exc:
            raise _translated(exc) from exc


def _translated(exc: stripe.StripeError) -> Exception:
    if isinstance(exc, stripe.CardError):
        return CardDeclined(_reason(exc))
    status = getattr(exc, "http_status", None)
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or status is None \
            or status >= 500 or status in (409, 429):
        return GatewayUnavailable(f"{type(exc).__name__}: {status}")
    return GatewayRefused(str(getattr(exc, "user_message", None) or exc)[:300],
                          getattr(exc, "code", None))


def _reason(exc: stripe.CardError) -> str:
    message = (exc.user_message or str(getattr(exc, "_message", "") or "")).strip()
    return message if message.endswith(".") else f"{message}." if message else ""


def _plain(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def intent_of(intent) -> Intent:
    """Our view of a PaymentIntent object (from the SDK or a webhook's JSON)."""
    intent = _plain(intent)
    error = intent.get("last_payment_error") or {}
    return Intent(id=intent["id"], status=intent["status"],
                  client_secret=intent.get("client_secret") or "",
                  amount=int(intent["amount"]),
                  amount_received=int(intent.get("amount_received") or 0),
                  currency=str(intent.get("currency") or "eur").lower(),
                  error_message=(error.get("message") or None) if error else None,
                  metadata=dict(intent.get("metadata") or {}),
                  created=int(intent.get("created") or 0))


def _refund(refund) -> Refund:
    refund = _plain(refund)
    return Refund(id=refund["id"], status=refund.get("status") or "succeeded",
                  amount=int(refund["amount"]), payment_intent=refund.get("payment_intent"),
                  metadata=dict(refund.get("metadata") or {}))


def gateway() -> Gateway:
    """The gateway of the current app (tests may replace ``current_app.extensions``)."""
    return current_app.extensions.get("voucher.stripe_gateway") or Gateway.from_config()


def construct_event(payload: bytes, signature: str | None, secret: str):
    """A webhook event verified against the endpoint secret; raises ValueError for a payload
    that is not JSON and ``stripe.SignatureVerificationError`` for a bad signature."""
    return stripe.Webhook.construct_event(payload, signature or "", secret)
