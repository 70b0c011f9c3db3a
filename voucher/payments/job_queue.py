"""Recording Stripe work as jobs, in the transaction of the business change they belong to.

A job the person waits for (creating the intent of the payment they start, confirming their
card) is performed by the request right after its commit (``db.after_commit``); the runner
(``jobs.run_due_jobs``, cron every minute) leaves it alone for REQUEST_GRACE, then takes over
what the request could not finish. Other jobs (refunds, cancellations) are the runner's at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from voucher import clock, db
from voucher.payments.models import JobKind, StripeJob

#: How long the runner leaves a job to the request that performs it.
REQUEST_GRACE = dt.timedelta(minutes=2)


def record_job(session: Session, *, kind: JobKind, payment_id: int, key: str,
               refund_id: int | None = None, params: dict | None = None,
               by_request: bool = False) -> StripeJob:
    """Record a Stripe call to make once this transaction has committed."""
    now = clock.now()
    job = StripeJob(kind=kind, online_payment_id=payment_id, online_refund_id=refund_id,
                    idempotency_key=key, params=params or {}, result={}, attempts=0,
                    next_attempt_at=now + REQUEST_GRACE if by_request else now, created_at=now)
    session.add(job)
    session.flush()
    if by_request:
        job_id = job.id

        def perform_now() -> None:
            from voucher.payments.jobs import perform_job  # jobs imports what records jobs

            perform_job(job_id, by_request=True)

        db.after_commit(session, perform_now)
    return job
