"""Anyone can create a provider account and an application draft; business IDs are checked,
one provider per business ID, and nothing typed is lost on an error."""

import pytest
import sqlalchemy as sa

from tests.conftest import post_form
from tests.providers.conftest import PASSWORD, business_id, draft
from voucher.accounts.models import Role, User
from voucher.audit.models import AuditEvent
from voucher.providers.models import Provider, ProviderDecision, ProviderStatus

URL = "/provider/apply"


def _form(**changes):
    return {"business_id": business_id(), "legal_name": "Hoiva Esimerkki Oy",
            "contact_person": "Eeva Esimerkki", "email": "eeva@hoivaesimerkki.example.fi",
            "password": PASSWORD, "confirm_password": PASSWORD, **changes}


def test_registration_creates_a_draft_and_a_provider_user_who_is_logged_in(client, db):
    data = _form(business_id="0737546 2")  # without the hyphen, with a space
    response = post_form(client, URL, data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/provider/application/edit")
    provider = db.execute(sa.select(Provider)).scalar_one()
    assert provider.business_id == "0737546-2"
    assert provider.status == ProviderStatus.DRAFT
    user = db.execute(sa.select(User).where(User.provider_id == provider.id)).scalar_one()
    assert user.role == Role.PROVIDER and user.email == "eeva@hoivaesimerkki.example.fi"
    assert [d.action for d in db.execute(sa.select(ProviderDecision)).scalars()] == ["registered"]
    actions = db.execute(sa.select(AuditEvent.action)).scalars().all()
    assert "user.created" in actions and "provider.registered" in actions
    page = client.get("/provider/application/edit")
    assert page.status_code == 200
    assert "Hoiva Esimerkki Oy" in page.get_data(as_text=True)


def test_invalid_business_id_is_explained_next_to_the_field_and_nothing_is_lost(client, db):
    response = post_form(client, URL, _form(business_id="1234567-8"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Tämä ei ole kelvollinen Y-tunnus" in html
    assert 'id="business_id-error"' in html
    assert 'value="1234567-8"' in html
    assert 'value="Hoiva Esimerkki Oy"' in html and 'value="Eeva Esimerkki"' in html
    assert 'value="eeva@hoivaesimerkki.example.fi"' in html
    assert db.execute(sa.select(sa.func.count()).select_from(Provider)).scalar() == 0


def test_second_provider_with_the_same_business_id_is_refused(client, db, app):
    existing, _user = draft(db)
    db.commit()
    response = post_form(client, URL, _form(business_id=existing.business_id))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Tällä Y-tunnuksella on jo rekisteröity palveluntuottaja" in html
    assert 'id="business_id-error"' in html
    assert 'value="Hoiva Esimerkki Oy"' in html
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(Provider)).scalar() == 1
    assert db.execute(sa.select(sa.func.count()).select_from(User)).scalar() == 1


def test_taken_email_and_weak_password_are_refused(client, db):
    _existing, _user = draft(db, email="varattu@example.fi")
    db.commit()
    response = post_form(client, URL, _form(email="varattu@example.fi"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Tällä sähköpostiosoitteella on jo käyttäjätunnus." in html
    assert 'id="email-error"' in html
    response = post_form(client, URL, _form(password="lyhyt", confirm_password="lyhyt"))
    assert response.status_code == 422
    assert 'id="password-error"' in response.get_data(as_text=True)


def test_swedish_registration_is_in_swedish(client, db):
    client.get("/language/sv")
    response = post_form(client, URL, _form(business_id="123"))
    assert response.status_code == 422
    assert "Detta är inte ett giltigt FO-nummer" in response.get_data(as_text=True)
    response = post_form(client, URL, _form())
    assert response.status_code == 303
    assert db.execute(sa.select(User.language).where(User.role == Role.PROVIDER)).scalar() == "sv"


@pytest.mark.postgres_only
def test_simultaneous_registrations_of_one_business_id_make_one_provider(app, db,
                                                                        database_url):
    from tests.concurrency import run_in_parallel
    from voucher.audit.services import Actor
    from voucher.providers.registration import register_provider

    def work(session, i):
        register_provider(session, business_id="0737546-2", legal_name="Sama Oy",
                          contact_person="Rinnakkainen", email=f"rinnakkain{i}@example.fi",
                          password=PASSWORD, language="fi", actor=Actor.system("test"))

    outcomes = run_in_parallel(database_url, work, 4, app=app)
    assert outcomes == {"ok": 1, "BusinessIdTaken": 3}
    assert db.execute(sa.select(sa.func.count()).select_from(Provider)).scalar() == 1
    assert db.execute(sa.select(sa.func.count()).select_from(User)).scalar() == 1
