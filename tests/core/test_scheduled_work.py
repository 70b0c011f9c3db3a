"""Every cron line runs on every server at the same minute: one run works, the others skip.

The commands hold a PostgreSQL advisory lock (``voucher/locks.py``) for their whole run; the
tests start two runners at once, each in its own thread with its own app context, and hold the
winner inside its work until the other has finished, so that the two surely overlap.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from tests.concurrency import run_commands_at_once
from voucher.locks import lock_key, single_run, skipped_message


@pytest.fixture
def engine(app):
    return app.extensions["voucher.engine"]


def test_on_sqlite_every_run_gets_the_lock(app, engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: one process, no advisory locks")
    with single_run(engine, "outbox send") as first, single_run(engine, "outbox send") as again:
        assert first and again


def test_lock_keys_are_stable_and_distinct():
    assert lock_key("outbox send") == lock_key("outbox send")
    assert lock_key("outbox send") != lock_key("vouchers expire")
    assert -2**63 <= lock_key("settlement run") < 2**63


@pytest.mark.postgres_only
def test_a_second_holder_is_refused_while_the_first_holds_the_lock(engine):
    with single_run(engine, "test lock") as first:
        assert first
        with single_run(engine, "test lock") as second:
            assert not second
        with single_run(engine, "another lock") as other:
            assert other
    with single_run(engine, "test lock") as after:
        assert after


@pytest.mark.postgres_only
def test_the_lock_is_released_when_the_work_fails(engine):
    with pytest.raises(RuntimeError), single_run(engine, "test lock") as got:
        assert got
        raise RuntimeError("the run failed")
    with single_run(engine, "test lock") as after:
        assert after


@pytest.mark.postgres_only
def test_a_waiting_holder_gets_the_lock_once_the_first_lets_go(engine):
    holding = threading.Event()
    order = []

    def first():
        with single_run(engine, "test lock") as got:
            assert got
            holding.set()
            time.sleep(1)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(10)
    with single_run(engine, "test lock", wait=True) as got:
        order.append("second in")
        assert got
    thread.join(10)
    assert order == ["first done", "second in"]


class Gate:
    """Wraps the service a command calls: the runner that gets in waits at the gate until it
    is opened, so that the other runner tries while the first one still holds the lock."""

    def __init__(self, result=None):
        self.entered = 0
        self.opened = threading.Event()
        self._lock = threading.Lock()
        self._result = result

    def wrap(self, real):
        def service(*args, **kwargs):
            with self._lock:
                self.entered += 1
            self.opened.wait(timeout=30)
            return self._result if self._result is not None else real(*args, **kwargs)

        return service


_NO_STRIPE_DIFFERENCES = SimpleNamespace(repaired=[], alerts=[], intents_seen=0,
                                         payments_checked=0, clean=True)

#: Each cron command, and the service in it that does the work (what runs once).
CRON_COMMANDS = [
    ("outbox send", "voucher.mail.services.send_pending", None),
    ("vouchers expire", "voucher.vouchers.lifecycle.expire_vouchers", None),
    ("vouchers remind", "voucher.vouchers.reminders.send_reminders",
     SimpleNamespace(ending=0, nearly_used=0)),
    ("providers check-expiry", "voucher.providers.expiry.check_expiry", None),
    ("payments run-jobs", "voucher.payments.jobs.run_due_jobs", None),
    ("payments bill-unpaid", "voucher.payments.billing.bill_unpaid", None),
    ("payments reconcile-stripe", "voucher.payments.stripe_reconciliation."
     "reconcile_with_stripe", _NO_STRIPE_DIFFERENCES),
    ("privacy pseudonymise", "voucher.privacy.retention.pseudonymise_expired_clients", None),
    ("settlement run", "voucher.settlement.run.settle_approved_invoices", None),
    ("audit verify", "voucher.audit.services.verify_chain", None),
    ("reconcile", "voucher.settlement.figures.reconciliation_figures", None),
]


@pytest.mark.postgres_only
@pytest.mark.parametrize(("name", "service", "result"), CRON_COMMANDS,
                         ids=[c[0] for c in CRON_COMMANDS])
def test_two_runs_at_the_same_minute_work_once_and_the_other_skips(
        app, monkeypatch, capsys, name, service, result):
    import importlib

    app.config.update(SMTP_HOST="127.0.0.1", STRIPE_SECRET_KEY="sk_test_x",
                      STRIPE_PUBLISHABLE_KEY="pk_test_x")
    module, _, attribute = service.rpartition(".")
    gate = Gate(result)
    monkeypatch.setattr(importlib.import_module(module), attribute,
                        gate.wrap(getattr(importlib.import_module(module), attribute)))

    codes = run_commands_at_once(app, name.split(), release=gate.opened)

    output = capsys.readouterr().out
    assert gate.entered == 1, output
    assert output.count(skipped_message(name)) == 1, output
    assert len(codes) == 2 and set(codes) <= {None, 0}, (codes, output)
    # The lock was let go: the next run works.
    with single_run(app.extensions["voucher.engine"], name) as got:
        assert got


@pytest.mark.slow
@pytest.mark.postgres_only
def test_a_cron_process_started_while_another_holds_the_lock_skips_with_status_0(
        engine, database_url, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    flask = Path(sys.executable).parent / "flask"
    environment = {**os.environ, "VOUCHER_ENV": "test", "VOUCHER_DATABASE_URL": database_url,
                   "VOUCHER_INSTANCE_PATH": str(tmp_path), "VOUCHER_SMTP_HOST": "127.0.0.1"}
    with single_run(engine, "outbox send") as got:
        assert got
        skipped = subprocess.run([str(flask), "--app", "voucher", "outbox", "send"],
                                 env=environment, capture_output=True, text=True, timeout=120)
    assert (skipped.returncode, skipped.stdout) == (
        0, "outbox send: skipped, another run holds the lock\n"), skipped.stderr
    after = subprocess.run([str(flask), "--app", "voucher", "outbox", "send"],
                           env=environment, capture_output=True, text=True, timeout=120)
    assert (after.returncode, after.stdout) == (0, "sent 0, failed 0\n"), after.stderr
