"""``flask --app voucher vouchers expire``: the nightly expiry of vouchers, and
``vouchers remind``: the daily reminders (cron)."""

from __future__ import annotations

import click
from flask import current_app

from voucher import clock, db
from voucher.locks import one_run_at_a_time
from voucher.money import format_cents


@click.group("vouchers")
def vouchers_group():
    """Service vouchers."""


@vouchers_group.command("expire")
@click.option("--grace-days", default=14, show_default=True, type=click.IntRange(0, 365),
              help="Days after the validity during which providers may still record services "
                   "delivered within it.")
@one_run_at_a_time("vouchers expire")
def expire(grace_days: int):
    """Expire vouchers whose validity has ended and release what they did not use."""
    from voucher.vouchers.lifecycle import expire_vouchers

    with db.command_session() as session:
        report = expire_vouchers(session, today=clock.today(), grace_days=grace_days)
    click.echo(f"expired {report.expired} vouchers, released "
               f"{format_cents(report.released_cents, 'en')}")


@vouchers_group.command("remind")
@one_run_at_a_time("vouchers remind")
def remind():
    """Remind clients and case managers of vouchers ending within VOUCHER_REMINDER_DAYS, and
    clients of monthly allotments nearly used (each reminder once)."""
    from voucher.vouchers.reminders import send_reminders

    with db.command_session() as session:
        report = send_reminders(session, days_before_end=current_app.config["REMINDER_DAYS"])
    click.echo(f"reminded of {report.ending} vouchers ending and {report.nearly_used} "
               "allotments nearly used")
