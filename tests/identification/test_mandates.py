"""Mandates: a case manager records who acts for a client; the representative logs in with
strong identification, chooses whom to act for, sees the banner, may do what the scope
allows and nothing else, and is audited as acting on the client's behalf; a revoked or
expired mandate stops working at once; the client sees their mandates and revokes one given
with their consent, not a guardianship."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token_from
from tests.identification.test_saml import open_sessions, post_answer, start
from tests.saml_idp import test_idp
from voucher import clock
from voucher.accounts.models import User
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.clients.models import Client
from voucher.errors import ValidationFailed
from voucher.mandates import services
from voucher.mandates.models import Mandate, MandateBasis

RAILI = test_idp.NOT_CLIENTS[1]
AINO = test_idp.Person("150344-912V", "Aino", "Virtanen")


def _matti(db) -> Client:
    return db.scalar(sa.select(Client).where(Client.first_name == "Matti"))


def _record(db, client, *, basis=MandateBasis.CONSENT, choose=False, days=30,
            code=RAILI.identity_code):
    case_manager = db.scalar(sa.select(User).where(User.email == "casemanager@example.fi"))
    mandate = services.record_mandate(
        db, client=client, representative_code=code, representative_name="Raili Niemi",
        basis=basis, may_choose_provider=choose, may_pay=False, may_give_feedback=False,
        valid_from=clock.today(), valid_until=clock.today() + dt.timedelta(days=days),
        user=case_manager, actor=Actor.of_user(case_manager))
    db.commit()
    return mandate


def _act_for(client, saml_idp, person=RAILI, choice=None):
    answer = post_answer(client, saml_idp.answer(start(client), person))
    assert answer.status_code == 303 and answer.headers["Location"] == "/auth/saml/act-for"
    page = client.get("/auth/saml/act-for")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "120375-****" in text and RAILI.identity_code not in text
    value = choice or text.split('name="act_for" value="')[1].split('"')[0]
    return client.post("/auth/saml/act-for", data={"act_for": value,
                                                   "csrf_token": csrf_token_from(page)})


def test_recording_keeps_the_code_protected_and_refuses_a_bad_one(demo, saml_idp, db):
    matti = _matti(db)
    mandate = _record(db, matti)
    assert mandate.representative_code_masked == "120375-****"
    assert RAILI.identity_code not in mandate.representative_code_encrypted
    with pytest.raises(ValidationFailed):
        _record(db, matti, code="120375-9060")
    db.rollback()
    with pytest.raises(ValidationFailed):  # a client is not their own representative
        _record(db, matti, code="250460-947C")


def test_a_representative_acts_for_the_client_within_the_mandate(demo, saml_idp, client, db):
    matti = _matti(db)
    _record(db, matti)
    chosen = _act_for(client, saml_idp)
    assert chosen.status_code == 303
    home = client.get("/").get_data(as_text=True)
    assert "Matti Niemi" in home and "Raili Niemi" in home  # the banner
    assert client.get("/vouchers/mine").status_code == 200
    # Viewing only: choosing a provider is outside this mandate; the client's own pages too.
    voucher_page = client.get("/vouchers/mine")
    token = csrf_token_from(voucher_page)
    db.rollback()
    voucher_id = db.scalar(sa.text("SELECT id FROM vouchers WHERE client_id = :c LIMIT 1"),
                           {"c": matti.id})
    refused = client.post(f"/vouchers/{voucher_id}/provider",
                          data={"csrf_token": token, "provider_id": "1"})
    assert refused.status_code == 403
    assert client.get("/my/mandates").status_code == 403
    assert client.get("/account/password").status_code == 403
    db.rollback()
    event = db.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "mandate.representative_logged_in")).one()
    assert event.client_id == matti.id


def test_the_scope_allows_choosing_a_provider_audited_on_the_clients_behalf(demo, saml_idp,
                                                                            client, db):
    matti = _matti(db)
    mandate = _record(db, matti, choose=True)
    _act_for(client, saml_idp)
    voucher_id = db.scalar(sa.text(
        "SELECT id FROM vouchers WHERE client_id = :c AND status = 'issued' LIMIT 1"),
        {"c": matti.id})
    if voucher_id is None:
        pytest.skip("the demo gives Matti no voucher waiting for a provider")
    page = client.get(f"/vouchers/{voucher_id}/provider")
    assert page.status_code == 200
    provider_id = page.get_data(as_text=True).split('name="provider_id" value="')[1].split('"')[0]
    answer = client.post(f"/vouchers/{voucher_id}/provider",
                         data={"csrf_token": csrf_token_from(page), "provider_id": provider_id})
    assert answer.status_code in (302, 303), answer.status_code
    db.rollback()
    actors = db.scalars(sa.select(AuditEvent.actor).where(
        AuditEvent.client_id == matti.id).order_by(AuditEvent.id.desc())).all()
    assert any(f"(mandate {mandate.id}) on behalf of" in actor for actor in actors)


def test_a_revoked_mandate_stops_working_at_once(demo, saml_idp, client, db):
    mandate = _record(db, _matti(db))
    _act_for(client, saml_idp)
    assert client.get("/vouchers/mine").status_code == 200
    db.get(Mandate, mandate.id).revoked_at = clock.now()
    db.commit()
    answer = client.get("/vouchers/mine")
    assert answer.status_code == 303
    assert open_sessions(db) == 0
    assert client.get("/vouchers/mine").status_code in (302, 303)


def test_an_expired_mandate_stops_working_at_once(demo, saml_idp, client, db):
    _record(db, _matti(db), days=0)
    _act_for(client, saml_idp)
    assert client.get("/vouchers/mine").status_code == 200
    clock.freeze(clock.now() + dt.timedelta(days=1))
    assert client.get("/vouchers/mine").status_code == 303
    assert open_sessions(db) == 0


def test_a_client_with_a_mandate_chooses_themselves_or_the_other(demo, saml_idp, client, db):
    aino = db.scalar(sa.select(Client).where(Client.first_name == "Aino"))
    _record(db, _matti(db), code=AINO.identity_code)
    answer = post_answer(client, saml_idp.answer(start(client), AINO))
    assert answer.headers["Location"] == "/auth/saml/act-for"
    page = client.get("/auth/saml/act-for")
    chosen = client.post("/auth/saml/act-for", data={"act_for": "self",
                                                     "csrf_token": csrf_token_from(page)})
    assert chosen.status_code == 303
    home = client.get("/").get_data(as_text=True)
    assert aino.full_name in home and "acting-banner" not in home


def test_the_client_sees_and_revokes_a_consent_mandate_but_not_a_guardianship(demo, auth,
                                                                             client, db):
    aino = db.scalar(sa.select(Client).where(Client.first_name == "Aino"))
    consent = _record(db, aino)
    guardian = _record(db, aino, basis=MandateBasis.GUARDIAN)
    auth.login("client@example.fi")
    page = client.get("/my/mandates")
    assert page.status_code == 200 and "120375-****" in page.get_data(as_text=True)
    token = csrf_token_from(page)
    assert client.post(f"/my/mandates/{guardian.id}/revoke",
                       data={"csrf_token": token}).status_code == 303
    assert client.post(f"/my/mandates/{consent.id}/revoke",
                       data={"csrf_token": token}).status_code == 303
    db.rollback()
    assert db.get(Mandate, consent.id).revoked_at is not None
    assert db.get(Mandate, guardian.id).revoked_at is None


def test_a_case_manager_records_and_revokes_on_the_clients_page(demo, auth, client, db):
    matti = _matti(db)
    auth.login("casemanager@example.fi")
    page = client.get(f"/clients/{matti.id}/mandates")
    assert page.status_code == 200
    answer = client.post(f"/clients/{matti.id}/mandates", data={
        "csrf_token": csrf_token_from(page), "representative_name": "Raili Niemi",
        "representative_code": RAILI.identity_code, "basis": "consent", "may_pay": "y",
        "valid_from": "24.11.2026", "valid_until": "31.12.2027"})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    db.rollback()
    mandate = db.scalars(sa.select(Mandate).where(Mandate.client_id == matti.id)).one()
    assert mandate.may_pay and not mandate.may_choose_provider
    page = client.get(f"/clients/{matti.id}/mandates")
    assert RAILI.identity_code not in page.get_data(as_text=True)
    client.post(f"/clients/{matti.id}/mandates/{mandate.id}/revoke",
                data={"csrf_token": csrf_token_from(page)})
    db.rollback()
    assert db.get(Mandate, mandate.id).revoked_at is not None


def test_pseudonymising_the_client_removes_their_mandates(demo, saml_idp, db):
    from voucher.privacy.retention import pseudonymise_client

    matti = _matti(db)
    _record(db, matti)
    pseudonymise_client(db, matti, actor=Actor.system("test"), cutoff=clock.today())
    db.commit()
    assert db.scalars(sa.select(Mandate).where(Mandate.client_id == matti.id)).all() == []


def test_key_rotation_re_encrypts_the_representatives_code(demo, saml_idp, db, app):
    from cryptography.fernet import Fernet

    from voucher.crypto import DataCipher
    from voucher.privacy.rotation import rotate_keys

    _record(db, _matti(db))
    cipher = DataCipher([Fernet.generate_key().decode(), *app.config["IDENTITY_KEYS"]],
                        app.config["IDENTITY_INDEX_KEY"])
    report = rotate_keys(db, cipher)
    assert report.rotated["mandates.representative_code_encrypted"] == 1


def test_the_clients_data_export_lists_their_mandates(demo, saml_idp, db):
    from voucher.privacy.export import export_client_data, export_pdf

    matti = _matti(db)
    _record(db, matti)
    case_manager = db.scalar(sa.select(User).where(User.email == "casemanager@example.fi"))
    exported = export_client_data(db, matti, actor=Actor.of_user(case_manager),
                                  file_format="json", authority="Kallio")
    text = exported.as_json()
    assert "120375-****" in text and RAILI.identity_code not in text
    assert export_pdf(exported).startswith(b"%PDF")


def test_notices_go_to_the_representative_when_the_client_chose_so(demo, saml_idp, db, app):
    from voucher.mail.models import OutboxMessage
    from voucher.vouchers.models import Voucher
    from voucher.vouchers.notices import notify_client

    helmi = db.scalar(sa.select(Client).where(Client.first_name == "Helmi"))
    case_manager = db.scalar(sa.select(User).where(User.email == "casemanager@example.fi"))
    with pytest.raises(ValidationFailed):  # the choice needs an address
        services.record_mandate(
            db, client=helmi, representative_code=RAILI.identity_code,
            representative_name="Raili Niemi", basis=MandateBasis.CONSENT,
            may_choose_provider=False, may_pay=False, may_give_feedback=False,
            valid_from=clock.today(), valid_until=clock.today(), user=case_manager,
            actor=Actor.of_user(case_manager), notices_to_representative=True)
    db.rollback()
    services.record_mandate(
        db, client=helmi, representative_code=RAILI.identity_code,
        representative_name="Raili Niemi", basis=MandateBasis.CONSENT,
        may_choose_provider=False, may_pay=False, may_give_feedback=False,
        valid_from=clock.today(), valid_until=clock.today(), user=case_manager,
        actor=Actor.of_user(case_manager), representative_email="Raili@example.fi",
        notices_to_representative=True)
    voucher = db.scalars(sa.select(Voucher).where(Voucher.client_id == helmi.id)).first()
    notify_client(db, voucher, "issued")
    db.flush()
    last = db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert last.to_address == "raili@example.fi"
    clock.freeze(clock.now() + dt.timedelta(days=1))  # the mandate has ended
    notify_client(db, voucher, "issued")
    db.flush()
    last = db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert last.to_address == helmi.email
    db.rollback()
