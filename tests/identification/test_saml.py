"""The SAML service provider against the in-process test IdP: a demo client logs in and out
with single logout; a person who is no client gets a page and nothing but an audit event;
bad answers (tampered, unsigned, unencrypted, expired, replayed, for another audience,
unsolicited, cancelled, garbage) are refused with a 4xx page and no session."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import urllib.parse
from pathlib import Path

import pytest
import sqlalchemy as sa
from defusedxml import ElementTree

from tests.saml_idp import SP_ENTITY_ID, test_idp
from voucher import clock
from voucher.accounts.models import Role, User, UserSession
from voucher.audit.models import AuditEvent
from voucher.clients.models import Client
from voucher.identification.models import SamlRequest, SamlSeenMessage

AINO = test_idp.Person("150344-912V", "Aino", "Virtanen")
MATTI = test_idp.Person("250460-947C", "Matti", "Niemi")  # a demo client without an account
HELMI = test_idp.Person("120541-9212", "Helmi", "Korhonen")
NOT_A_CLIENT = test_idp.NOT_CLIENTS[0]
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"


def start(client, path="/auth/saml/login"):
    answer = client.get(path)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return answer.headers["Location"]


def post_answer(client, fields):
    return client.post("/auth/saml/acs", data={"SAMLResponse": fields["SAMLResponse"],
                                               "RelayState": fields["RelayState"]})


def open_sessions(db) -> int:
    db.rollback()
    return db.scalar(sa.select(sa.func.count()).select_from(UserSession).where(
        UserSession.ended_at.is_(None)))


def audit_actions(db) -> list[str]:
    db.rollback()
    return list(db.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_metadata_is_a_signed_and_encrypted_sp_entity_descriptor(saml_idp, client):
    answer = client.get("/auth/saml/metadata")
    assert answer.status_code == 200
    assert answer.mimetype == "application/samlmetadata+xml"
    root = ElementTree.fromstring(answer.data)
    assert root.tag == f"{MD}EntityDescriptor" and root.get("entityID") == SP_ENTITY_ID
    sp = root.find(f"{MD}SPSSODescriptor")
    assert sp.get("AuthnRequestsSigned") == "true" and sp.get("WantAssertionsSigned") == "true"
    assert {key.get("use") for key in sp.findall(f"{MD}KeyDescriptor")} == {"signing",
                                                                            "encryption"}
    acs = sp.find(f"{MD}AssertionConsumerService")
    assert acs.get("Location") == "http://voucher.test/auth/saml/acs"
    assert acs.get("Binding").endswith("HTTP-POST")
    assert sp.find(f"{MD}SingleLogoutService").get("Location") == \
        "http://voucher.test/auth/saml/slo"
    requested = {a.get("Name"): a.get("isRequired") for a in sp.iter(f"{MD}RequestedAttribute")}
    assert requested["urn:oid:1.2.246.21"] == "true"
    assert {"urn:oid:2.5.4.42", "urn:oid:2.5.4.4",
            "urn:oid:2.16.840.1.113730.3.1.241"} <= set(requested)


def test_the_login_request_is_signed_and_remembered_in_the_database(saml_idp, client, db):
    location = start(client)
    query = saml_idp.query_of(location)
    assert query["SigAlg"].endswith("rsa-sha256") and query["Signature"]
    message = saml_idp.idp.read_login_request(query)  # the IdP checks the signature
    assert message.issuer.text == SP_ENTITY_ID
    assert message.requested_authn_context.authn_context_class_ref[0].text == \
        "http://ftn.ficora.fi/2017/loa2"
    db.rollback()
    stored = db.get(SamlRequest, message.id)
    assert stored is not None and stored.answered_at is None


def test_a_demo_client_logs_in_sees_their_vouchers_and_logs_out_with_single_logout(
        demo, saml_idp, client, db):
    location = start(client, "/auth/saml/login?next=/vouchers/mine")
    answer = post_answer(client, saml_idp.answer(location, AINO))
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert answer.headers["Location"] == "/vouchers/mine"
    mine = client.get("/vouchers/mine")
    assert mine.status_code == 200
    assert "Aino Virtanen" in mine.get_data(as_text=True)
    assert open_sessions(db) == 1
    assert "user.identified" in audit_actions(db)

    home = client.get("/")
    page = home.get_data(as_text=True)
    assert 'action="/auth/saml/logout"' in page
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    out = client.post("/auth/saml/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["Location"].startswith("http://idp.test/slo?")
    assert open_sessions(db) == 0  # ended here before the IdP answers
    assert client.get("/vouchers/mine").status_code in (302, 303)

    back = saml_idp.idp.logout(saml_idp.query_of_logout(out.headers["Location"]))
    path = back.removeprefix("http://voucher.test")
    done = client.get(path)
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert "myös tunnistuspalvelusta" in client.get("/").get_data(as_text=True)
    again = client.get(path)  # the same LogoutResponse again
    assert again.status_code == 400


def test_a_client_without_an_account_gets_one_without_password_or_e_mail(demo, saml_idp,
                                                                         client, db):
    matti = db.scalar(sa.select(Client).where(Client.first_name == "Matti"))
    assert db.scalar(sa.select(User).where(User.client_id == matti.id)) is None
    answer = post_answer(client, saml_idp.answer(start(client), MATTI))
    assert answer.status_code == 303, answer.get_data(as_text=True)
    db.rollback()
    user = db.scalar(sa.select(User).where(User.client_id == matti.id))
    assert user.role == Role.CLIENT and user.password_hash is None
    assert user.email == f"identified-client-{matti.id}@invalid"
    assert client.get("/vouchers/mine").status_code == 200
    assert "/account/password" not in client.get("/").get_data(as_text=True)


def test_a_person_who_is_no_client_gets_a_page_and_only_an_audit_event(demo, saml_idp, client,
                                                                       db, caplog):
    caplog.set_level(logging.DEBUG)
    users_before = db.scalar(sa.select(sa.func.count()).select_from(User))
    clients_before = db.scalar(sa.select(sa.func.count()).select_from(Client))
    answer = post_answer(client, saml_idp.answer(start(client), NOT_A_CLIENT))
    assert answer.status_code == 403
    page = answer.get_data(as_text=True)
    assert "010150-****" in page and NOT_A_CLIENT.identity_code not in page
    assert "Ylivieska" in page  # the member municipalities, to know whom to contact
    assert open_sessions(db) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) == users_before
    assert db.scalar(sa.select(sa.func.count()).select_from(Client)) == clients_before
    event = db.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "identification.no_client_record")).one()
    assert event.object_id == "010150-****"
    assert NOT_A_CLIENT.identity_code not in str(event.data)
    assert NOT_A_CLIENT.identity_code not in caplog.text
    assert NOT_A_CLIENT.identity_code[7:] not in caplog.text


def test_the_identity_code_never_reaches_the_logs(demo, saml_idp, client, caplog):
    caplog.set_level(logging.DEBUG)
    post_answer(client, saml_idp.answer(start(client), AINO))
    assert AINO.identity_code not in caplog.text


def _refused(answer, db, *, sessions: int = 0):
    assert answer.status_code == 400, answer.status_code
    page = answer.get_data(as_text=True)
    assert "Identification not completed" in page or "Tunnistus" in page
    assert open_sessions(db) == sessions
    return page


def _swap_code(xml: str) -> str:
    assert AINO.identity_code in xml
    return xml.replace(AINO.identity_code, HELMI.identity_code)


@pytest.mark.parametrize("tweaks", [
    pytest.param({"tamper": _swap_code}, id="tampered"),
    pytest.param({"sign": False}, id="unsigned"),
    pytest.param({"encrypt": False}, id="unencrypted"),
    pytest.param({"lifetime_minutes": -10}, id="expired"),
    pytest.param({"audience": "https://other-service.example/saml"}, id="wrong-audience"),
    pytest.param({"in_response_to": None}, id="unsolicited"),
    pytest.param({"in_response_to": "id-never-asked-for"}, id="unknown-request"),
    pytest.param({"level": "http://ftn.ficora.fi/2017/loa1"}, id="weak-level"),
])
def test_bad_answers_are_refused_with_a_page_and_no_session(demo, saml_idp, client, db,
                                                            tweaks):
    answer = post_answer(client, saml_idp.answer(start(client), AINO, **tweaks))
    _refused(answer, db)
    assert "user.identified" not in audit_actions(db)
    # An answer to a request of ours is audited as refused; one that names none is only
    # logged (nobody fills the audit trail by posting to the ACS).
    assert ("identification.refused" in audit_actions(db)) is ("in_response_to" not in tweaks)
    assert client.get("/vouchers/mine").status_code in (302, 303)


def test_a_replayed_answer_is_refused(demo, saml_idp, client, db, app):
    fields = saml_idp.answer(start(client), AINO)
    assert post_answer(client, fields).status_code == 303
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(SamlSeenMessage)) == 2
    other = app.test_client()
    _refused(post_answer(other, fields), db, sessions=1)  # only the first login's


def test_a_replay_of_a_refused_answer_is_refused_too(demo, saml_idp, client, db):
    fields = saml_idp.answer(start(client), NOT_A_CLIENT)
    assert post_answer(client, fields).status_code == 403
    _refused(post_answer(client, fields), db)


def test_an_answer_after_the_request_expired_is_refused(demo, saml_idp, client, db):
    location = start(client)
    fields = saml_idp.answer(location, AINO)
    clock.freeze(clock.now() + dt.timedelta(minutes=16))
    _refused(post_answer(client, fields), db)


def test_a_cancelled_identification_says_so(demo, saml_idp, client, db):
    page = _refused(post_answer(client, saml_idp.answer(start(client), None)), db)
    assert "cancelled" in page or "keskeytettiin" in page


@pytest.mark.parametrize("value", ["", "not base64 !", base64.b64encode(b"<x>").decode(),
                                   base64.b64encode(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
                                                    ).decode()])
def test_garbage_is_refused_with_a_page(saml_idp, client, db, value):
    _refused(client.post("/auth/saml/acs", data={"SAMLResponse": value}), db)


def test_a_locked_client_account_is_refused(demo, saml_idp, client, db):
    user = db.scalar(sa.select(User).where(User.email == "client@example.fi"))
    user.is_active = False
    db.commit()
    answer = post_answer(client, saml_idp.answer(start(client), AINO))
    assert answer.status_code == 403
    assert open_sessions(db) == 0


def test_a_logout_response_with_a_bad_signature_is_refused(demo, saml_idp, client, db):
    assert post_answer(client, saml_idp.answer(start(client), AINO)).status_code == 303
    page = client.get("/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    out = client.post("/auth/saml/logout", data={"csrf_token": token})
    back = saml_idp.idp.logout(saml_idp.query_of_logout(out.headers["Location"]))
    parts = urllib.parse.urlsplit(back)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query["Signature"] = base64.b64encode(b"x" * 256).decode()
    answer = client.get(f"{parts.path}?{urllib.parse.urlencode(query)}")
    assert answer.status_code == 400
    assert client.get(f"{parts.path}?{parts.query}").status_code == 303


def test_an_idp_initiated_logout_ends_the_session_and_is_answered_signed(demo, saml_idp,
                                                                          client, db):
    fields = saml_idp.answer(start(client), AINO)
    assert post_answer(client, fields).status_code == 303
    assert open_sessions(db) == 1
    url = saml_idp.idp.request_logout(fields["name_id"], fields["sp_entity_id"])
    answer = client.get(url.removeprefix("http://voucher.test"))
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith("http://idp.test/slo?")
    response = saml_idp.idp.read_logout_response(saml_idp.query_of_logout(location))
    assert response.status.status_code.value.endswith(":Success")
    assert open_sessions(db) == 0


def test_an_idp_logout_request_for_another_session_ends_nothing_here(demo, saml_idp, client,
                                                                      db):
    fields = saml_idp.answer(start(client), AINO)
    assert post_answer(client, fields).status_code == 303
    url = saml_idp.idp.request_logout("someone-else", fields["sp_entity_id"])
    assert client.get(url.removeprefix("http://voucher.test")).status_code == 303
    assert open_sessions(db) == 1


def test_an_unsigned_idp_logout_request_is_refused(demo, saml_idp, client, db):
    fields = saml_idp.answer(start(client), AINO)
    assert post_answer(client, fields).status_code == 303
    url = saml_idp.idp.request_logout(fields["name_id"], fields["sp_entity_id"])
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    del query["Signature"]
    assert client.get(f"{parts.path}?{urllib.parse.urlencode(query)}").status_code == 400
    assert open_sessions(db) == 1


def test_an_oversized_answer_is_refused_unread(saml_idp, client, db):
    _refused(client.post("/auth/saml/acs", data={"SAMLResponse": "A" * 300_000}), db)


def test_logging_out_works_here_when_the_idp_cannot_be_reached(demo, saml_idp, client, db, app):
    assert post_answer(client, saml_idp.answer(start(client), AINO)).status_code == 303
    Path(app.config["SAML_IDP_METADATA"]).unlink()
    app.extensions.pop("voucher.saml", None)
    page = client.get("/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    out = client.post("/auth/saml/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["Location"] == "/"
    assert open_sessions(db) == 0
    assert "Sulje selain" in client.get("/").get_data(as_text=True)
