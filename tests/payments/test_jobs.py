"""The job runner on several servers at once: each Stripe call is made once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from tests.payments.conftest import ACTOR, confirm, run_jobs, start
from tests.stripe_fake import refunds
from voucher import clock
from voucher.payments import jobs
from voucher.payments.models import JobStatus, OnlineRefund, RefundStatus, StripeJob
from voucher.redemptions.corrections import void_redemption


def _paid_with_voids(db, world, stripe_fake):
    payment = start(db, world)
    confirm(db, stripe_fake, payment)
    assert run_jobs(db, after=dt.timedelta(minutes=3)) == {"succeeded": 1}
    for event in world.october:
        void_redemption(db, provider_id=world.provider.id, redemption_id=event.id, actor=ACTOR)
    db.commit()
    db.refresh(payment)
    return payment


@pytest.mark.postgres_only
def test_two_runners_at_the_same_minute_make_each_refund_once(app, db, world, stripe_fake):
    payment = _paid_with_voids(db, world, stripe_fake)
    outcomes: list[dict] = []
    start_together = threading.Barrier(2)

    def runner():
        with app.app_context():
            start_together.wait()
            outcomes.append(jobs.run_due_jobs())

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    made = refunds(stripe_fake, payment.stripe_payment_intent_id)
    assert sorted(r["amount"] for r in made) == [700, 700, 700]
    assert sum(o.get("refunded", 0) for o in outcomes) == 3
    db.rollback()
    assert set(db.execute(sa.select(OnlineRefund.status)).scalars()) == {RefundStatus.SUCCEEDED}


@pytest.mark.postgres_only
def test_two_run_jobs_commands_at_once_refund_once_and_one_of_them_skips(
        app, db, world, stripe_fake, capsys, monkeypatch):
    from tests.concurrency import run_commands_at_once

    payment = _paid_with_voids(db, world, stripe_fake)
    capsys.readouterr()
    # The runner that holds the lock waits inside its work until the other has ended.
    release = threading.Event()
    real = jobs.run_due_jobs

    def held_run_due_jobs(**kwargs):
        release.wait(timeout=30)
        return real(**kwargs)

    monkeypatch.setattr(jobs, "run_due_jobs", held_run_due_jobs)

    codes = run_commands_at_once(app, ["payments", "run-jobs"], release=release)

    output = capsys.readouterr().out
    assert set(codes) == {None}, output
    assert output.count("payments run-jobs: skipped, another run holds the lock") == 1, output
    assert "Stripe jobs: 3 refunded." in output
    made = refunds(stripe_fake, payment.stripe_payment_intent_id)
    assert sorted(r["amount"] for r in made) == [700, 700, 700]


def test_a_job_held_by_a_runner_is_left_alone_until_its_lease_ends(app, db, world, stripe_fake):
    payment = _paid_with_voids(db, world, stripe_fake)
    job = db.execute(sa.select(StripeJob).where(StripeJob.online_refund_id.is_not(None))
                     .order_by(StripeJob.id)).scalars().first()
    # A runner claimed it and died before recording anything.
    db.execute(sa.update(StripeJob).where(StripeJob.id == job.id).values(
        locked_until=clock.now() + jobs.LEASE))
    db.commit()
    assert run_jobs(db) == {"refunded": 2}
    assert len(refunds(stripe_fake, payment.stripe_payment_intent_id)) == 2
    assert run_jobs(db, after=jobs.LEASE + dt.timedelta(seconds=1)) == {"refunded": 1}
    db.refresh(job)
    assert job.status == JobStatus.DONE
    assert len(refunds(stripe_fake, payment.stripe_payment_intent_id)) == 3
