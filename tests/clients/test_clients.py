"""Clients: registration with a henkilötunnus, scope by municipality, audited identity views,
login by invitation."""

import re

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import csrf_token_from, link_in, post_form
from voucher.accounts.models import Role, User
from voucher.audit.models import AuditEvent
from voucher.clients.identity import decrypt_identity_code
from voucher.clients.models import Client

CODE = "131052-308T"
STRANGER_CODE = "010170-960F"


@pytest.fixture
def setup(db):
    home = factories.municipality(db, "977", "Ylivieska")
    other = factories.municipality(db, "535", "Nivala")
    cm = factories.user(db, role=Role.CASE_MANAGER, municipalities=[home],
                        email="kaisa@example.fi")
    stranger = factories.client(db, home=other, first_name="Outi", last_name="Ulkopuolinen",
                                code=STRANGER_CODE)
    db.commit()
    return {"home": home, "other": other, "cm": cm, "stranger": stranger}


def _register(client, home, **overrides):
    data = {"identity_code": CODE, "first_name": "Aino", "last_name": "Virtanen",
            "municipality": home.id, "language": "fi", "email": "aino@example.fi",
            "household_size": "1", "income": "1 650,00"}
    data.update(overrides)
    return post_form(client, "/clients/new", data)


def _clients(db):
    db.rollback()
    return db.execute(sa.select(Client).order_by(Client.id)).scalars().all()


def test_registering_stores_the_code_encrypted_and_shows_it_masked(client, auth, db, setup):
    auth.login("kaisa@example.fi", factories.PASSWORD)
    response = _register(client, setup["home"], identity_code=" 131052-308t ")
    assert response.status_code == 303
    registered = _clients(db)[-1]
    assert registered.identity_code_masked == "131052-****"
    assert CODE not in (registered.identity_code_encrypted or "")
    assert decrypt_identity_code(registered.identity_code_encrypted) == CODE
    assert (registered.gross_monthly_income_cents, registered.household_size) == (165_000, 1)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "131052-****" in page and CODE not in page


@pytest.mark.parametrize("code", ["131052-308X", "311352-308T", "131052308T", "hello"])
def test_an_invalid_identity_code_is_refused_next_to_the_field(client, auth, db, setup, code):
    auth.login("kaisa@example.fi", factories.PASSWORD)
    before = len(_clients(db))
    response = _register(client, setup["home"], identity_code=code)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Tämä ei ole kelvollinen henkilötunnus" in html
    assert 'value="Aino"' in html  # nothing typed is lost
    assert len(_clients(db)) == before


def test_a_duplicate_identity_code_is_refused_even_in_another_form(client, auth, db, setup):
    auth.login("kaisa@example.fi", factories.PASSWORD)
    assert _register(client, setup["home"]).status_code == 303
    count = len(_clients(db))
    response = _register(client, setup["home"], identity_code="131052+308T".replace("+", "-"),
                         first_name="Toinen")
    assert response.status_code == 422
    assert "on jo rekisteröity" in response.get_data(as_text=True)
    assert len(_clients(db)) == count


def _refusals(db):
    db.rollback()
    return [(int(e.object_id), e.data.get("reason")) for e in db.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "client.registration_refused")
        .order_by(AuditEvent.id)).scalars()]


def test_registering_another_municipalitys_client_says_nothing_about_them_and_is_audited(
        client, auth, db, setup):
    auth.login("kaisa@example.fi", factories.PASSWORD)
    count = len(_clients(db))
    response = _register(client, setup["home"], identity_code=STRANGER_CODE)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Henkilöä ei voi rekisteröidä kuntiisi" in html
    assert "on jo rekisteröity" not in html  # not "already a client" of some municipality
    for secret in ("Nivala", "Outi", "Ulkopuolinen"):
        assert secret not in html
    assert 'value="Aino"' in html  # what was typed stays
    assert len(_clients(db)) == count
    assert _refusals(db) == [(setup["stranger"].id, "registered_elsewhere")]


def test_a_duplicate_in_ones_own_municipality_is_audited_too(client, auth, db, setup):
    auth.login("kaisa@example.fi", factories.PASSWORD)
    assert _register(client, setup["home"]).status_code == 303
    assert _register(client, setup["home"], first_name="Toinen").status_code == 422
    registered = _clients(db)[-1]
    assert _refusals(db) == [(registered.id, "already_registered")]


def test_a_case_manager_can_register_only_in_their_municipalities(client, auth, db, setup):
    auth.login("kaisa@example.fi", factories.PASSWORD)
    response = _register(client, setup["home"], municipality=setup["other"].id)
    assert response.status_code == 422
    assert all(c.first_name != "Aino" for c in _clients(db))


@pytest.mark.parametrize("path", ["/clients/{id}", "/clients/{id}/edit",
                                  "/vouchers/new/{id}"])
