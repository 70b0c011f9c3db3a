"""Two-factor authentication for staff: setup, the code step, replay, and the requirement."""

import datetime as dt

import pyotp
import sqlalchemy as sa

from tests import factories
from tests.conftest import post_form
from voucher import clock
from voucher.accounts.models import Role, User
from voucher.audit.models import AuditEvent


def _login(client, email):
    return post_form(client, "/login", {"email": email, "password": factories.PASSWORD})


def _enable(client, db, email):
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    secret = page.get_data(as_text=True).split("<code>")[1].split("</code>")[0]
    code = pyotp.TOTP(secret).at(clock.now())
    response = post_form(client, "/account/two-factor", {"code": code})
    assert response.status_code == 303
    return secret


def test_staff_member_turns_on_two_factor_and_then_needs_a_code(app, client, db):
    factories.user(db, role=Role.CASE_MANAGER, email="cm@example.fi")
    db.commit()
    _login(client, "cm@example.fi")
    secret = _enable(client, db, "cm@example.fi")
    post_form(client, "/logout", {}, form_page="/")

    response = _login(client, "cm@example.fi")
    assert response.headers["Location"] == "/login/code"
    assert client.get("/account/password").status_code == 302  # not logged in yet
    wrong = post_form(client, "/login/code", {"code": "000000"})
    assert wrong.status_code == 422
    assert "Koodi on väärä" in wrong.get_data(as_text=True)

    clock.freeze(clock.now() + dt.timedelta(seconds=31))
    code = pyotp.TOTP(secret).at(clock.now())
    assert post_form(client, "/login/code", {"code": code}).status_code == 303
    assert client.get("/account/password").status_code == 200
    db.commit()
    assert db.execute(sa.select(sa.func.count()).select_from(AuditEvent)
                      .where(AuditEvent.action == "user.two_factor_enabled")).scalar() == 1


def test_a_code_works_only_once(app, client, db):
    factories.user(db, role=Role.ADMIN, email="ad@example.fi")
    db.commit()
    _login(client, "ad@example.fi")
    secret = _enable(client, db, "ad@example.fi")
    post_form(client, "/logout", {}, form_page="/")
    _login(client, "ad@example.fi")
    used = pyotp.TOTP(secret).at(clock.now())  # the step used to enable it
    assert post_form(client, "/login/code", {"code": used}).status_code == 422


def test_wrong_setup_code_keeps_it_off(app, client, db):
    factories.user(db, role=Role.ADMIN, email="ad2@example.fi")
    db.commit()
    _login(client, "ad2@example.fi")
    client.get("/account/two-factor")
    response = post_form(client, "/account/two-factor", {"code": "123456"})
    assert response.status_code == 422
    db.commit()
    assert db.execute(sa.select(User.totp_secret_encrypted)
                      .where(User.email == "ad2@example.fi")).scalar() is None


def test_required_two_factor_sends_staff_to_setup_first(app, client, db):
    app.config["REQUIRE_TOTP"] = True
    factories.user(db, role=Role.ADMIN, email="must@example.fi")
    factories.user(db, role=Role.PROVIDER, email="free@example.fi",
                   provider_id=factories.provider(db).id)
    db.commit()
    _login(client, "must@example.fi")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    _enable(client, db, "must@example.fi")
    assert client.get("/").status_code == 200
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "eikä sitä voi poistaa käytöstä" in page
    post_form(client, "/logout", {}, form_page="/")
    _login(client, "free@example.fi")
    assert client.get("/").status_code == 200  # providers are not staff


def test_secret_is_stored_encrypted(app, client, db):
    factories.user(db, role=Role.ADMIN, email="enc@example.fi")
    db.commit()
    _login(client, "enc@example.fi")
    secret = _enable(client, db, "enc@example.fi")
    db.commit()
    stored = db.execute(sa.select(User.totp_secret_encrypted)
                        .where(User.email == "enc@example.fi")).scalar()
    assert stored and secret not in stored
