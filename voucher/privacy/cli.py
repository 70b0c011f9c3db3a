"""Data-protection commands: ``keys rotate`` and ``privacy pseudonymise``."""

from __future__ import annotations

import click
from flask import current_app

from voucher import clock, db
from voucher.crypto import cipher
from voucher.locks import one_run_at_a_time


@click.group("keys")
def keys_group():
    """Encryption keys of personal data."""


@keys_group.command("rotate")
@click.option("--batch-size", default=500, show_default=True)
def rotate(batch_size: int):
    """Re-encrypt identity codes and two-factor secrets with the newest key (resumable)."""
    from voucher.privacy.rotation import rotate_keys

    # Its own session: the rotation commits batch by batch.
    session = current_app.extensions["voucher.db"]()
    try:
        report = rotate_keys(session, cipher(), batch_size=batch_size, progress=click.echo)
    finally:
        session.close()
    for name, count in report.rotated.items():
        click.echo(f"{name}: re-encrypted {count}, already current "
                   f"{report.already_current[name]}")
    click.echo("Done: every value is under the newest key.")



@click.group("privacy")
def privacy_group():
    """Clients' personal data: retention."""


@privacy_group.command("pseudonymise")
@click.option("--dry-run", is_flag=True, help="Only count the clients that are due.")
@one_run_at_a_time("privacy pseudonymise")
def pseudonymise(dry_run: bool):
    """Pseudonymise clients whose last voucher ended more than VOUCHER_RETENTION_YEARS ago
    (cron: nightly; running it again changes nothing)."""
    from voucher.audit.services import Actor
    from voucher.privacy.retention import pseudonymise_expired_clients

    years = current_app.config["RETENTION_YEARS"]
    with db.command_session() as session:
        report = pseudonymise_expired_clients(
            session, today=clock.today(), years=years, dry_run=dry_run,
            actor=Actor.system("cli:retention"))
    click.echo(f"Retention {years} years: clients whose last voucher ended before "
               f"{report.cutoff.isoformat()}: {report.due}.")
    if dry_run:
        click.echo("Dry run: nothing was changed.")
        return
    click.echo(f"Pseudonymised {len(report.pseudonymised)} clients, disabled "
               f"{report.accounts_disabled} logins, cleared {report.messages_scrubbed} e-mails "
               f"and {report.audit_texts_removed} free texts of the audit trail, "
               f"deleted {report.api_replies_deleted} stored API answers.")
