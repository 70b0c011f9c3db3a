"""``flask --app voucher providers …``: the providers' scheduled jobs; ``documents
import-files``: moving documents from files into the database."""

from __future__ import annotations

import sys

import click
from flask import current_app

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


@providers_group.command("clean-text")
@click.option("--dry-run", is_flag=True, help="Name what would change; change nothing.")
def clean_text_command(dry_run: bool):
    """Repair providers' text stored before input was cleaned: NFC, plain whitespace, control
    characters removed (each change audited, field names only). A provider that settlement
    held for a control character in its name is paid by the next run."""
    import voucher.models  # noqa: F401
    from voucher.providers.text_repair import repair_provider_texts

    with db.command_session() as session:
        repaired = repair_provider_texts(session, dry_run=dry_run)
    for provider_id, fields in repaired:
        click.echo(f"provider {provider_id}: {', '.join(fields)}")
    click.echo(f"{'would repair' if dry_run else 'repaired'} {len(repaired)} providers")


@click.group("documents")
def documents_group():
    """Provider documents."""


@documents_group.command("import-files")
@click.option("--upload-dir", type=click.Path(file_okay=False, path_type=str),
              help="Where the files are (default: VOUCHER_UPLOAD_DIR).")
@click.option("--dry-run", is_flag=True, help="Check the files and count; store nothing.")
@click.option("--delete", is_flag=True,
              help="Delete each file once its bytes are committed in the database.")
def import_files_command(upload_dir: str | None, dry_run: bool, delete: bool):
    """Move the documents uploaded while they were files (before migration 0009) into the
    database, after checking each file's size and checksum. Idempotent: a document already in
    the database is left alone. Exits 1 when a file is missing or does not match."""
    import voucher.models  # noqa: F401
    from voucher.providers.document_files import (
        FileOutcome,
        file_backed_document_ids,
        import_document_file,
    )

    directory = upload_dir or current_app.config["UPLOAD_DIR"]
    with db.command_session() as session:
        ids = file_backed_document_ids(session)
    counts = dict.fromkeys(FileOutcome, 0)
    for document_id in ids:  # one unit per file: the bytes of one file in memory at a time
        with db.command_session() as session:
            outcome = import_document_file(session, document_id, directory, dry_run=dry_run,
                                           delete=delete)
        counts[outcome] += 1
        if outcome in (FileOutcome.MISSING, FileOutcome.DAMAGED):
            click.echo(f"document {document_id}: file {outcome}", err=True)
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {counts[FileOutcome.IMPORTED]}, already in the database "
               f"{counts[FileOutcome.ALREADY_IN_DATABASE]}, missing "
               f"{counts[FileOutcome.MISSING]}, damaged {counts[FileOutcome.DAMAGED]} "
               f"(files in {directory})")
    if not dry_run and not delete and counts[FileOutcome.IMPORTED] + \
            counts[FileOutcome.ALREADY_IN_DATABASE]:
        click.echo("The documents' bytes are in the database; their files are no longer read "
                   "and can be deleted (or run again with --delete).")
    if counts[FileOutcome.MISSING] or counts[FileOutcome.DAMAGED]:
        sys.exit(1)
