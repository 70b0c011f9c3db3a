"""The SAML service provider against the in-process test IdP: a demo client logs in and out;
bad answers (tampered, unsigned, unencrypted, expired, replayed, another audience, unsolicited)
are refused with a page and no session."""

from __future__ import annotations

from tests.saml_idp import test_idp

AINO = test_idp.Person("150344-912V", "Aino", "Virtanen")
MATTI = test_idp.Person("250460-947C", "Matti", "Niemi")  # a demo client without an account
NOT_A_CLIENT = test_idp.NOT_CLIENTS[0]


def start(client, path="/auth/saml/login"):
    answer = client.get(path)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return answer.headers["Location"]


def post_answer(client, fields):
    return client.post("/auth/saml/acs", data={"SAMLResponse": fields["SAMLResponse"],
                                               "RelayState": fields["RelayState"]})


def test_demo_client_logs_in_and_sees_home(demo, saml_idp, client):
    location = start(client)
    answer = post_answer(client, saml_idp.answer(location, AINO))
    assert answer.status_code == 303, answer.get_data(as_text=True)
    home = client.get(answer.headers["Location"])
    assert "Aino Virtanen" in home.get_data(as_text=True)
