"""Commands of online payment, each safe to run on every server at the same minute:

- ``payments run-jobs`` (every minute): the Stripe work that is due, with retries;
- ``payments bill-unpaid`` (daily): card payments left half-way are cancelled, and self-shares
  not paid online in time go to the provider to bill;
- ``payments reconcile-stripe`` (daily): Stripe compared with the books.
"""

from __future__ import annotations

import sys

import click

from voucher import db
from voucher.locks import one_run_at_a_time


@click.group("payments")
def payments_group():
    """Self-shares paid online."""


@payments_group.command("run-jobs")
@click.option("--limit", type=int, default=200, show_default=True,
              help="At most this many jobs in one run.")
@one_run_at_a_time("payments run-jobs")
def run_jobs(limit: int):
    """Make the Stripe calls that are due (refunds, cancellations, retries, watches)."""
    from voucher.payments.jobs import run_due_jobs
    from voucher.payments.stripe_client import is_configured

    if not is_configured():
        click.echo("Online payment is not configured: no Stripe jobs to run.")
        return
    outcomes = run_due_jobs(limit=limit)
    done = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
    click.echo(f"Stripe jobs: {done or 'none due'}.")


@payments_group.command("bill-unpaid")
@click.option("--days", type=int, default=None,
              help="Days after the month's invoice (default VOUCHER_SELF_SHARE_PAY_DAYS; 0 when "
                   "online payment is not in use).")
@one_run_at_a_time("payments bill-unpaid")
def bill_unpaid(days: int | None):
    """Queue the cancellation of card payments left half-way for a day, then mark self-shares
    still due DAYS after their invoice as billed by the provider."""
    from voucher.audit.services import Actor
    from voucher.payments.billing import abandon_stale_payments
    from voucher.payments.billing import bill_unpaid as bill
    from voucher.payments.stripe_client import is_configured, pay_days

    actor = Actor.system("cli:payments")
    if days is None:
        days = pay_days()
    with db.command_session() as session:
        abandoned = abandon_stale_payments(session, actor=actor) if is_configured() else 0
        count = bill(session, days=days, actor=actor)
    click.echo(f"{abandoned} card payments left half-way will be cancelled at Stripe; "
               f"{count} self-shares are now billed by their providers.")


@payments_group.command("reconcile-stripe")
@click.option("--days", type=int, default=35, show_default=True,
              help="Compare the intents and refunds of this many last days.")
@one_run_at_a_time("payments reconcile-stripe")
def reconcile_stripe(days: int):
    """Compare Stripe's intents and refunds with the books: repair what a lost webhook or a
    lost answer left behind, raise an operator alert for the rest. Exits 1 on an alert."""
    from voucher.payments.stripe_client import GatewayUnavailable, gateway, is_configured
    from voucher.payments.stripe_reconciliation import open_jobs, reconcile_with_stripe

    if not is_configured():
        click.echo("Online payment is not configured: nothing to compare.")
        return
    try:
        found = reconcile_with_stripe(gateway=gateway(), days=days)
    except GatewayUnavailable as exc:
        click.echo(f"Stripe did not answer ({exc}); nothing was compared. Run again later.",
                   err=True)
        sys.exit(2)
    for line in found.repaired:
        click.echo(f"repaired: {line}")
    for line in found.alerts:
        click.echo(f"ALERT: {line}")
    with db.command_session() as session:
        queued = open_jobs(session)
    click.echo(f"{found.intents_seen} intents at Stripe, {found.payments_checked} payments "
               f"compared, {len(found.repaired)} repaired, {len(found.alerts)} alerts; jobs "
               f"waiting: {', '.join(f'{n} {k}' for k, n in sorted(queued.items())) or 'none'}.")
    if not found.clean:
        sys.exit(1)
