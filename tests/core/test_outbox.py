"""E-mail is queued in the outbox and delivered over SMTP after the commit."""

import socket
import time

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from tests import factories
from tests.conftest import post_form
from voucher.mail.models import OutboxMessage
from voucher.mail.services import MailServerUnavailable, queue_email, send_pending


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_outbox_delivers_over_smtp_once(app, db, smtp_server):
    inbox, port = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    user = factories.user(db, email="reader@example.fi", language="sv")
    queue_email(db, to=user.email, template="accounts/invitation", language="sv", user=user,
                days=14, link="http://voucher.test/invitation/x")
    db.commit()

    assert send_pending(db) == (1, 0)
    for _ in range(50):
        if inbox.messages:
            break
        time.sleep(0.05)
    [message] = inbox.messages
    assert message["To"] == "reader@example.fi"
    assert message["Subject"] == "Ditt konto i servicesedelsystemet"
    assert "http://voucher.test/invitation/x" in message.get_payload(decode=True).decode()
    assert send_pending(db) == (0, 0)  # nothing is sent twice


def test_unreachable_mail_server_leaves_the_outbox_as_it_was(app, db, outbox):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1)
    user = factories.user(db, email="x@example.fi")
    queue_email(db, to=user.email, template="accounts/invitation", language="fi", user=user,
                days=14, link="http://voucher.test/invitation/y")
    db.commit()
    with pytest.raises(MailServerUnavailable):
        send_pending(db)
    [message] = outbox()
    assert (message.sent_at, message.attempts) == (None, 0)


def test_admin_reads_the_outbox_in_development(app, client, db, auth, outbox):
    factories.user(db, email="boss@example.fi")
    db.commit()
    post_form(client, "/password-reset", {"email": "boss@example.fi"})
    post_form(client, "/login", {"email": "boss@example.fi", "password": factories.PASSWORD})
    page = client.get("/admin/outbox/")
    assert page.status_code == 200
    assert "Aseta uusi salasana" in page.get_data(as_text=True)
    message_id = outbox()[0].id
    assert client.get(f"/admin/outbox/{message_id}").status_code == 200
    app.config["VOUCHER_ENV"] = "production"
    assert client.get("/admin/outbox/").status_code == 404


def _queue(db, count):
    user = factories.user(db, email="many@example.fi")
    for i in range(count):
        queue_email(db, to=user.email, template="accounts/invitation", language="fi", user=user,
                    days=14, link=f"http://voucher.test/invitation/{i}")
    db.commit()


def _links(inbox):
    return sorted(m.get_payload(decode=True).decode().split("invitation/")[1].split()[0]
                  for m in inbox.messages)


@pytest.mark.postgres_only
def test_two_senders_at_the_same_minute_send_each_message_once(app, db, smtp_server, outbox):
    import threading

    from voucher import db as voucher_db

    inbox, port = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    _queue(db, 20)
    start = threading.Barrier(2)
    results = []

    def sender():
        with app.app_context(), voucher_db.command_session() as session:
            start.wait()
            results.append(send_pending(session))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for _ in range(50):
        if len(inbox.messages) >= 20:
            break
        time.sleep(0.05)
    time.sleep(0.2)
    assert _links(inbox) == sorted(str(i) for i in range(20))  # each once, none twice
    assert sum(sent for sent, _failed in results) == 20
    assert {(m.attempts, m.sent_at is not None) for m in outbox()} == {(1, True)}


def test_a_message_claimed_by_a_sender_that_died_is_sent_once_its_lease_ends(
        app, db, smtp_server, outbox):
    import datetime as dt

    import sqlalchemy as sa

    from voucher import clock
    from voucher.mail import services
    from voucher.mail.models import OutboxMessage

    inbox, port = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    _queue(db, 2)
    [held, free] = outbox()
    # A sender claimed the first message and died before sending it.
    db.execute(sa.update(OutboxMessage).where(OutboxMessage.id == held.id).values(
        next_attempt_at=clock.now() + services.LEASE, attempts=1))
    db.commit()
    assert send_pending(db) == (1, 0)
    clock.freeze(clock.now() + services.LEASE + dt.timedelta(seconds=1))
    assert send_pending(db) == (1, 0)
    assert send_pending(db) == (0, 0)
    for _ in range(50):
        if len(inbox.messages) >= 2:
            break
        time.sleep(0.05)
    assert _links(inbox) == ["0", "1"]
    assert [m.attempts for m in outbox()] == [2, 1]
    assert free.id != held.id


def test_a_delivered_one_time_link_is_not_kept_in_the_database(app, db, smtp_server):
    inbox, port = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    user = factories.user(db, email="reader@example.fi")
    queue_email(db, to=user.email, template="accounts/password_reset", language="fi", user=user,
                hours=2, link="http://voucher.test/password-reset/SeCrEtToKeN123")
    db.commit()
    assert "SeCrEtToKeN123" in db.execute(sa.select(OutboxMessage.body_text)).scalar_one()

    assert send_pending(db) == (1, 0)
    for _ in range(50):
        if inbox.messages:
            break
        time.sleep(0.05)
    assert "SeCrEtToKeN123" in inbox.messages[0].get_payload()  # the person got the link
    db.rollback()
    kept = db.execute(sa.select(OutboxMessage.body_text)).scalar_one()
    assert "SeCrEtToKeN123" not in kept and "/password-reset/…" in kept
