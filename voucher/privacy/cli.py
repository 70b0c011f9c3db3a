"""``flask --app voucher keys rotate``: data-protection commands."""

from __future__ import annotations

import click
from flask import current_app

from voucher.crypto import cipher


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

