"""``flask identification …``: the IdP metadata of an https setting, fetched outside any
request (cron, daily: Suomi.fi renews its signing certificate with notice)."""

from __future__ import annotations

import click
from flask import current_app


@click.group("identification")
def identification_group():
    """Strong identification (SAML 2.0, Suomi.fi)."""


@identification_group.command("refresh-metadata")
def refresh_metadata():
    """Fetch the identity provider's metadata from VOUCHER_SAML_IDP_METADATA (an https
    address) into the instance folder; every server reads its own copy. Exits 1 when the
    fetch fails (the previous copy stays in use)."""
    from voucher.identification.saml import is_enabled, refresh_idp_metadata

    if not is_enabled(current_app):
        click.echo("identification refresh-metadata: strong identification is not configured")
        return
    if not refresh_idp_metadata(current_app):
        raise click.ClickException("could not fetch the identity provider's metadata; the "
                                   "previous copy stays in use")
    click.echo("identification refresh-metadata: done")
