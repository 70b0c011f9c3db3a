"""Logging in and out, and throttling of failed attempts."""

import datetime as dt

import sqlalchemy as sa

from tests import factories
from voucher import clock
from voucher.accounts.models import Role, User
from voucher.audit.models import AuditEvent


def test_each_demo_user_logs_in_and_sees_their_home_page(client, demo, auth):
    expectations = {
        "admin@example.fi": "Ylläpito",
        "casemanager@example.fi": "Palveluohjaaja",
        "provider@example.fi": "Palveluntuottaja",
        "client@example.fi": "Omat palvelusetelini",
    }
    for email, heading in expectations.items():
        response = auth.login(email)
        assert response.status_code == 303
        page = client.get("/").get_data(as_text=True)
        assert f"<h1>{heading}</h1>" in page
        auth.logout()


def test_wrong_password_gets_a_translated_error_and_keeps_the_email(client, demo, auth):
    response = auth.login("admin@example.fi", "wrong password")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Sähköpostiosoite tai salasana on väärä." in html
    assert 'value="admin@example.fi"' in html
    assert "Kirjaudu ulos" not in client.get("/").get_data(as_text=True)


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client, demo, auth):
    response = auth.login("nobody@example.fi", "whatever password")
    assert response.status_code == 422
    assert "Sähköpostiosoite tai salasana on väärä." in response.get_data(as_text=True)


def test_login_redirects_to_next_but_only_within_the_site(client, demo, auth):
    client.get("/login?next=/account/password")
    page = client.get("/login?next=/account/password")
    from tests.conftest import csrf_token_from

    response = client.post("/login?next=/account/password", data={
        "email": "admin@example.fi", "password": "demo-password",
        "csrf_token": csrf_token_from(page)})
    assert response.headers["Location"] == "/account/password"
    auth.logout()
    page = client.get("/login")
    response = client.post("/login?next=https://evil.example.com/", data={
        "email": "admin@example.fi", "password": "demo-password",
        "csrf_token": csrf_token_from(page)})
    assert response.headers["Location"] == "/"


def test_repeated_failures_slow_the_guesser_down_and_the_owner_is_told(client, db, auth,
                                                                       outbox):
    factories.user(db, role=Role.ADMIN, email="locked@example.fi")
    db.commit()
    for _ in range(3):
        assert auth.login("locked@example.fi", "wrong password").status_code == 422
    # The fourth try from the same address waits; not even the right password is checked.
    response = auth.login("locked@example.fi", factories.PASSWORD)
    assert response.status_code == 429
    assert "Liian monta" in response.get_data(as_text=True)
    for _ in range(2):
        clock.freeze(clock.now() + dt.timedelta(minutes=5))
        assert auth.login("locked@example.fi", "wrong password").status_code == 422
    notices = outbox("locked@example.fi")
    assert len(notices) == 1 and "Epäonnistuneita" in notices[0].subject
    actions = db.execute(sa.select(AuditEvent.action)).scalars().all()
    assert "user.login_slowed" in actions

    clock.freeze(clock.now() + dt.timedelta(minutes=16))
    assert auth.login("locked@example.fi", factories.PASSWORD).status_code == 303


def test_logout_ends_the_session(client, demo, auth):
    auth.login("admin@example.fi")
    response = auth.logout()
    assert response.status_code == 303
    assert client.get("/account/password").status_code == 302


def test_inactive_user_cannot_log_in(client, db, auth):
    user = factories.user(db, email="gone@example.fi")
    user.is_active = False
    db.commit()
    assert auth.login("gone@example.fi", factories.PASSWORD).status_code == 422


def test_successful_login_is_audited(client, db, auth):
    user = factories.user(db, email="audited@example.fi")
    db.commit()
    auth.login("audited@example.fi", factories.PASSWORD)
    event = db.execute(sa.select(AuditEvent).where(AuditEvent.action == "user.logged_in")
                       ).scalar_one()
    assert event.actor_user_id == user.id
    assert db.get(User, user.id).last_login_at is not None
