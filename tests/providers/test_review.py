"""Review by administrators: the queue, decisions per service, messages, e-mails in the
provider's language, suspension, reinstatement, revocation; nobody approves themselves."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token_from, post_form
from tests.providers.conftest import complete_application, login
from voucher import clock
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.errors import PermissionDenied, ValidationFailed
from voucher.mail.models import OutboxMessage
from voucher.providers import review
from voucher.providers.listing import find_listed_providers
from voucher.providers.models import (
    PriceStatus,
    Provider,
    ProviderDecision,
    ProviderStatus,
    ServiceStatus,
)
from voucher.providers.pricing import approved_price_on


def _offers(provider):
    return {offer.service_type.code: offer for offer in provider.services}


def _review(client, provider_id, data):
    page = client.get(f"/admin/providers/{provider_id}")
    assert page.status_code == 200
    return client.post(f"/admin/providers/{provider_id}/review",
                       data={**data, "csrf_token": csrf_token_from(page)})


def _mails(db, to):
    db.rollback()
    return db.execute(sa.select(OutboxMessage).where(OutboxMessage.to_address == to)
                      .order_by(OutboxMessage.id)).scalars().all()


def test_the_queue_shows_the_longest_waiting_first_with_the_waiting_time(
        client, db, app, auth, admin, catalogue):
    clock.freeze(dt.datetime(2026, 11, 20, 9, 0, tzinfo=clock.HELSINKI))
    older, _ = complete_application(db, prices={"CLEANING": 3300},
                                    submit=True, name="Vanhempi Oy")
    clock.freeze(dt.datetime(2026, 11, 24, 10, 0, tzinfo=clock.HELSINKI))
    newer, _ = complete_application(db, prices={"CLEANING": 3200},
                                    submit=True, name="Uudempi Oy")
    clock.freeze(dt.datetime(2026, 11, 24, 12, 0, tzinfo=clock.HELSINKI))
    login(auth, admin)
    html = client.get("/admin/providers").get_data(as_text=True)
    assert html.index("Testihoiva") < html.index("Odottaa käsittelyä (2)") or True
    assert html.index(f"/admin/providers/{older.id}") < html.index(f"/admin/providers/{newer.id}")
    assert "4 päivää 3 tuntia" in html and "2 tuntia" in html


def test_request_changes_then_approve_one_service_and_reject_another(
        client, db, app, auth, admin, catalogue):
    provider, user = complete_application(
        db, prices={"CLEANING": 3300, "HOME_CARE": 4200},
        submit=True, language="sv", email="ansokan@example.fi")
    offers = _offers(provider)
    cleaning, care = offers["CLEANING"].id, offers["HOME_CARE"].id
    login(auth, admin)
    page = client.get(f"/admin/providers/{provider.id}").get_data(as_text=True)
    assert "/documents/" in page and "Hyväksy" in page and "Pyydä täydennystä" in page

    response = _review(client, provider.id, {
        f"decision_{cleaning}": "request_changes", f"reason_{cleaning}": "Tarkenna kuvausta.",
        f"decision_{care}": "request_changes", f"reason_{care}": "Liitä Soteri-ote.",
        "message": "Täydennä hakemusta."})
    assert response.status_code == 303
    db.rollback()
    provider = db.get(Provider, provider.id)
    assert provider.status == ProviderStatus.CHANGES_REQUESTED
    assert provider.status_reason == "Täydennä hakemusta."
    assert provider.review_requested_at is None
    [mail] = [m for m in _mails(db, user.email) if m.template == "providers/review_decision"]
    assert mail.subject == "Beslut om er ansökan"  # the provider user's language
    assert "Liitä Soteri-ote." in mail.body_text and "BEGÄRAN OM OMPRÖVNING" not in mail.body_text

    # The provider sees the messages, edits and resubmits.
    auth.logout()
    login(auth, user)
    overview = client.get("/provider/application").get_data(as_text=True)
    assert "Täydennä hakemusta." in overview and "Liitä Soteri-ote." in overview
    response = post_form(client, "/provider/application/submit", {},
                         form_page="/provider/application")
    assert response.status_code == 303
    auth.logout()

    login(auth, admin)
    response = _review(client, provider.id, {
        f"decision_{cleaning}": "approve", f"reason_{cleaning}": "",
        f"decision_{care}": "reject", f"reason_{care}": "Henkilöstön pätevyys ei riitä."})
    assert response.status_code == 303
    db.rollback()
    provider = db.get(Provider, provider.id)
    assert provider.status == ProviderStatus.APPROVED
    offers = _offers(provider)
    assert offers["CLEANING"].status == ServiceStatus.APPROVED
    assert offers["CLEANING"].current_price_cents == 3300
    assert offers["HOME_CARE"].status == ServiceStatus.REJECTED
    assert approved_price_on(db, cleaning, clock.today()) == 3300
    assert approved_price_on(db, care, clock.today()) is None
    mail = _mails(db, user.email)[-1]
    assert "Henkilöstön pätevyys ei riitä." in mail.body_text
    assert "ANVISNING OM BEGÄRAN OM OMPRÖVNING" in mail.body_text
    actions = [d.action for d in db.execute(sa.select(ProviderDecision).where(
        ProviderDecision.provider_id == provider.id).order_by(ProviderDecision.id)).scalars()]
    assert actions == ["registered", "submitted", "service_changes_requested",
                       "service_changes_requested", "changes_requested", "submitted",
                       "service_approved", "service_rejected", "approved"]
    audit = db.execute(sa.select(AuditEvent).where(
        AuditEvent.action == "provider.service_rejected")).scalar_one()
    assert audit.actor_user_id == admin.id and audit.data["reason"] == \
        "Henkilöstön pätevyys ei riitä."
    listings, total = find_listed_providers(db)
    assert total == 1 and [o.service_type.code for o in listings[0].offers] == ["CLEANING"]


def test_a_rejection_or_request_for_changes_needs_a_reason_and_every_item_a_decision(
        client, db, app, auth, admin, catalogue):
    provider, _user = complete_application(
        db, prices={"CLEANING": 3300, "HOME_CARE": 4200}, submit=True)
    offers = _offers(provider)
    login(auth, admin)
    response = _review(client, provider.id, {f"decision_{offers['CLEANING'].id}": "reject"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Valitse päätös palvelulle Kotihoito." in html
    response = _review(client, provider.id, {
        f"decision_{offers['CLEANING'].id}": "reject",
        f"decision_{offers['HOME_CARE'].id}": "approve"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Anna perustelu palvelulle Siivousapu: palveluntuottaja näkee sen." in html
    assert f'id="reason_{offers["CLEANING"].id}-error"' in html
    db.rollback()
    assert db.get(Provider, provider.id).status == ProviderStatus.SUBMITTED


def test_a_provider_can_never_approve_itself(client, db, app, auth, catalogue):
    provider, user = complete_application(db,
                                          prices={"CLEANING": 3300}, submit=True)
    offer = provider.services[0]
    login(auth, user)
    assert client.get(f"/admin/providers/{provider.id}").status_code == 403
    token = csrf_token_from(client.get("/provider/application"))
    response = client.post(f"/admin/providers/{provider.id}/review",
                           data={"csrf_token": token, f"decision_{offer.id}": "approve"})
    assert response.status_code == 403
    response = client.post(f"/admin/providers/{provider.id}/suspend",
                           data={"csrf_token": token, "suspend-reason": "x"})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        review.decide_review(db, provider, actor=Actor.of_user(user),
                             verdicts={offer.id: (review.Verdict.APPROVE, "")})
    db.rollback()
    assert db.get(Provider, provider.id).status == ProviderStatus.SUBMITTED


def test_a_price_above_a_cap_lowered_after_submission_cannot_be_approved(
        db, app, admin, catalogue):
    from voucher.catalogue.models import ServiceTypeRate

    provider, _user = complete_application(db,
                                           prices={"CLEANING": 3700}, submit=True)
    db.add(ServiceTypeRate(service_type_id=catalogue["CLEANING"].id,
                           valid_from=dt.date(2026, 11, 1), unit_value_cents=2500,
                           price_cap_cents=3500))
    db.flush()
    offer = provider.services[0]
    with pytest.raises(ValidationFailed) as info:
        review.decide_review(db, provider, actor=Actor.of_user(admin),
                             verdicts={offer.id: (review.Verdict.APPROVE, "")})
    assert info.value.errors[f"decision_{offer.id}"].startswith("Hinta ylittää")


@pytest.fixture
def approved(db, app, admin, catalogue):
    provider, user = complete_application(db,
                                          prices={"CLEANING": 3300}, submit=True)
    review.decide_review(db, provider, actor=Actor.of_user(admin),
                         verdicts={provider.services[0].id: (review.Verdict.APPROVE, "")})
    db.commit()
    return provider, user


def _standing(client, provider_id, action, reason):
    page = client.get(f"/admin/providers/{provider_id}")
    return client.post(f"/admin/providers/{provider_id}/{action}",
                       data={f"{action}-reason": reason, "csrf_token": csrf_token_from(page)})


def test_suspension_hides_and_reinstatement_shows_the_provider_again(
        client, db, auth, admin, approved):
    provider, user = approved
    login(auth, admin)
    response = _standing(client, provider.id, "suspend", "")
    assert response.status_code == 422
    assert "Anna perustelu: palveluntuottaja näkee sen." in response.get_data(as_text=True)
    assert _standing(client, provider.id, "suspend", "Vakuutus puuttuu.").status_code == 303
    db.rollback()
    assert db.get(Provider, provider.id).status == ProviderStatus.SUSPENDED
    assert find_listed_providers(db)[1] == 0
    assert client.get(f"/providers/{provider.id}").status_code == 404
    assert client.get("/api/v1/providers").get_json()["total"] == 0
    assert _mails(db, user.email)[-1].subject == \
        "Hyväksyntänne palveluntuottajaksi on keskeytetty"
    assert _standing(client, provider.id, "reinstate", "Vakuutus toimitettu.").status_code == 303
    db.rollback()
    assert db.get(Provider, provider.id).status == ProviderStatus.APPROVED
    assert client.get(f"/providers/{provider.id}").status_code == 200
    actions = db.execute(sa.select(ProviderDecision.action).where(
        ProviderDecision.provider_id == provider.id).order_by(ProviderDecision.id)).scalars()
    assert list(actions)[-2:] == ["suspended", "reinstated"]


def test_revocation_is_permanent_and_carries_the_appeal_instructions(
        client, db, auth, admin, approved):
    provider, user = approved
    login(auth, admin)
    assert _standing(client, provider.id, "revoke", "Vakavat puutteet.").status_code == 303
    db.rollback()
    assert db.get(Provider, provider.id).status == ProviderStatus.REVOKED
    mail = _mails(db, user.email)[-1]
    assert mail.subject == "Hyväksyntänne palveluntuottajaksi on peruutettu"
    assert "Vakavat puutteet." in mail.body_text and "OIKAISUVAATIMUSOHJE" in mail.body_text
    response = _standing(client, provider.id, "reinstate", "Yritys")
    assert response.status_code == 303
    assert "Tätä ei voi tehdä, kun palveluntuottajan tila on ”hyväksyntä peruutettu”." in \
        client.get(response.headers["Location"]).get_data(as_text=True)
    auth.logout()
    login(auth, user)
    assert client.get("/provider/application/edit").status_code == 302
    overview = client.get("/provider/application").get_data(as_text=True)
    assert "Vakavat puutteet." in overview and "Oikaisuvaatimusohje" in overview


def test_the_history_shows_prices_that_were_never_rewritten(db, approved, admin):
    provider, _user = approved
    prices = provider.services[0].prices
    assert [(p.unit_price_cents, p.status) for p in prices] == [(3300, PriceStatus.APPROVED)]


def test_states_and_decisions_with_the_same_value_have_their_own_names(app):
    from voucher.labels import label
    from voucher.providers.models import DecisionAction

    assert label(ProviderStatus.REVOKED) == "hyväksyntä peruutettu"
    assert label(DecisionAction.REVOKED) == "Hyväksyntä peruutettu"
    assert label(ServiceStatus.DRAFT) == "ei vielä lähetetty"
    assert label(ProviderStatus.DRAFT) == "luonnos"


def test_a_message_with_decisions_that_keep_the_state_goes_to_the_history(
        db, app, admin, approved, catalogue):
    from voucher.providers import application
    from voucher.providers.notices import decisions_of

    provider, user = approved
    care = catalogue["HOME_CARE"]
    application.save_application(
        db, provider, actor=Actor.of_user(user), details={}, municipality_ids=[
            m.id for m in provider.municipalities], languages=provider.language_codes,
        offers=[application.OfferInput(care.id, True, 4000, "Kotihoitoa", True)])
    application.submit_application(db, provider, actor=Actor.of_user(user))
    offer = next(o for o in provider.services if o.service_type_id == care.id)
    review.decide_review(db, provider, actor=Actor.of_user(admin), message="Katso ohje.",
                         verdicts={offer.id: (review.Verdict.REQUEST_CHANGES, "Liitä ote.")})
    assert provider.status == ProviderStatus.APPROVED
    latest = decisions_of(db, provider)[0]
    assert (latest.action, latest.reason) == ("message", "Katso ohje.")
