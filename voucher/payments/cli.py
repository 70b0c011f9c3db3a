"""Command: ``payments bill-unpaid`` (daily): self-shares not paid online in time go to the
provider to bill."""

from __future__ import annotations

import click
from flask import current_app

from voucher import db


@click.group("payments")
def payments_group():
    """Self-shares paid online."""


@payments_group.command("bill-unpaid")
@click.option("--days", type=int, default=None,
              help="Days after the month's invoice (default VOUCHER_SELF_SHARE_PAY_DAYS; 0 when "
                   "online payment is not in use).")
def bill_unpaid(days: int | None):
    """End card payments left half-way for a day, then mark self-shares still due DAYS after
    their invoice as billed by the provider."""
    from voucher.audit.services import Actor
    from voucher.payments.billing import abandon_stale_payments
    from voucher.payments.billing import bill_unpaid as bill
    from voucher.payments.stripe_client import gateway, is_configured

    actor = Actor.system("cli:payments")
    if days is None:
        days = current_app.config["SELF_SHARE_PAY_DAYS"] if is_configured() else 0
    with db.command_session() as session:
        abandoned = abandon_stale_payments(session, gateway=gateway(), actor=actor) \
            if is_configured() else 0
        count = bill(session, days=days, actor=actor)
    click.echo(f"{abandoned} card payments left half-way were ended; "
               f"{count} self-shares are now billed by their providers.")
