"""Security headers, error pages, CSRF and access rules on every view."""

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token_from
from voucher.access import rule_of
from voucher.accounts.models import LoginAttempt


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Request-Id"]


def test_pages_have_no_inline_scripts_or_styles(client, demo, auth):
    auth.login("admin@example.fi")
    for path in ("/", "/login", "/accessibility"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "style=" not in html and "<style" not in html


def test_session_cookie_is_httponly_and_lax(client, demo, auth):
    response = auth.login("admin@example.fi")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_unknown_page_is_a_translated_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Sivua ei löytynyt" in html  # Finnish is the default language
    assert "Traceback" not in html


def test_form_posted_without_csrf_token_is_refused_and_changes_nothing(client, demo, db):
    response = client.post("/login", data={"email": "admin@example.fi",
                                           "password": "demo-password"})
    assert response.status_code == 400
    assert "turvatunnus" in response.get_data(as_text=True)
    assert db.execute(sa.select(sa.func.count()).select_from(LoginAttempt)).scalar() == 0
    assert client.get("/").status_code == 200
    assert "Kirjaudu ulos" not in client.get("/").get_data(as_text=True)


def test_every_view_declares_an_access_rule(app):
    missing = [rule.endpoint for rule in app.url_map.iter_rules()
               if rule_of(app, rule.endpoint) is None]
    assert missing == []


def test_anonymous_user_is_sent_to_login_from_a_protected_page(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("email", ["provider@example.fi", "client@example.fi",
                                   "casemanager@example.fi"])
def test_non_admin_opening_an_admin_page_gets_a_translated_403(client, demo, auth, email):
    auth.login(email)
    response = client.get("/admin/outbox/")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Ei pääsyä" in html
    assert "outbox" not in html.lower().split("<main")[1]


def test_csrf_token_helper_finds_the_token(client):
    assert len(csrf_token_from(client.get("/login"))) > 20
