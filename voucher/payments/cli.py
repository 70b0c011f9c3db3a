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
    """Mark self-shares still due DAYS after their invoice as billed by the provider."""
    from voucher.audit.services import Actor
    from voucher.payments.billing import bill_unpaid as bill
    from voucher.payments.stripe_client import is_configured

    if days is None:
        days = current_app.config["SELF_SHARE_PAY_DAYS"] if is_configured() else 0
    with db.command_session() as session:
        count = bill(session, days=days, actor=Actor.system("cli:payments"))
    click.echo(f"{count} self-shares are now billed by their providers.")
