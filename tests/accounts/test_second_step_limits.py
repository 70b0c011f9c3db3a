"""The second login step (TOTP) has an attempt limit per pending login and per account, and
the owner hears of someone who knew the password but not the code."""

import sqlalchemy as sa

from tests.accounts.helpers import (
    browser_with_cookie,
    code_now,
    session_cookie,
    user_with_two_factor,
    wrong_code,
)
from tests.conftest import post_form
from voucher.audit.models import AuditEvent


def _password_step(browser, email):
    response = post_form(browser, "/login", {"email": email, "password": "correct horse battery"})
    assert response.headers["Location"] == "/login/code"


def test_five_wrong_codes_end_the_pending_login_and_the_owner_is_told(app, db, client, outbox):
    _user, secret = user_with_two_factor(db, email="guessed@example.fi",
                                         password="correct horse battery")
    db.commit()
    _password_step(client, "guessed@example.fi")
    # Every try replays the cookie of the password step: the count is kept on the server.
    after_password = session_cookie(client)
    for _ in range(4):
        response = post_form(browser_with_cookie(app, after_password), "/login/code",
                             {"code": wrong_code(secret)})
        assert response.status_code == 422
    fifth = post_form(browser_with_cookie(app, after_password), "/login/code",
                      {"code": wrong_code(secret)})
    assert fifth.status_code == 303 and fifth.headers["Location"] == "/login"

    late = post_form(browser_with_cookie(app, after_password), "/login/code",
                     {"code": code_now(secret)}, form_page="/login")
    assert late.status_code == 303 and late.headers["Location"] == "/login"
    replayed = browser_with_cookie(app, after_password)
    replayed.post("/login/code", data={"code": code_now(secret)})
    assert replayed.get("/account/password").status_code == 302  # never logged in

    [notice] = outbox("guessed@example.fi")
    assert "toista vaihetta" in notice.subject
    db.commit()
    assert db.execute(sa.select(AuditEvent.action).where(
        AuditEvent.action == "user.second_step_failed")).scalar_one()


def test_wrong_codes_over_many_pending_logins_stop_the_code_step(app, db, client):
    app.config["LOGIN_MAX_CODE_FAILURES_PER_ACCOUNT"] = 6
    _user, secret = user_with_two_factor(db, email="spread@example.fi",
                                         password="correct horse battery")
    db.commit()
    for _ in range(2):  # two pending logins, three wrong codes each
        browser = app.test_client()
        _password_step(browser, "spread@example.fi")
        for _ in range(3):
            post_form(browser, "/login/code", {"code": wrong_code(secret)})
    _password_step(client, "spread@example.fi")
    refused = post_form(client, "/login/code", {"code": code_now(secret)})
    assert refused.status_code == 429
    assert "Liian monta väärää koodia" in refused.get_data(as_text=True)
    assert client.get("/account/password").status_code == 302


def test_the_right_code_after_a_few_wrong_ones_still_logs_in(app, db, client):
    _user, secret = user_with_two_factor(db, email="typo@example.fi",
                                         password="correct horse battery")
    db.commit()
    _password_step(client, "typo@example.fi")
    for _ in range(4):
        assert post_form(client, "/login/code", {"code": wrong_code(secret)}).status_code == 422
    assert post_form(client, "/login/code", {"code": code_now(secret)}).status_code == 303
    assert client.get("/account/password").status_code == 200
