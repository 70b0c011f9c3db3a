"""Password change, reset links and invitations."""

import datetime as dt

import sqlalchemy as sa

from tests import factories
from tests.conftest import link_in, post_form
from voucher import clock
from voucher.accounts import services
from voucher.accounts.models import Role
from voucher.audit.services import Actor


def test_change_password_logs_out_other_sessions(app, db, client):
    factories.user(db, email="pw@example.fi")
    db.commit()
    other = app.test_client()
    for browser in (client, other):
        post_form(browser, "/login", {"email": "pw@example.fi", "password": factories.PASSWORD})
    assert other.get("/account/password").status_code == 200

    response = post_form(client, "/account/password", {
        "current_password": factories.PASSWORD, "new_password": "a brand new passphrase",
        "confirm_password": "a brand new passphrase"})
    assert response.status_code == 303
    assert client.get("/account/password").status_code == 200  # this session stays
    assert other.get("/account/password").status_code == 302  # the other one ended


def test_change_password_with_wrong_current_password_changes_nothing(db, client):
    factories.user(db, email="pw2@example.fi")
    db.commit()
    post_form(client, "/login", {"email": "pw2@example.fi", "password": factories.PASSWORD})
    response = post_form(client, "/account/password", {
        "current_password": "not it at all", "new_password": "a brand new passphrase",
        "confirm_password": "a brand new passphrase"})
    assert response.status_code == 422
    assert "Nykyinen salasana on väärä." in response.get_data(as_text=True)
    post_form(client, "/logout", {}, form_page="/")
    ok = post_form(client, "/login", {"email": "pw2@example.fi", "password": factories.PASSWORD})
    assert ok.status_code == 303


def test_too_short_new_password_is_explained(db, client):
    factories.user(db, email="pw3@example.fi")
    db.commit()
    post_form(client, "/login", {"email": "pw3@example.fi", "password": factories.PASSWORD})
    response = post_form(client, "/account/password", {
        "current_password": factories.PASSWORD, "new_password": "short",
        "confirm_password": "short"})
    assert response.status_code == 422
    assert "vähintään 12 merkkiä" in response.get_data(as_text=True)


def test_password_reset_link_works_once(db, client, outbox):
    factories.user(db, email="forgot@example.fi")
    db.commit()
    response = post_form(client, "/password-reset", {"email": "forgot@example.fi"})
    assert response.status_code == 200
    [message] = outbox("forgot@example.fi")
    link = link_in(message.body_text)
    assert link.startswith("/password-reset/")

    response = post_form(client, link, {"new_password": "my new long password",
                                        "confirm_password": "my new long password"})
    assert response.status_code == 303
    again = client.get(link)
    assert again.status_code == 410
    assert "vanhentunut tai sitä on jo käytetty" in again.get_data(as_text=True)


def test_expired_reset_link_gets_a_clear_answer(db, client, outbox):
    factories.user(db, email="late@example.fi")
    db.commit()
    post_form(client, "/password-reset", {"email": "late@example.fi"})
    link = link_in(outbox("late@example.fi")[0].body_text)
    clock.freeze(clock.now() + dt.timedelta(hours=3))
    response = client.get(link)
    assert response.status_code == 410
    response = client.post(link, data={"new_password": "x" * 20, "confirm_password": "x" * 20})
    assert response.status_code in (400, 410)


def test_reset_request_for_unknown_email_looks_the_same_and_sends_nothing(db, client, outbox):
    response = post_form(client, "/password-reset", {"email": "stranger@example.fi"})
    assert response.status_code == 200
    assert outbox() == []


def test_invitation_sets_the_password_and_logs_in(app, db, client, outbox):
    user = factories.user(db, role=Role.ADMIN, email="new@example.fi", password=None)
    services.invite_user(db, user, days=14, actor=Actor.system())
    db.commit()
    link = link_in(outbox("new@example.fi")[0].body_text)
    assert client.get(link).status_code == 200
    response = post_form(client, link, {"new_password": "welcome aboard friend",
                                        "confirm_password": "welcome aboard friend"})
    assert response.status_code == 303
    assert "Kirjaudu ulos" in client.get("/").get_data(as_text=True)


def test_reset_token_is_stored_only_as_a_hash(db, client, outbox):
    factories.user(db, email="hash@example.fi")
    db.commit()
    post_form(client, "/password-reset", {"email": "hash@example.fi"})
    token = link_in(outbox("hash@example.fi")[0].body_text).rsplit("/", 1)[1]
    stored = db.execute(sa.text("SELECT token_hash FROM user_tokens")).scalars().all()
    assert token not in stored and len(stored) == 1
