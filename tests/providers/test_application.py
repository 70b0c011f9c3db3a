"""The application: a draft saved half-done, formats checked, every missing item listed at once
on submission, and no editing while under review."""

import sqlalchemy as sa

from tests.conftest import post_form
from tests.providers.conftest import complete_application, draft, login
from voucher.audit.models import AuditEvent
from voucher.mail.models import OutboxMessage
from voucher.providers.models import (
    PriceStatus,
    Provider,
    ProviderPrice,
    ProviderService,
    ProviderStatus,
    ServiceStatus,
)

EDIT = "/provider/application/edit"


def _logged_in_draft(db, auth, **kwargs):
    provider, user = draft(db, **kwargs)
    db.commit()
    login(auth, user)
    return provider, user


def test_a_draft_is_saved_half_done(client, db, auth, catalogue):
    provider, _user = _logged_in_draft(db, auth)
    response = post_form(client, EDIT, {"action": "save", "marketing_name": "Puolivalmis",
                                        "city": "Nivala"})
    assert response.status_code == 303
    db.rollback()
    saved = db.get(Provider, provider.id)
    assert (saved.marketing_name, saved.city, saved.status) == ("Puolivalmis", "Nivala",
                                                               ProviderStatus.DRAFT)
    event = db.execute(sa.select(AuditEvent).where(
        AuditEvent.action == "provider.application_saved")).scalar_one()
    assert set(event.data["changed"]) == {"marketing_name", "city"}
    assert "Puolivalmis" not in str(event.data)


