"""Concurrent issuing never overdraws a budget: 20 parallel issue requests over real HTTP
against a budget with room for 10 vouchers issue exactly 10 (PostgreSQL)."""

import datetime as dt
import threading
from collections import Counter

import pytest
import requests
import sqlalchemy as sa

from tests import factories
from tests.conftest import csrf_token_from
from voucher import clock
from voucher.budgets.models import Budget, BudgetEntry
from voucher.vouchers.models import Voucher, VoucherStatus


class _Page:
    """Enough of a response for csrf_token_from."""

    def __init__(self, text):
        self.text = text

    def get_data(self, as_text=True):
        return self.text


@pytest.mark.postgres_only
def test_twenty_parallel_issue_requests_against_room_for_ten(live_url, db, world):
    server = live_url
    budget_id = world.budgets[("CLEANING", 2026)].id
    db.get(Budget, budget_id).amount_cents = 10 * 25_000  # ten vouchers of 10 h × 25 €
    db.commit()
    browser = requests.Session()
    login = browser.get(f"{server}/login")
    browser.post(f"{server}/login", data={"email": world.case_manager.email,
                                          "password": factories.PASSWORD,
                                          "csrf_token": csrf_token_from(_Page(login.text))})
    url = f"{server}/vouchers/new/{world.client.id}"
    form = {"service_type": world.fixed.id, "need_assessment": "Siivousapu.",
            "recurrence": "total", "units": "10", "valid_from": "2026-12-01",
            "valid_until": "2026-12-31", "action": "issue",
            "csrf_token": csrf_token_from(_Page(browser.get(url).text))}
    cookies = browser.cookies.get_dict()
    start = threading.Barrier(20)
    statuses: Counter = Counter()
    refusals = []
    lock = threading.Lock()

    def issue():
        start.wait()
        response = requests.post(url, data=form, cookies=cookies, allow_redirects=False,
                                 timeout=60)
        with lock:
            statuses[response.status_code] += 1
            if response.status_code != 303:
                refusals.append(response.text)

    threads = [threading.Thread(target=issue) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert statuses == {303: 10, 422: 10}
    assert all("määräraha palvelulle CLEANING fi vuonna 2026 ei riitä" in text
               for text in refusals)
    db.rollback()
    issued = db.execute(sa.select(Voucher).where(Voucher.status == VoucherStatus.ISSUED)
                        ).scalars().all()
    assert len(issued) == 10
    # Ten numbers without gaps: a refused decision gives its number back.
    year = clock.local(issued[0].issued_at).year
    assert sorted(v.decision_number for v in issued) == [
        f"PS-{year}-{n:06d}" for n in range(1, 11)]
    budget = db.get(Budget, budget_id)
    assert (budget.committed_cents, budget.free_cents) == (250_000, 0)
    assert db.execute(sa.select(sa.func.sum(BudgetEntry.amount_cents))).scalar() == 250_000
    assert db.execute(sa.select(sa.func.count()).select_from(Voucher)).scalar() == 10


@pytest.mark.postgres_only
def test_parallel_approvals_of_one_decision_commit_once(app, db, database_url, world):
    from tests.concurrency import run_in_parallel
    from voucher.audit.services import Actor
    from voucher.vouchers import issuing
    from voucher.vouchers.policy import current_policy

    current_policy(db).four_eyes_threshold_cents = 0
    voucher = issuing.issue_decision(db, client=world.client, actor=world.actor(
        world.case_manager), decision=issuing.Decision(
        service_type_id=world.fixed.id, need_assessment="Siivousapu.",
        recurrence=issuing.Recurrence.TOTAL, units_per_period=1000,
        valid_from=dt.date(2026, 12, 1), valid_until=dt.date(2026, 12, 31)))
    db.commit()
    voucher_id, approver_id = voucher.id, world.second_case_manager.id

    def approve(session, _i):
        issuing.approve_decision(session, session.get(Voucher, voucher_id),
                                 actor=Actor(approver_id, f"user:{approver_id}"))

    outcomes = run_in_parallel(database_url, approve, 5, app=app)
    assert outcomes == {"ok": 1, "InvalidTransition": 4}
    db.expire_all()
    assert db.get(Budget, world.budgets[("CLEANING", 2026)].id).committed_cents == 25_000
    assert db.get(Voucher, voucher_id).status == VoucherStatus.ISSUED