def test_another_municipalitys_client_is_not_found(client, auth, setup, path):
    auth.login("kaisa@example.fi", factories.PASSWORD)
    response = client.get(path.format(id=setup["stranger"].id))
    assert response.status_code == 404
    assert "Ulkopuolinen" not in response.get_data(as_text=True)


def test_the_list_and_search_show_only_own_municipalities(client, auth, db, setup):
    mine = factories.client(db, home=setup["home"], first_name="Helmi", last_name="Korhonen",
                            code=CODE)
    db.commit()
    auth.login("kaisa@example.fi", factories.PASSWORD)
    listing = client.get("/clients/").get_data(as_text=True)
    assert "Korhonen" in listing and "Ulkopuolinen" not in listing
    by_code = post_form(client, "/clients/", {"q": "131052-308T"}, form_page="/clients/")
    assert by_code.status_code == 303 and by_code.location.endswith(f"/clients/{mine.id}")
    by_name = post_form(client, "/clients/", {"q": "Ulko"}, form_page="/clients/")
    assert by_name.status_code == 303 and "q=Ulko" in by_name.location
    assert "Korhonen" not in client.get(by_name.location).get_data(as_text=True)
    # Another municipality's client's code finds nothing, and the code stays out of the URL.
    stranger_code = post_form(client, "/clients/", {"q": STRANGER_CODE}, form_page="/clients/")
    assert stranger_code.status_code == 200
    assert "Ulkopuolinen" not in stranger_code.get_data(as_text=True)


def test_opening_and_revealing_are_audited(client, auth, db, setup):
    mine = factories.client(db, home=setup["home"], code=CODE)
    db.commit()
    auth.login("kaisa@example.fi", factories.PASSWORD)
    page = client.get(f"/clients/{mine.id}")
    assert CODE not in page.get_data(as_text=True)
    response = client.post(f"/clients/{mine.id}/identity-code",
                           data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 200
    assert CODE in response.get_data(as_text=True)
    db.rollback()
    events = db.execute(sa.select(AuditEvent.action, AuditEvent.actor_user_id, AuditEvent.data)
                        .where(AuditEvent.client_id == mine.id)).all()
    actions = [e.action for e in events]
    assert actions.count("client.viewed") == 1
    assert actions.count("client.identity_code_viewed") == 1
    assert all(e.actor_user_id == setup["cm"].id for e in events)
    assert all(CODE not in str(e.data) for e in events)


def test_the_client_logs_in_from_the_invitation(client, auth, db, setup, outbox):
    auth.login("kaisa@example.fi", factories.PASSWORD)
    response = _register(client, setup["home"], send_invitation="y")
    assert response.status_code == 303
    invitation = outbox(to="aino@example.fi")[-1]
    auth.logout()
    link = link_in(invitation.body_text)
    page = client.get(link)
    response = client.post(link, data={"new_password": "kaunis kesäpäivä järvellä",
                                       "confirm_password": "kaunis kesäpäivä järvellä",
                                       "csrf_token": csrf_token_from(page)})
    assert response.status_code == 303
    home = client.get("/").get_data(as_text=True)
    assert "Omat palvelusetelini" in home
    db.rollback()
    account = db.execute(sa.select(User).where(User.email == "aino@example.fi")).scalar_one()
    assert account.role == Role.CLIENT and account.client_id == _clients(db)[-1].id


def test_an_invitation_needs_an_email_address_and_a_free_one(client, auth, db, setup):
    factories.user(db, role=Role.ADMIN, email="aino@example.fi")
    db.commit()
    auth.login("kaisa@example.fi", factories.PASSWORD)
    response = _register(client, setup["home"], send_invitation="y")
    assert response.status_code == 422
    assert "Tällä sähköpostiosoitteella on jo käyttäjätunnus." in response.get_data(as_text=True)
    assert all(c.first_name != "Aino" for c in _clients(db))  # registration rolled back too
    response = _register(client, setup["home"], email="", send_invitation="y")
    assert response.status_code == 422
    assert "ei ole sähköpostiosoitetta" in response.get_data(as_text=True)


def test_editing_records_which_fields_changed(client, auth, db, setup):
    mine = factories.client(db, home=setup["home"], code=CODE)
    db.commit()
    auth.login("kaisa@example.fi", factories.PASSWORD)
    page = client.get(f"/clients/{mine.id}/edit")
    form = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', page.get_data(as_text=True)))
    form.update(phone="+358 40 123 4567", municipality=setup["home"].id, language="sv")
    response = client.post(f"/clients/{mine.id}/edit", data=form)
    assert response.status_code == 303
    db.rollback()
    event = db.execute(sa.select(AuditEvent).where(AuditEvent.action == "client.updated")
                       ).scalar_one()
    assert set(event.data["fields"]) == {"phone", "language"}
