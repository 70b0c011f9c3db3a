"""Retention: pseudonymising clients whose last voucher ended longer ago than the retention
period (``VOUCHER_RETENTION_YEARS``, 12 by default; see the README for why).

A client is due when every voucher of theirs has ended (exhausted, expired or cancelled: a
draft or a decision waiting for approval counts as open) and the latest end — the later of the
validity's last day and the day the voucher was closed or cancelled — is more than the retention
period before today; a client who never got a voucher is due when they were registered that long
ago.

Pseudonymising replaces what identifies the person (name → a random pseudonym, identity code and
its index → NULL, contact data, income, the free texts about them, the income inputs of the
value calculation, their e-mails in the outbox) and disables and anonymises their login. Ids,
municipality, vouchers, units, amounts, service events, invoices, payments and the budget ledger
stay as they are, so every sum still reconciles. The audit trail's events stay untouched:
they hold no personal data but the salted digests of the free texts people typed (reasons),
whose texts and salts, kept beside the events, are removed here, so the chain still verifies.
Each client gets an audit event without personal data. Done rows carry
``pseudonymised_at``, so a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import LoginAttempt, User, UserSession, UserToken
from voucher.api.models import IdempotencyRecord
from voucher.audit.services import Actor, record_event, remove_client_texts
from voucher.changes.models import VoucherChange
from voucher.clients.models import Client
from voucher.feedback.models import Feedback
from voucher.mail.models import OutboxMessage
from voucher.mandates.models import Mandate
from voucher.redemptions.models import Redemption
from voucher.reviews.models import ReviewRequest
from voucher.vouchers.models import CLOSED_STATUSES, Voucher, VoucherAssignment

#: Keys of ``Voucher.calculation`` that describe the household (income-related values).
PERSONAL_CALCULATION_KEYS = frozenset({
    "household_size", "row_household_size", "income_cents", "income_limit_cents",
    "excess_cents", "reduction_basis_points", "reduction_cents", "income_value_cents",
    "below_minimum", "income_table_id", "table_valid_from", "computed_value_cents",
})
#: The pseudonym's alphabet: no 0/O/1/I/L, as in voucher codes.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REMOVED_TEXT = "[removed: pseudonymised]"


@dataclass
class RetentionReport:
    cutoff: dt.date
    due: int = 0
    pseudonymised: list[int] = field(default_factory=list)
    accounts_disabled: int = 0
    messages_scrubbed: int = 0
    audit_texts_removed: int = 0
    api_replies_deleted: int = 0


def retention_cutoff(today: dt.date, years: int) -> dt.date:
    """The day ``years`` years before ``today`` (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def due_for_pseudonymisation(session: Session, *, cutoff: dt.date) -> sa.Select:
    """Ids of clients not yet pseudonymised whose last voucher ended before ``cutoff``."""
    open_voucher = sa.exists().where(Voucher.client_id == Client.id,
                                     Voucher.status.not_in(CLOSED_STATUSES))
    recent_voucher = sa.exists().where(
        Voucher.client_id == Client.id,
        sa.or_(Voucher.valid_until >= cutoff,
               Voucher.closed_at >= clock.start_of_day(cutoff),
               Voucher.cancelled_at >= clock.start_of_day(cutoff)))
    return (sa.select(Client.id)
            .where(Client.pseudonymised_at.is_(None),
                   Client.created_at < clock.start_of_day(cutoff),
                   ~open_voucher, ~recent_voucher)
            .order_by(Client.id))


def new_pseudonym() -> str:
    """A random token in place of the name (11 characters: fits the masked code's column)."""
    return "PSN-" + "".join(secrets.choice(_ALPHABET) for _ in range(7))


def pseudonymise_client(session: Session, client: Client, *, actor: Actor,
                        cutoff: dt.date) -> RetentionReport:
    """Replace one client's personal data; keep every id and amount. Returns what it did."""
    report = RetentionReport(cutoff=cutoff)
    account = session.execute(sa.select(User).where(User.client_id == client.id)
                              ).scalar_one_or_none()
    addresses = {a for a in (client.email, account.email if account else None) if a}
    voucher_codes = set(session.execute(
        sa.select(Voucher.code).where(Voucher.client_id == client.id)).scalars())
    report.messages_scrubbed = _scrub_outbox(
        session, addresses=addresses, texts={client.full_name, *voucher_codes},
        old_texts={client.display_name}, cutoff=cutoff)

    pseudonym = new_pseudonym()
    client.first_name = ""
    client.last_name = pseudonym
    client.identity_code_encrypted = None
    client.identity_code_index = None
    client.identity_code_masked = pseudonym
    for name in ("email", "phone", "street_address", "postal_code", "city", "household_size",
                 "gross_monthly_income_cents"):
        setattr(client, name, None)
    client.pseudonymised_at = clock.now()

    for voucher in session.execute(sa.select(Voucher).where(Voucher.client_id == client.id)
                                   ).scalars():
        voucher.need_assessment = ""
        voucher.value_raise_reason = None
        voucher.cancel_reason = None
        voucher.calculation = {
            **{k: v for k, v in (voucher.calculation or {}).items()
               if k not in PERSONAL_CALCULATION_KEYS},
            "pseudonymised": True}
    vouchers = sa.select(Voucher.id).where(Voucher.client_id == client.id)
    session.execute(sa.update(VoucherAssignment).where(VoucherAssignment.voucher_id.in_(vouchers))
                    .values(decline_reason=None))
    session.execute(sa.update(Redemption).where(Redemption.voucher_id.in_(vouchers))
                    .values(note=None))
    session.execute(sa.update(Feedback).where(Feedback.client_id == client.id)
                    .values(comment=None))
    session.execute(sa.update(ReviewRequest).where(ReviewRequest.voucher_id.in_(vouchers))
                    .values(request_text="", reasoning=None))
    # Changes of decisions: their reasons and the household inputs of both terms.
    for change in session.execute(sa.select(VoucherChange).where(
            VoucherChange.voucher_id.in_(vouchers))).scalars():
        change.reason, change.rejection_reason = "", None
        change.before, change.after = (
            {**terms, "value_raise_reason": None, "calculation": {
                **{k: v for k, v in (terms.get("calculation") or {}).items()
                   if k not in PERSONAL_CALCULATION_KEYS}, "pseudonymised": True}}
            for terms in (change.before, change.after))
    # Mandates name their representatives (identity code, name): they go with the client.
    session.execute(sa.delete(Mandate).where(Mandate.client_id == client.id))
    if addresses:
        session.execute(sa.delete(LoginAttempt).where(LoginAttempt.email.in_(addresses)))
    if account is not None:
        session.execute(sa.delete(UserToken).where(UserToken.user_id == account.id))
        # Its sessions (with the addresses they came from) go too, and so every open one ends.
        session.execute(sa.delete(UserSession).where(UserSession.user_id == account.id))
        account.email = f"pseudonymised-{account.id}@invalid"
        account.display_name = pseudonym
        account.password_hash = None
        account.totp_secret_encrypted = None
        account.totp_last_step = None
        account.is_active = False
        account.session_version += 1  # any open session ends
        report.accounts_disabled = 1
    report.audit_texts_removed = remove_client_texts(session, client.id)
    session.flush()
    record_event(session, actor, "client.pseudonymised", "client", client.id,
                 client_id=client.id, cutoff=cutoff.isoformat(),
                 account_disabled=account is not None,
                 messages_scrubbed=report.messages_scrubbed)
    report.pseudonymised.append(client.id)
    return report


def _scrub_outbox(session: Session, *, addresses: set[str], texts: set[str],
                  old_texts: set[str], cutoff: dt.date) -> int:
    """Blank the e-mails to the client, and those to anyone that name the client or their
    vouchers. A display name ("Aino V.") is not unique, so it counts only in mail older than
    the cutoff, which retention may clear anyway. Unsent ones are never sent."""
    conditions = [OutboxMessage.body_text.contains(text, autoescape=True)
                  for text in texts if text.strip()]
    old_mentions = [OutboxMessage.body_text.contains(text, autoescape=True)
                    for text in old_texts if text.strip()]
    if addresses:
        conditions.append(OutboxMessage.to_address.in_(addresses))
    if old_mentions:
        conditions.append(sa.and_(OutboxMessage.created_at < clock.start_of_day(cutoff),
                                  sa.or_(*old_mentions)))
    if not conditions:
        return 0
    messages = session.execute(
        sa.select(OutboxMessage).where(sa.or_(*conditions),
                                       OutboxMessage.body_text != REMOVED_TEXT)
    ).scalars().all()
    for message in messages:
        if message.to_address in addresses:
            message.to_address = "pseudonymised@invalid"
        message.body_text = REMOVED_TEXT
        if message.sent_at is None:
            message.next_attempt_at = None
            message.last_error = "pseudonymised before sending"
    return len(messages)


def pseudonymise_expired_clients(
    session: Session, *, today: dt.date, years: int, dry_run: bool = False,
    actor: Actor | None = None, progress: Callable[[str], None] = lambda _line: None,
) -> RetentionReport:
    """Pseudonymise every client due under the retention period (nothing when ``dry_run``:
    only the count). Never commits; the command that calls it does."""
    cutoff = retention_cutoff(today, years)
    actor = actor or Actor.system("retention")
    due = list(session.execute(due_for_pseudonymisation(session, cutoff=cutoff)).scalars())
    report = RetentionReport(cutoff=cutoff, due=len(due))
    if dry_run:
        return report
    for client_id in due:
        client = session.execute(sa.select(Client).where(Client.id == client_id)
                                 .with_for_update()).scalar_one()
        if client.pseudonymised_at is not None:  # done meanwhile by a parallel run
            continue
        done = pseudonymise_client(session, client, actor=actor, cutoff=cutoff)
        report.pseudonymised += done.pseudonymised
        report.accounts_disabled += done.accounts_disabled
        report.messages_scrubbed += done.messages_scrubbed
        report.audit_texts_removed += done.audit_texts_removed
        progress(f"client {client_id} pseudonymised")
    report.api_replies_deleted = _delete_old_api_replies(session, cutoff)
    return report


def _delete_old_api_replies(session: Session, cutoff: dt.date) -> int:
    """The provider API keeps each answer for replaying a retried request; the answers name
    clients ("Aino V."), and a retry older than the retention period never comes."""
    return session.execute(sa.delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < clock.start_of_day(cutoff))).rowcount
