"""``flask --app voucher api-token create|revoke``: API tokens for providers' systems."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa

from voucher import db
from voucher.accounts.models import Role, User
from voucher.api.models import ApiToken
from voucher.api.tokens import create_token, revoke_token
from voucher.audit.services import Actor


@click.group("api-token")
def api_token_group():
    """Provider API tokens."""


@api_token_group.command("create")
@click.argument("email")
@click.option("--name", default="CLI", show_default=True, help="A name to tell tokens apart.")
def create(email: str, name: str):
    """Create a token for the provider of the provider user EMAIL; the token is printed alone on
    the last line and never shown again."""
    with db.command_session() as session:
        user = session.execute(
            sa.select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
        if user is None or user.role != Role.PROVIDER or user.provider_id is None:
            click.echo(f"{email} is not a provider user.", err=True)
            sys.exit(1)
        row, token = create_token(session, provider_id=user.provider_id, name=name,
                                  actor=Actor.system("cli"))
        click.echo(f"Token {row.prefix}… created for provider {user.provider_id}; "
                   "store it now, it is not shown again:")
    click.echo(token)


@api_token_group.command("revoke")
@click.argument("prefix")
def revoke(prefix: str):
    """Revoke the token whose shown prefix is PREFIX."""
    with db.command_session() as session:
        rows = session.execute(sa.select(ApiToken).where(ApiToken.prefix == prefix)).scalars()
        rows = list(rows)
        if len(rows) != 1:
            click.echo(f"No single token has the prefix {prefix}.", err=True)
            sys.exit(1)
        revoke_token(session, rows[0], actor=Actor.system("cli"))
    click.echo("Revoked.")
