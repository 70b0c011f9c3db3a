"""E-mail is queued in the outbox and delivered over SMTP after the commit."""

import socket
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from tests import factories
from tests.conftest import post_form
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
