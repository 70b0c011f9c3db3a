"""``flask --app voucher providers …``: the providers' scheduled jobs."""

from __future__ import annotations

import click

from voucher import db
from voucher.locks import one_run_at_a_time


@click.group("providers")
def providers_group():
    """Providers."""


@providers_group.command("check-expiry")
@one_run_at_a_time("providers check-expiry")
def check_expiry_command():
    """Remind providers 30 days before their insurance or a document expires, and notify them
    (and flag them to administrators) once it has expired. Idempotent; run daily from cron."""
    import voucher.models  # noqa: F401  (every table: the audit trail refers to clients)
    from voucher.providers.expiry import check_expiry

    with db.command_session() as session:
        report = check_expiry(session)
    click.echo(f"reminders sent {report.reminders}, expiry notices sent {report.expired}")
