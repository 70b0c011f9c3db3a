"""A password reset does not skip the second login step."""

from tests.accounts.helpers import code_now, user_with_two_factor
from tests.conftest import link_in, post_form


def test_after_a_reset_the_code_is_still_needed(db, client, outbox):
    _user, secret = user_with_two_factor(db, email="reset2fa@example.fi")
    db.commit()
    post_form(client, "/password-reset", {"email": "reset2fa@example.fi"})
    link = link_in(outbox("reset2fa@example.fi")[0].body_text)

    response = post_form(client, link, {"new_password": "my new long password",
                                        "confirm_password": "my new long password"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login/code"
    assert client.get("/account/password").status_code == 302  # not logged in yet

    assert post_form(client, "/login/code", {"code": code_now(secret)}).status_code == 303
    assert client.get("/account/password").status_code == 200
