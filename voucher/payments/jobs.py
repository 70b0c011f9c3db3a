"""Performing Stripe jobs: outside any transaction, once, with retries and back-off.

Each attempt has three steps, each in its own short unit of work or none: claim the job (a
conditional UPDATE that takes a lease, so that two runners on two servers never make the same
call at once), call Stripe with no transaction open, record the outcome. A call repeated after
a lost answer is the same call at Stripe (idempotency keys), and a refund is first looked up by
its key in the refund's metadata, so that a retry after Stripe has forgotten the key (24 hours)
does not refund twice.

What each kind does:

- ``create_intent``: the request that starts a payment creates its intent. If Stripe does not
  answer, the payment fails at once ("unavailable": the client sees why and may try again, and
  nothing holds the self-shares) and the job stays queued to make sure no intent lives on: it
  asks Stripe for the intent of the same key (the one made, if the answer was lost, or else a
  new one) and cancels it. A job the request never finished is treated the same way.
- ``confirm_intent``: the request confirms the client's card; the job then watches the intent
  (reads it from Stripe after a while) until it succeeded or failed, so that a lost webhook, or
  a confirmation whose answer was lost, still ends the payment correctly.
- ``cancel_intent``: an abandoned payment's intent is cancelled; once Stripe says so, the
  payment fails and lets its self-shares go. An intent that was paid meanwhile is recorded.
- ``refund``: the pending refund is made (or found) at Stripe and marked succeeded.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock, db
from voucher.alerts.services import raise_alert, register_kind
from voucher.audit.services import Actor, record_event
from voucher.payments.intents import apply_intent, fail_payment, lock_payment
from voucher.payments.models import (
    JobKind,
    JobStatus,
    OnlinePayment,
    OnlinePaymentStatus,
    OnlineRefund,
    RefundStatus,
    StripeJob,
)
from voucher.payments.stripe_client import (
    CardDeclined,
    Gateway,
    GatewayRefused,
    GatewayUnavailable,
    Intent,
    Refund,
)
from voucher.payments.stripe_client import gateway as current_gateway

log = logging.getLogger(__name__)

#: A runner holds a claimed job this long (longer than a job's Stripe calls can take).
LEASE = dt.timedelta(minutes=5)
FIRST_RETRY = dt.timedelta(minutes=1)
MAX_BACKOFF = dt.timedelta(hours=6)
#: A confirmed intent is read again after this long, and watched for WATCH_FOR at most.
WATCH_EVERY = dt.timedelta(minutes=2)
WATCH_FOR = dt.timedelta(hours=2)
#: After this many failed attempts the operators are told (the job keeps trying).
ALERT_AFTER_ATTEMPTS = 8
#: Intent states that can still be cancelled.
CANCELLABLE = ("requires_payment_method", "requires_confirmation", "requires_action",
               "requires_capture")

JOB_STUCK = register_kind("stripe.job_stuck", _l(
    "Stripe job %(job_id)s (%(job_kind)s of online payment %(payment_id)s) has failed "
    "%(attempts)s times and keeps being retried; last error: %(error)s"))
JOB_REFUSED = register_kind("stripe.job_refused", _l(
    "Stripe refused job %(job_id)s (%(job_kind)s of online payment %(payment_id)s) for good: "
    "%(error)s. Do the step by hand in Stripe's dashboard, then resolve this alert."))
REFUND_FAILED = register_kind("stripe.refund_failed", _l(
    "Stripe reports refund %(stripe_refund_id)s of online payment %(payment_id)s as "
    "%(status)s: the client has not got %(amount_cents)s cents back."))


@dataclass(frozen=True)
class Work:
    """What one attempt needs, read when the job was claimed (no ORM rows cross the call)."""

    job_id: int
    kind: JobKind
    attempt: int
    key: str
    params: dict
    created_at: dt.datetime
    payment_id: int
    payment_status: OnlinePaymentStatus
    intent_id: str | None
    amount_cents: int
    refund_id: int | None
    refund_cents: int | None
    redemption_id: int | None
    stripe_refund_id: str | None
    by_request: bool

    @property
    def first_by_request(self) -> bool:
        return self.by_request and self.attempt == 1


#: What the call found, recorded in a unit of its own: (session, work) → outcome.
Recorder = Callable[[Session, Work], str]


def actor() -> Actor:
    return Actor.system("stripe:job")


def perform_job(job_id: int, *, by_request: bool = False, gateway: Gateway | None = None
                ) -> str:
    """One attempt at a job, now; returns its outcome ("done", "retry", "busy", …)."""
    work = _claim(job_id, by_request=by_request)
    if work is None:
        return "busy"
    try:
        gateway = gateway or current_gateway()
        recorder = _CALLS[work.kind](gateway, work)
    except GatewayUnavailable as exc:
        error = str(exc) or type(exc).__name__
        return _record(work, lambda session, work: _unavailable(session, work, error))
    except GatewayRefused as exc:
        error = str(exc) or type(exc).__name__
        return _record(work, lambda session, work: _refused(session, work, error))
    return _record(work, recorder)


def run_due_jobs(*, limit: int = 100, gateway: Gateway | None = None) -> dict[str, int]:
    """Every job that is due and not held by another runner, oldest first; what happened."""
    now = clock.now()
    with db.command_session() as session:
        ids = list(session.execute(
            sa.select(StripeJob.id).where(StripeJob.status == JobStatus.QUEUED,
                                          StripeJob.next_attempt_at <= now,
                                          _not_leased(now))
            .order_by(StripeJob.next_attempt_at, StripeJob.id).limit(limit)).scalars())
    outcomes: dict[str, int] = {}
    for job_id in ids:
        try:
            outcome = perform_job(job_id, gateway=gateway)
        except Exception:  # one broken job must not stop the others
            log.exception("stripe job %s failed", job_id)
            outcome = "error"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _not_leased(now: dt.datetime):
    return sa.or_(StripeJob.locked_until.is_(None), StripeJob.locked_until < now)


def _claim(job_id: int, *, by_request: bool) -> Work | None:
    now = clock.now()
    with db.command_session() as session:
        claimed = session.execute(
            sa.update(StripeJob)
            .where(StripeJob.id == job_id, StripeJob.status == JobStatus.QUEUED,
                   _not_leased(now))
            .values(locked_until=now + LEASE, attempts=StripeJob.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            return None
        job = session.get(StripeJob, job_id)
        payment = session.get(OnlinePayment, job.online_payment_id)
        refund = session.get(OnlineRefund, job.online_refund_id) if job.online_refund_id \
            else None
        return Work(job_id=job.id, kind=job.kind, attempt=job.attempts, key=job.idempotency_key,
                    params=dict(job.params or {}), created_at=job.created_at,
                    payment_id=payment.id, payment_status=payment.status,
                    intent_id=payment.stripe_payment_intent_id,
                    amount_cents=payment.amount_cents, refund_id=refund and refund.id,
                    refund_cents=refund and refund.amount_cents,
                    redemption_id=refund and refund.redemption_id,
                    stripe_refund_id=refund and refund.stripe_refund_id,
                    by_request=by_request)


def _record(work: Work, recorder: Recorder) -> str:
    with db.command_session() as session:
        outcome = recorder(session, work)
        record_event(session, actor(), f"stripe_job.{work.kind.value}.{outcome}",
                     "online_payment", work.payment_id, job_id=work.job_id,
                     attempt=work.attempt)
        return outcome


def _job(session: Session, work: Work) -> StripeJob:
    return session.get(StripeJob, work.job_id)


def _finish(session: Session, work: Work, *, status: JobStatus = JobStatus.DONE,
            result: dict | None = None) -> None:
    job = _job(session, work)
    job.status = status
    job.locked_until = None
    job.finished_at = clock.now()
    if result is not None:
        job.result = {**(job.result or {}), **result}
    session.flush()


def _again(session: Session, work: Work, *, after: dt.timedelta, error: str | None = None,
           result: dict | None = None) -> None:
    job = _job(session, work)
    job.locked_until = None
    job.next_attempt_at = clock.now() + after
    if error is not None:
        job.last_error = error[:500]
    if result is not None:
        job.result = {**(job.result or {}), **result}
    session.flush()


def _backoff(attempt: int) -> dt.timedelta:
    return min(FIRST_RETRY * 2 ** max(0, attempt - 1), MAX_BACKOFF)


def _unavailable(session: Session, work: Work, error: str) -> str:
    """Stripe did not answer: try again later (and tell the person waiting, if any)."""
    result = None
    if work.kind == JobKind.CREATE_INTENT and work.first_by_request:
        _fail_unstarted(session, work)
    elif work.kind == JobKind.CONFIRM_INTENT and work.first_by_request:
        result = {"unavailable": True}
    _again(session, work, after=_backoff(work.attempt), error=error, result=result)
    if work.attempt == ALERT_AFTER_ATTEMPTS:
        raise_alert(session, kind=JOB_STUCK, key=f"job_stuck:{work.job_id}", actor=actor(),
                    job_id=work.job_id, job_kind=work.kind.value, payment_id=work.payment_id,
                    attempts=work.attempt, error=error[:200])
    return "retry"


def _refused(session: Session, work: Work, error: str) -> str:
    """Stripe refused for good: nothing to retry; the person waiting is told, the operators
    get an alert when money may be involved."""
    if work.kind == JobKind.CONFIRM_INTENT and work.first_by_request:
        _finish(session, work, result={"error": "refused"})
        return "refused"
    if work.kind == JobKind.CREATE_INTENT and work.first_by_request:
        _fail_unstarted(session, work)
    _finish(session, work, status=JobStatus.FAILED)
    job = _job(session, work)
    job.last_error = error[:500]
    raise_alert(session, kind=JOB_REFUSED, key=f"job_refused:{work.job_id}", actor=actor(),
                job_id=work.job_id, job_kind=work.kind.value, payment_id=work.payment_id,
                error=error[:200])
    return "refused"


def _fail_unstarted(session: Session, work: Work) -> None:
    payment = lock_payment(session, work.payment_id)
    if payment.stripe_payment_intent_id is None:
        fail_payment(session, payment, code="unavailable", message=None)


# -- create_intent ------------------------------------------------------------------------------

def _call_create(gateway: Gateway, work: Work) -> Recorder:
    if work.first_by_request and work.payment_status == OnlinePaymentStatus.PENDING \
            and work.intent_id is None:
        intent = gateway.create_intent(
            amount_cents=work.amount_cents, idempotency_key=work.key,
            metadata={"online_payment_id": str(work.payment_id)})
        return lambda session, work: _record_created(session, work, intent)
    if work.intent_id is not None and work.payment_status != OnlinePaymentStatus.FAILED:
        return lambda session, work: _done(session, work)  # the request finished it
    # The payment failed before its intent was known: ask for the intent of the same key (the
    # one Stripe made, if it did) and cancel it, so that no one can ever pay it.
    intent = gateway.create_intent(amount_cents=work.amount_cents, idempotency_key=work.key,
                                   metadata={"online_payment_id": str(work.payment_id)})
    if intent.status in CANCELLABLE:
        intent = gateway.cancel_intent(intent.id, idempotency_key=f"{work.key}-cancel")
    return lambda session, work: _record_orphan(session, work, intent)


def _record_created(session: Session, work: Work, intent: Intent) -> str:
    stored = session.execute(
        sa.update(OnlinePayment)
        .where(OnlinePayment.id == work.payment_id,
               OnlinePayment.stripe_payment_intent_id.is_(None),
               OnlinePayment.status == OnlinePaymentStatus.PENDING)
        .values(stripe_payment_intent_id=intent.id)
        .execution_options(synchronize_session=False)).rowcount
    if stored != 1:  # the payment ended meanwhile: the intent must not live on
        _again(session, work, after=dt.timedelta(0))
        return "orphaned"
    _finish(session, work)
    return "created"


def _record_orphan(session: Session, work: Work, intent: Intent) -> str:
    payment = lock_payment(session, work.payment_id)
    if payment.stripe_payment_intent_id is None:
        payment.stripe_payment_intent_id = intent.id
        session.flush()
    if intent.status == "canceled":
        fail_payment(session, payment, code="unavailable", message=None)  # if still pending
        _finish(session, work)
        return "orphan_cancelled"
    # Paid before it could be cancelled: the money came, so it is recorded like a late success
    # (which refunds whatever is no longer due).
    outcome = apply_intent(session, payment, intent, actor=actor(), source="job")
    _finish(session, work)
    return f"orphan_{outcome}"


def _done(session: Session, work: Work) -> str:
    _finish(session, work)
    return "done"


# -- confirm_intent -----------------------------------------------------------------------------

def _call_confirm(gateway: Gateway, work: Work) -> Recorder:
    if work.intent_id is None:
        return lambda session, work: _done(session, work)
    if work.first_by_request:
        try:
            card = gateway.card_of_token(work.params.get("token", ""))
            intent = gateway.confirm_intent(work.intent_id, payment_method=card,
                                            idempotency_key=work.key)
        except CardDeclined as exc:
            reason = exc.reason
            return lambda session, work: _record_declined(session, work, reason)
        return lambda session, work: _record_confirmed(session, work, intent)
    intent = gateway.retrieve_intent(work.intent_id)
    return lambda session, work: _record_watched(session, work, intent)


def _record_confirmed(session: Session, work: Work, intent: Intent) -> str:
    result = {"intent_status": intent.status}
    if intent.status == "requires_action":
        result["client_secret"] = intent.client_secret
    _again(session, work, after=WATCH_EVERY, result=result)
    return intent.status


def _record_declined(session: Session, work: Work, reason: str) -> str:
    _again(session, work, after=WATCH_EVERY, result={"declined": reason[:300]})
    return "declined"


def _record_watched(session: Session, work: Work, intent: Intent) -> str:
    payment = lock_payment(session, work.payment_id)
    outcome = apply_intent(session, payment, intent, actor=actor(), source="job")
    if outcome == "unchanged" and clock.now() - work.created_at < WATCH_FOR:
        _again(session, work, after=WATCH_EVERY)
        return "watching"
    _finish(session, work)
    return outcome


# -- cancel_intent ------------------------------------------------------------------------------

def _call_cancel(gateway: Gateway, work: Work) -> Recorder:
    if work.intent_id is None or work.payment_status != OnlinePaymentStatus.PENDING:
        return lambda session, work: _done(session, work)
    try:
        intent = gateway.cancel_intent(work.intent_id, idempotency_key=work.key)
    except GatewayRefused:
        intent = gateway.retrieve_intent(work.intent_id)  # paid (or ended) meanwhile
    return lambda session, work: _record_cancelled(session, work, intent)


def _record_cancelled(session: Session, work: Work, intent: Intent) -> str:
    payment = lock_payment(session, work.payment_id)
    if intent.status == "canceled":
        outcome = fail_payment(session, payment, code="abandoned", message=None)
        record_event(session, actor(), "online_payment.abandoned", "online_payment",
                     payment.id, client_id=payment.client_id)
    else:
        outcome = apply_intent(session, payment, intent, actor=actor(), source="job")
        if outcome == "unchanged":  # still payable at Stripe (e.g. processing): look later
            _again(session, work, after=_backoff(work.attempt))
            return "waiting"
    _finish(session, work)
    return outcome


# -- refund -------------------------------------------------------------------------------------

def _call_refund(gateway: Gateway, work: Work) -> Recorder:
    found = next((r for r in gateway.refunds_of(work.intent_id)
                  if r.metadata.get("refund_key") == work.key
                  or (work.stripe_refund_id and r.id == work.stripe_refund_id)), None)
    refund = found or gateway.refund(
        intent_id=work.intent_id, amount_cents=work.refund_cents, idempotency_key=work.key,
        metadata={"online_payment_id": str(work.payment_id),
                  "redemption_id": str(work.redemption_id)})
    return lambda session, work: _record_refund(session, work, refund, found is not None)


def _record_refund(session: Session, work: Work, refund: Refund, found: bool) -> str:
    row = session.get(OnlineRefund, work.refund_id)
    row.stripe_refund_id = refund.id
    if refund.status == "succeeded":
        row.status = RefundStatus.SUCCEEDED
        row.succeeded_at = clock.now()
        _finish(session, work)
        record_event(session, actor(), "online_payment.refunded", "online_payment",
                     work.payment_id, redemption_id=work.redemption_id,
                     amount_cents=row.amount_cents, stripe_refund_id=refund.id)
        return "found" if found else "refunded"
    if refund.status in ("failed", "canceled"):
        raise_alert(session, kind=REFUND_FAILED, key=f"refund_failed:{refund.id}",
                    actor=actor(), stripe_refund_id=refund.id, payment_id=work.payment_id,
                    status=refund.status, amount_cents=row.amount_cents)
        _finish(session, work, status=JobStatus.FAILED)
        return "refund_failed"
    _again(session, work, after=_backoff(work.attempt))  # Stripe still processing it
    return "refund_processing"


_CALLS: dict[JobKind, Callable[[Gateway, Work], Recorder]] = {
    JobKind.CREATE_INTENT: _call_create,
    JobKind.CONFIRM_INTENT: _call_confirm,
    JobKind.CANCEL_INTENT: _call_cancel,
    JobKind.REFUND: _call_refund,
}