def test_invalid_iban_is_refused_next_to_the_field_and_nothing_typed_is_lost(
        client, db, auth, catalogue):
    provider, _user = _logged_in_draft(db, auth)
    response = post_form(client, EDIT, {"action": "save", "iban": "FI21 1234 5600 0007 86",
                                        "contact_person": "Kaija Kirjoittaja",
                                        "bic": "NDEAFIHH"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Tämä ei ole kelvollinen IBAN-tilinumero" in html
    assert 'id="iban-error"' in html
    assert 'value="FI21 1234 5600 0007 86"' in html
    assert 'value="Kaija Kirjoittaja"' in html
    db.rollback()
    assert db.get(Provider, provider.id).contact_person == "Testi Henkilö"  # nothing saved


def test_price_above_the_cap_is_refused_next_to_the_price(client, db, auth, catalogue):
    _logged_in_draft(db, auth)
    cleaning = catalogue["CLEANING"]
    key = f"service_{cleaning.id}"
    response = post_form(client, EDIT, {"action": "save", f"{key}_offered": "y",
                                        f"{key}_price": "38,50", f"{key}_description": "Siivous"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Hinta ylittää palvelun voimassa olevan hintakaton 38,00\u00a0€" in html
    assert f'id="{key}_price-error"' in html
    assert 'value="38,50"' in html and "Siivous</textarea>" in html
    assert db.execute(sa.select(sa.func.count()).select_from(ProviderService)).scalar() == 0
    response = post_form(client, EDIT, {"action": "save", f"{key}_offered": "y",
                                        f"{key}_price": "38,00"})
    assert response.status_code == 303


def test_submitting_an_incomplete_application_lists_every_missing_item_and_keeps_the_draft(
        client, db, auth, catalogue):
    provider, _user = _logged_in_draft(db, auth)
    home_care = catalogue["HOME_CARE"]
    key = f"service_{home_care.id}"
    response = post_form(client, EDIT, {"action": "submit", "marketing_name": "Kesken",
                                        f"{key}_offered": "y", f"{key}_price": "40"})
    assert response.status_code == 200  # saved as a draft: not a refusal
    html = response.get_data(as_text=True)
    assert "Hakemus tallennettiin luonnoksena" in html
    for message in ("Anna katuosoite.", "Anna postinumero.", "Anna puhelinnumero.",
                    "Anna pankkitili (IBAN), jolle maksut maksetaan.",
                    "Yrityksen on oltava ennakkoperintärekisterissä: vahvista se.",
                    "Anna vastuuvakuutuksen vakuutusyhtiö.",
                    "Valitse vähintään yksi kunta, jossa tuotatte palveluja.",
                    "Valitse vähintään yksi kieli, jolla palvelette asiakkaita.",
                    "Kuvaile, miten tuotatte palvelun Kotihoito.",
                    "Vahvista, että täytätte palvelun Kotihoito hyväksymisperusteet.",
                    "Kotihoito edellyttää rekisteröitymistä Soteri-rekisteriin",
                    "Lisää vähintään yksi toimisto tai muu toimipaikka.",
                    "Lisää omavalvontasuunnitelma PDF-tiedostona.",
                    "Lisää vastuuvakuutustodistus PDF-tiedostona."):
        assert message in html, message
    assert f'id="{key}_description-error"' in html and 'id="street_address-error"' in html
    assert 'value="Kesken"' in html
    db.rollback()
    saved = db.get(Provider, provider.id)
    assert saved.marketing_name == "Kesken" and saved.status == ProviderStatus.DRAFT
    offer = db.execute(sa.select(ProviderService)).scalar_one()
    assert offer.status == ServiceStatus.DRAFT


def test_the_submit_button_of_the_overview_shows_the_form_with_the_missing_items(
        client, db, auth, catalogue):
    _logged_in_draft(db, auth)
    response = post_form(client, "/provider/application/submit", {},
                         form_page="/provider/application")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Hakemus ei ole vielä valmis" in html or "Anna katuosoite." in html
    assert "Valitse vähintään yksi palvelu, jota tarjoatte." in html


def test_a_complete_application_is_submitted_confirmed_and_locked(client, db, auth, app,
                                                                    catalogue):
    provider, user = complete_application(db,
                                          prices={"CLEANING": 3300, "HOME_CARE": 4200})
    login(auth, user)
    overview = client.get("/provider/application").get_data(as_text=True)
    assert "Ennen kuin voit lähettää hakemuksen" not in overview
    response = post_form(client, "/provider/application/submit", {},
                         form_page="/provider/application")
    assert response.status_code == 303
    db.rollback()
    provider = db.get(Provider, provider.id)
    assert provider.status == ProviderStatus.SUBMITTED
    assert provider.review_requested_at is not None
    assert {o.status for o in provider.services} == {ServiceStatus.SUBMITTED}
    assert db.execute(sa.select(sa.func.count()).select_from(ProviderPrice).where(
        ProviderPrice.status == PriceStatus.PENDING)).scalar() == 2
    mail = db.execute(sa.select(OutboxMessage).where(
        OutboxMessage.to_address == user.email)).scalar_one()
    assert mail.subject == "Hakemuksenne on vastaanotettu"
    assert "Siivousapu" in mail.body_text and "Kotihoito" in mail.body_text
    # Under review nothing can be changed.
    page = client.get(EDIT)
    assert page.status_code == 302
    response = post_form(client, EDIT, {"action": "save", "city": "Muutettu"},
                         form_page="/provider/application")
    assert response.status_code == 302
    db.rollback()
    assert db.get(Provider, provider.id).city == "Ylivieska"


def test_a_draft_service_can_be_withdrawn_and_offered_again(db, app, catalogue):
    from voucher.audit.services import Actor
    from voucher.providers import application

    provider, user = draft(db)
    cleaning = catalogue["CLEANING"]
    offer = application.OfferInput(cleaning.id, True, 3000, "Siivous", True)
    application.save_application(db, provider, actor=Actor.of_user(user), details={},
                                 municipality_ids=[], languages=[], offers=[offer])
    assert provider.services[0].status == ServiceStatus.DRAFT
    withdrawn = application.OfferInput(cleaning.id, False, 3000, "Siivous", True)
    application.save_application(db, provider, actor=Actor.of_user(user), details={},
                                 municipality_ids=[], languages=[], offers=[withdrawn])
    assert provider.services[0].status == ServiceStatus.WITHDRAWN
    again = application.OfferInput(cleaning.id, True, 3100, "Siivous", True)
    application.save_application(db, provider, actor=Actor.of_user(user), details={},
                                 municipality_ids=[], languages=[], offers=[again])
    assert provider.services[0].status == ServiceStatus.DRAFT
    prices = db.execute(sa.select(ProviderPrice)).scalars().all()
    assert [(p.unit_price_cents, p.status) for p in prices] == [(3100, PriceStatus.PENDING)]


def test_sites_are_added_and_removed_only_by_their_own_provider(client, db, auth, catalogue):
    other, _other_user = draft(db)
    db.commit()
    from voucher.audit.services import Actor
    from voucher.providers.sites import add_site

    foreign = add_site(db, other, actor=Actor.system("test"), name="Vieras",
                       street_address="Katu 1", postal_code="84100", city="Ylivieska",
                       municipality_id=None)
    db.commit()
    _provider, _user = _logged_in_draft(db, auth)
    response = post_form(client, "/provider/application/sites", {
        "name": "Päätoimisto", "street_address": "Torikatu 1", "postal_code": "841",
        "city": "Ylivieska", "municipality": "0"})
    assert response.status_code == 422
    assert "Postinumerossa on viisi numeroa" in response.get_data(as_text=True)
    assert 'value="Päätoimisto"' in response.get_data(as_text=True)
    response = post_form(client, "/provider/application/sites", {
        "name": "Päätoimisto", "street_address": "Torikatu 1", "postal_code": "84100",
        "city": "Ylivieska", "municipality": "0"})
    assert response.status_code == 303
    response = post_form(client, f"/provider/application/sites/{foreign.id}/remove", {},
                         form_page="/provider/application/sites")
    assert response.status_code == 404
    db.rollback()
    assert db.get(Provider, other.id).sites[0].name == "Vieras"


def test_a_control_character_is_refused_next_to_its_field_and_text_is_normalised(
        client, db, auth, catalogue):
    provider, _user = _logged_in_draft(db, auth)
    response = post_form(client, EDIT, {"action": "save", "marketing_name": "Hoiva\x07 Oy",
                                        "city": "Nivala"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="marketing_name-error"' in html and "ohjausmerkki (U+0007)" in html
    db.rollback()
    assert db.get(Provider, provider.id).marketing_name is None  # nothing saved
    response = post_form(client, EDIT, {"action": "save", "marketing_name": "Ha\u0308ma\u0308\tOy"})
    assert response.status_code == 303
    db.rollback()
    assert db.get(Provider, provider.id).marketing_name == "Hämä Oy"
