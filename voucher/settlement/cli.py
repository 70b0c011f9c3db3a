"""Commands: ``settlement run`` (the same run as the admin page), ``settlement
import-bank-files`` (the bank's status reports from a file transfer folder) and ``reconcile``."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask_babel import force_locale

from voucher import db
from voucher.locks import one_run_at_a_time
from voucher.money import format_cents


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


@click.group("settlement")
def settlement_group():
    """Settlement of approved invoices."""


@settlement_group.command("run")
@click.option("--up-to", "up_to", metavar="YYYY-MM-DD",
              help="Only invoices approved on or before this date.")
@one_run_at_a_time("settlement run")
def settlement_run(up_to: str | None):
    """Pay approved invoices: spending, payments and the pain.001 file, in one transaction."""
    from voucher.audit.services import Actor
    from voucher.errors import DomainError
    from voucher.settlement.run import Payer, settle_approved_invoices

    try:
        with db.command_session() as session:
            result = settle_approved_invoices(
                session, actor=Actor.system("cli:settlement"),
                payer=Payer.from_config(current_app.config), up_to=_date(up_to))
            batch = result.batch and (result.batch.id, result.batch.payment_count,
                                      result.batch.total_cents)
    except DomainError as exc:
        click.echo(f"Settlement failed, nothing was changed: {exc}", err=True)
        sys.exit(1)
    with force_locale("en"):
        for held in result.held:
            click.echo(f"waits: invoice {held.number} ({held.provider}): {held.message('en')}")
    if batch is None:
        click.echo("Nothing to pay.")
        return
    batch_id, payments, total = batch
    click.echo(f"Payment batch {batch_id}: {payments} payments, {format_cents(total, 'en')}. "
               f"Released unused commitment: {format_cents(result.released_cents, 'en')}.")


@click.command("reconcile")
@click.option("--from", "starts_on", metavar="YYYY-MM-DD", help="First day of the period.")
@click.option("--to", "ends_on", metavar="YYYY-MM-DD", help="Last day of the period.")
@one_run_at_a_time("reconcile")
def reconcile(starts_on: str | None, ends_on: str | None):
    """Check that budgets, ledger, service events, invoices and payments add up; exit 1 and
    name every difference when they do not. Prints the all-time figures (cents) first."""
    from voucher.settlement.figures import format_figures, reconciliation_figures
    from voucher.settlement.reconciliation import Period, find_differences

    with db.command_session() as session:
        for line in format_figures(reconciliation_figures(session)):
            click.echo(line)
        differences = find_differences(session, Period(_date(starts_on), _date(ends_on)))
        lines = [d.describe() for d in differences]
    if not lines:
        click.echo("Everything reconciles.")
        return
    click.echo(f"{len(lines)} difference(s):", err=True)
    for line in lines:
        click.echo(f"  {line}", err=True)
    sys.exit(1)


@settlement_group.command("posting-file")
@click.argument("batch_id", type=int)
@click.option("--format", "file_format", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--output", "output", type=click.Path(dir_okay=False, writable=True),
              help="The file to write (default: standard output).")
def posting_file(batch_id: int, file_format: str, output: str | None):
    """Write a payment batch's posting file (the bytes stored with the batch)."""
    from voucher.settlement.postings import find_posting_file

    with db.command_session() as session:
        posting = find_posting_file(session, batch_id)
        if posting is None:
            click.echo(f"Payment batch {batch_id} has no posting file.", err=True)
            sys.exit(1)
        content = posting.csv_content if file_format == "csv" else posting.json_content
    if output:
        with open(output, "wb") as handle:
            handle.write(content)
        click.echo(f"Wrote {len(content)} bytes to {output}.")
    else:
        click.get_binary_stream("stdout").write(content)


@settlement_group.command("import-bank-files")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--keep", is_flag=True,
              help="Leave the files where they are (an imported file is only marked, in the "
                   "database: importing it again changes nothing).")
def import_bank_files(folder: Path, keep: bool):
    """Import every new pain.002 and camt.054 file in FOLDER (a bank's file transfer folder).

    Each file is imported in a transaction of its own and claimed in the database by its
    SHA-256, so that several servers may run this from cron over the same folder: a file is
    applied once. Imported files (and those imported before) move to FOLDER/processed, files
    that are not bank files we can read to FOLDER/rejected; exit status 1 when any was."""
    from voucher.audit.services import Actor
    from voucher.settlement.bank_feedback import BankFileRefused, import_bank_file

    limit = current_app.config["MAX_UPLOAD_BYTES"]
    refused = 0
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        try:
            with path.open("rb") as handle:
                content = handle.read(limit + 1)
        except FileNotFoundError:  # another server has just moved it
            continue
        try:
            with db.command_session() as session:
                result = import_bank_file(
                    session, content=content, filename=path.name,
                    actor=Actor.system("cli:settlement import-bank-files"), source="folder",
                    max_bytes=limit)
                summary = dict(result.file.summary) if result.file else {}
                unknown = list(result.unknown)
                already = result.already_imported
        except BankFileRefused as exc:
            refused += 1
            with force_locale("en"):
                click.echo(f"refused: {path.name}: {exc}", err=True)
            _move(path, "rejected", keep)
            continue
        if already:
            click.echo(f"already imported: {path.name}")
        else:
            effects = ", ".join(f"{effect} {count}" for effect, count in summary.items())
            click.echo(f"imported: {path.name}: {effects or 'no payment statuses'}")
            for end_to_end_id in unknown:
                click.echo(f"  unknown end-to-end id: {end_to_end_id}", err=True)
        _move(path, "processed", keep)
    if refused:
        sys.exit(1)


def _move(path: Path, into: str, keep: bool) -> None:
    """Move a handled file into a subfolder (another server may have moved it already)."""
    if keep:
        return
    target_dir = path.parent / into
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        from voucher import clock

        target = target_dir / f"{path.stem}.{clock.now():%Y%m%d%H%M%S%f}{path.suffix}"
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, target)
