"""E-mail notices about vouchers, through the outbox in the recipient's language.

Clients without an e-mail address get nothing by mail: the case manager prints the decision
letter for them. A provider's notices go to its active users (or the company address).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher.accounts.models import Role, User
from voucher.clients.services import client_account
from voucher.mail.services import absolute_url, queue_email
from voucher.mandates.services import notice_address
from voucher.providers.models import Provider
from voucher.vouchers.models import Voucher


def notify_client(session: Session, voucher: Voucher, template: str, **context) -> None:
    """Tell the client (when they have an e-mail address), or their representative when the
    client chose so in a mandate in force; link to the portal when they have a login."""
    client = voucher.client
    address = notice_address(session, client)
    if not address:
        return
    account = client_account(session, client.id)
    link = absolute_url("vouchers.my_voucher", voucher_id=voucher.id) \
        if account is not None and account.is_active else None
    queue_email(session, to=address, template=f"vouchers/{template}",
                language=client.language, voucher=voucher, client=client, portal_link=link,
                **context)


def notify_provider(session: Session, provider: Provider, voucher: Voucher, template: str,
                    **context) -> None:
    """Tell the provider's active users, or the company's address when it has none."""
    users = session.execute(
        sa.select(User).where(User.provider_id == provider.id, User.role == Role.PROVIDER,
                              User.is_active.is_(True)).order_by(User.id)
    ).scalars().all()
    recipients = [(u.email, u.language) for u in users] or (
        [(provider.email, "fi")] if provider.email else [])
    link = absolute_url("vouchers.provider_vouchers")
    for address, language in recipients:
        queue_email(session, to=address, template=f"vouchers/{template}", language=language,
                    voucher=voucher, provider=provider, link=link, **context)


def notify_user(session: Session, user: User | None, voucher: Voucher, template: str,
                link: str | None = None, **context) -> None:
    """Tell one staff member (the issuer, the case manager who chose for the client)."""
    if user is None or not user.is_active:
        return
    queue_email(session, to=user.email, template=f"vouchers/{template}", language=user.language,
                voucher=voucher, user=user,
                link=link or absolute_url("vouchers.detail", voucher_id=voucher.id), **context)
