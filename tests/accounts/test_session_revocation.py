"""Sessions end on the server: a copied session cookie stops working when its session ends
(logout, password change, two-factor change, an administrator's lock)."""

import sqlalchemy as sa

from tests import factories
from tests.accounts.helpers import browser_with_cookie, code_now, session_cookie
from tests.conftest import post_form
from voucher import clock
from voucher.accounts import two_factor
from voucher.accounts.models import Role, User
from voucher.audit.models import AuditEvent


def _logged_in(browser) -> bool:
    return browser.get("/account/password").status_code == 200


def test_a_copied_cookie_stops_working_after_logout(app, db, client, auth):
    factories.user(db, email="copied@example.fi")
    db.commit()
    auth.login("copied@example.fi", factories.PASSWORD)
    stolen = session_cookie(client)
    thief = browser_with_cookie(app, stolen)
    assert _logged_in(thief)

    assert auth.logout().status_code == 303
    assert not _logged_in(thief)
    assert not _logged_in(browser_with_cookie(app, stolen))


def test_a_copied_cookie_stops_working_after_a_password_change(app, db, client, auth):
    factories.user(db, email="copied2@example.fi")
    db.commit()
    auth.login("copied2@example.fi", factories.PASSWORD)
    stolen = session_cookie(client)
    response = post_form(client, "/account/password", {
        "current_password": factories.PASSWORD, "new_password": "a brand new passphrase",
        "confirm_password": "a brand new passphrase"})
    assert response.status_code == 303
    assert _logged_in(client)
    assert not _logged_in(browser_with_cookie(app, stolen))


def test_an_administrators_lock_ends_every_session_and_the_login(app, db, client, auth):
    admin = factories.user(db, role=Role.ADMIN, email="lockadmin@example.fi")
    target = factories.user(db, role=Role.CASE_MANAGER, email="target@example.fi")
    db.commit()
    victim_browser = app.test_client()
    post_form(victim_browser, "/login", {"email": "target@example.fi",
                                         "password": factories.PASSWORD})
    stolen = session_cookie(victim_browser)
    assert _logged_in(victim_browser)

    auth.login(admin.email, factories.PASSWORD)
    page = client.get("/admin/users/?q=target")
    assert page.status_code == 200 and "target@example.fi" in page.get_data(as_text=True)
    response = post_form(client, f"/admin/users/{target.id}/lock", {}, form_page="/admin/users/")
    assert response.status_code == 303
    assert not _logged_in(victim_browser)
    assert not _logged_in(browser_with_cookie(app, stolen))
    assert post_form(app.test_client(), "/login", {
        "email": "target@example.fi", "password": factories.PASSWORD}).status_code == 422
    db.commit()
    assert db.execute(sa.select(AuditEvent.action).where(
        AuditEvent.action == "user.locked_by_admin")).scalar_one()

    post_form(client, f"/admin/users/{target.id}/unlock", {}, form_page="/admin/users/")
    assert post_form(app.test_client(), "/login", {
        "email": "target@example.fi", "password": factories.PASSWORD}).status_code == 303
    assert not _logged_in(browser_with_cookie(app, stolen))  # old sessions stay ended


def test_an_administrator_cannot_lock_themselves(app, db, client, auth):
    admin = factories.user(db, role=Role.ADMIN, email="self@example.fi")
    db.commit()
    auth.login(admin.email, factories.PASSWORD)
    post_form(client, f"/admin/users/{admin.id}/lock", {}, form_page="/admin/users/")
    assert _logged_in(client)
    db.commit()
    assert db.get(User, admin.id).is_active


def test_turning_two_factor_on_ends_the_other_sessions(app, db, client, auth):
    factories.user(db, role=Role.PROVIDER, email="prov2fa@example.fi",
                   provider_id=factories.provider(db).id)
    db.commit()
    auth.login("prov2fa@example.fi", factories.PASSWORD)
    other = app.test_client()
    post_form(other, "/login", {"email": "prov2fa@example.fi", "password": factories.PASSWORD})
    assert _logged_in(other)

    page = client.get("/account/two-factor")  # open to provider users too
    assert page.status_code == 200
    secret = page.get_data(as_text=True).split("<code>")[1].split("</code>")[0]
    assert post_form(client, "/account/two-factor",
                     {"code": code_now(secret)}).status_code == 303
    assert _logged_in(client)
    assert not _logged_in(other)
    db.commit()
    assert two_factor.AVAILABLE_TO and db.execute(sa.select(User.totp_secret_encrypted).where(
        User.email == "prov2fa@example.fi")).scalar()


def test_provider_users_must_set_up_two_factor_when_required(app, db, client, auth):
    app.config["REQUIRE_PROVIDER_TOTP"] = True
    factories.user(db, role=Role.PROVIDER, email="mustprov@example.fi",
                   provider_id=factories.provider(db).id)
    factories.user(db, role=Role.ADMIN, email="free-admin@example.fi")
    db.commit()
    auth.login("mustprov@example.fi", factories.PASSWORD)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "eikä sitä voi poistaa" not in page  # not on yet
    clock.now()  # the frozen clock: the code below is for this step
    secret = page.split("<code>")[1].split("</code>")[0]
    post_form(client, "/account/two-factor", {"code": code_now(secret)})
    assert client.get("/").status_code == 200
    auth.logout()
    auth.login("free-admin@example.fi", factories.PASSWORD)
    assert client.get("/").status_code == 200  # VOUCHER_REQUIRE_TOTP is off
