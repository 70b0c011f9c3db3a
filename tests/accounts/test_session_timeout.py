"""A session ends after the configured time without requests; activity keeps it alive."""

import time

from tests import factories
from tests.conftest import post_form


def test_idle_session_expires_but_an_active_one_does_not(app, client, db):
    app.permanent_session_lifetime = 1  # second, instead of VOUCHER_SESSION_TIMEOUT_MINUTES
    factories.user(db, email="idle@example.fi")
    db.commit()
    post_form(client, "/login", {"email": "idle@example.fi", "password": factories.PASSWORD})
    for _ in range(4):  # requests every half second keep renewing it
        time.sleep(0.5)
        assert client.get("/account/password").status_code == 200
    time.sleep(2.5)  # the signed cookie's timestamp has whole-second resolution
    response = client.get("/account/password")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
