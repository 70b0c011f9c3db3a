"""Command line: ``flask --app voucher <command>`` or the ``voucher`` console script.

Each command runs in one transaction: committed when it succeeds, rolled back when it fails.
"""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from voucher import db
from voucher.locks import one_run_at_a_time


def register_commands(app: Flask) -> None:
    from voucher.api.cli import api_token_group
    from voucher.identification.cli import identification_group
    from voucher.payments.cli import payments_group
    from voucher.privacy.cli import keys_group, privacy_group
    from voucher.providers.cli import documents_group, providers_group
    from voucher.settlement.cli import reconcile, settlement_group
    from voucher.vouchers.cli import vouchers_group

    # One per line: every domain adds its own.
    for group in (
        db_group,
        outbox_group,
        audit_group,
        demo_group,
        api_token_group,
        keys_group,
        privacy_group,
        providers_group,
        documents_group,
        vouchers_group,
        settlement_group,
        payments_group,
        reconcile,
        identification_group,
    ):
        app.cli.add_command(group)


@click.group("db")
def db_group():
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str):
    """Migrate the database to the newest schema (or a given revision). One upgrade at a
    time: a second one waits for the first, then finds nothing left to do."""
    from voucher.migrations import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision, on_wait=lambda: click.echo(
        "db upgrade: another upgrade is running; waiting for it to end"))
    click.echo(f"Database at revision {revision}.")


@db_group.command("current")
def db_current():
    """Print the database's migration revision."""
    from voucher.migrations import current_revision, head_revision

    current = current_revision(db.engine())
    click.echo(f"current: {current}  head: {head_revision()}")
    sys.exit(0 if current == head_revision() else 1)


@db_group.command("is-empty")
def db_is_empty():
    """Exit 0 when the database holds no users yet (used by scripts/run)."""
    import sqlalchemy as sa

    from voucher.accounts.models import User

    with db.command_session() as session:
        count = session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one()
    sys.exit(0 if count == 0 else 1)


@click.group("outbox")
def outbox_group():
    """E-mail outbox."""


@outbox_group.command("send")
@click.option("--limit", default=100, show_default=True)
@one_run_at_a_time("outbox send")
def outbox_send(limit: int):
    """Send due e-mails over SMTP (cron: every minute)."""
    from voucher.mail.services import MailServerUnavailable, send_pending

    try:
        with db.command_session() as session:
            sent, failed = send_pending(session, limit=limit)
    except MailServerUnavailable as exc:
        click.echo(f"Mail server unavailable, nothing sent: {exc}", err=True)
        sys.exit(1)
    click.echo(f"sent {sent}, failed {failed}")
    sys.exit(1 if failed else 0)


@click.group("audit")
def audit_group():
    """Audit trail."""


@audit_group.command("verify")
@one_run_at_a_time("audit verify")
def audit_verify():
    """Verify the hash chain of the audit trail; name the first broken link."""
    from voucher.audit.services import verify_chain

    with db.command_session() as session:
        report = verify_chain(session)
    if report.ok:
        click.echo(f"Audit trail intact: {report.checked} events.")
        return
    click.echo(f"Audit trail BROKEN at event {report.broken_at}: {report.reason} "
               f"({report.checked} events before it are intact).", err=True)
    sys.exit(1)


@click.group("demo")
def demo_group():
    """Demo data."""


@demo_group.command("load")
def demo_load():
    """Load the demo (idempotent: running it twice duplicates nothing). Refused in production:
    its users share a password published in the README."""
    from voucher.demo import load_demo

    if current_app.config["VOUCHER_ENV"] == "production":
        raise click.ClickException(
            "The demo is not loaded in production: its users share the password published in "
            "the README. Try it with scripts/run, or set VOUCHER_ENV=development on a database "
            "of its own.")
    with db.command_session() as session:
        summary = load_demo(session)
    for line in summary:
        click.echo(line)


@demo_group.command("users")
def demo_users_command():
    """List the demo users: e-mail, display name and role, tab-separated, one a line.

    Exits 1 when one of them is not in the database (the demo is not loaded)."""
    import sqlalchemy as sa

    from voucher.accounts.models import User
    from voucher.demo import demo_users

    with db.command_session() as session:
        names = dict(session.execute(sa.select(User.email, User.display_name)).all())
    missing = [email for email, _role in demo_users() if email not in names]
    for email, role in demo_users():
        if email in names:
            click.echo(f"{email}\t{names[email]}\t{role}")
    if missing:
        click.echo(f"Not in the database: {', '.join(missing)}", err=True)
        sys.exit(1)


def main() -> None:
    """The ``voucher`` console script: the same commands as ``flask --app voucher``."""
    from voucher import create_app

    FlaskGroup(create_app=create_app)()
