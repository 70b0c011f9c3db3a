"""Queueing and sending e-mail.

Messages are rendered when queued, in the recipient's language, from
``voucher/templates/mail/<template>.txt``: the first line is the subject, the rest the body.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from voucher import clock
from voucher.mail.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10


class MailServerUnavailable(RuntimeError):
    """The SMTP server could not be reached; no message was touched."""


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link for an e-mail, built from BASE_URL (no request needed)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def queue_email(
    session: Session, *, to: str, template: str, language: str, **context
) -> OutboxMessage:
    """Render a message in the recipient's language and put it in the outbox."""
    with force_locale(language):
        rendered = render_template(f"mail/{template}.txt", **context)
    subject, _, body = rendered.strip().partition("\n")
    message = OutboxMessage(
        to_address=to,
        subject=subject.strip(),
        body_text=body.strip() + "\n",
        language=language,
        template=template,
        next_attempt_at=clock.now(),
    )
    session.add(message)
    session.flush()
    return message


#: A password-reset or invitation link's token (the rest of the link stays readable).
ONE_TIME_LINK = re.compile(r"(/(?:password-reset|invitation)/)[^\s/?#]+")


def without_one_time_links(text: str) -> str:
    """The text with the tokens of one-time links replaced by an ellipsis."""
    return ONE_TIME_LINK.sub(r"\1…", text)


def send_pending(session: Session, *, limit: int = 100) -> tuple[int, int]:
    """Send due messages over SMTP; returns (sent, failed). Failures are retried with backoff.

    Safe with several senders at once (every server's cron): each message is claimed before it
    is sent, by a conditional UPDATE committed on its own that takes a lease (``LEASE``) on
    it, so two senders never send the same message. The SMTP call runs with no transaction
    open; the message is then marked sent (or given its retry) in its own commit, so a crash
    between two messages never resends the ones already delivered, and a sender that died
    holding a claim leaves the message to be sent again once the lease has run out.
    """
    config = current_app.config
    if not config.get("SMTP_HOST"):
        raise RuntimeError("VOUCHER_SMTP_HOST is not set; e-mail cannot be sent")
    due_ids = session.execute(
        sa.select(OutboxMessage.id).where(_is_due(clock.now())).order_by(OutboxMessage.id)
        .limit(limit)
    ).scalars().all()
    session.commit()
    sent = failed = 0
    if not due_ids:
        return sent, failed
    try:
        smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30)
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
    except (OSError, smtplib.SMTPException) as exc:
        raise MailServerUnavailable(
            f"cannot reach {config['SMTP_HOST']}:{config['SMTP_PORT']}: {exc}") from exc
    with smtp:
        for message_id in due_ids:
            claimed = _claim(session, message_id, sender=config["MAIL_FROM"])
            if claimed is None:
                continue  # another sender has it, or has sent it
            message, email = claimed
            try:
                smtp.send_message(email)
            except smtplib.SMTPException as exc:
                message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                message.next_attempt_at = clock.now() + dt.timedelta(minutes=2**message.attempts)
                failed += 1
                log.warning("outbox message %s not sent: %s", message.id, type(exc).__name__)
            else:
                message.sent_at = clock.now()
                message.last_error = None
                # Delivered: no retry needs the one-time link any more, so neither the
                # database nor its backups keep it.
                message.body_text = without_one_time_links(message.body_text)
                sent += 1
            session.commit()
    return sent, failed


#: A sender holds a claimed message this long (far longer than one SMTP call may take, 30 s).
LEASE = dt.timedelta(minutes=10)


def _is_due(now: dt.datetime):
    return sa.and_(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS,
                   OutboxMessage.next_attempt_at <= now)


def _claim(session: Session, message_id: int, *, sender: str
           ) -> tuple[OutboxMessage, EmailMessage] | None:
    """Take the message for this sender and build its e-mail, committed at once; None when it
    is no longer due: sent, or claimed by another sender whose lease has not run out."""
    now = clock.now()
    claimed = session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id, _is_due(now))
        .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        session.commit()
        return None
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    email = _as_email(message, sender)
    session.commit()  # nothing stays open during the SMTP call
    return message, email


def _as_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    email["Content-Language"] = message.language
    email.set_content(message.body_text)
    return email
