"""Changes after approval: contact data freely, price decreases at once, increases and new
services after review; prices keep their validity, so the price on any date is answerable."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.conftest import post_form
from tests.providers.conftest import complete_application, form_data, login
from voucher import clock
from voucher.audit.services import Actor
from voucher.providers import review
from voucher.providers.listing import find_listed_providers
from voucher.providers.models import (
    PriceStatus,
    Provider,
    ProviderDecision,
    ProviderPrice,
    ProviderStatus,
    ServiceStatus,
)
from voucher.providers.pricing import approved_price_for, approved_price_on

EDIT = "/provider/application/edit"
APPROVED_ON = dt.date(2026, 11, 10)


@pytest.fixture
def approved(db, app, admin, catalogue):
    clock.freeze(APPROVED_ON)
    provider, user = complete_application(db,
                                          prices={"CLEANING": 3300}, submit=True)
    review.decide_review(db, provider, actor=Actor.of_user(admin),
                         verdicts={provider.services[0].id: (review.Verdict.APPROVE, "")})
    db.commit()
    clock.freeze(dt.datetime(2026, 11, 24, 12, 0, tzinfo=clock.HELSINKI))
    return provider, user


def _price_field(catalogue):
    return f"service_{catalogue['CLEANING'].id}_price"


def _post(client, db, provider, **changes):
    db.rollback()
    provider = db.get(Provider, provider.id)
    data = form_data(db, provider, **{"action": "save", **changes})
    db.rollback()
    return post_form(client, EDIT, data)


def test_contact_data_change_freely_and_at_once(client, db, auth, approved, catalogue):
    provider, user = approved
    login(auth, user)
    assert _post(client, db, provider, phone="+358 50 999 8888",
                 email="uusi@testihoiva.example.fi").status_code == 303
    db.rollback()
    saved = db.get(Provider, provider.id)
    assert saved.phone == "+358 50 999 8888" and saved.status == ProviderStatus.APPROVED
    assert saved.review_requested_at is None
    assert client.get(f"/providers/{provider.id}").get_data(as_text=True).count(
        "uusi@testihoiva.example.fi") >= 1


def test_a_price_decrease_takes_effect_at_once_and_keeps_the_history(
        client, db, auth, approved, catalogue):
    provider, user = approved
    login(auth, user)
    assert _post(client, db, provider, **{_price_field(catalogue): "31,00"}).status_code == 303
    db.rollback()
    offer = db.get(Provider, provider.id).services[0]
    assert offer.current_price_cents == 3100
    assert approved_price_on(db, offer.id, clock.today()) == 3100
    assert approved_price_on(db, offer.id, clock.today() - dt.timedelta(days=1)) == 3300
    assert [(p.unit_price_cents, p.status, p.valid_from) for p in offer.prices] == [
        (3300, PriceStatus.APPROVED, APPROVED_ON),
        (3100, PriceStatus.APPROVED, clock.today())]
    decision = db.execute(sa.select(ProviderDecision).order_by(
        ProviderDecision.id.desc())).scalars().first()
    assert decision.action == "price_decreased"
    assert provider_mail_subjects(db, user)[-1] == "Alennettu hintanne on voimassa"
    assert db.get(Provider, provider.id).review_requested_at is None


def provider_mail_subjects(db, user):
    from voucher.mail.models import OutboxMessage

    return db.execute(sa.select(OutboxMessage.subject).where(
        OutboxMessage.to_address == user.email).order_by(OutboxMessage.id)).scalars().all()


def test_a_price_increase_waits_for_approval_and_the_old_price_stays_in_force(
        client, db, auth, admin, approved, catalogue):
    provider, user = approved
    login(auth, user)
    assert _post(client, db, provider, **{_price_field(catalogue): "35,00"}).status_code == 303
    db.rollback()
    provider = db.get(Provider, provider.id)
    offer = provider.services[0]
    assert offer.current_price_cents == 3300
    assert approved_price_for(db, provider.id, offer.service_type_id, clock.today()) == 3300
    assert provider.review_requested_at is not None
    assert provider_mail_subjects(db, user)[-1] == "Hinnankorotuksenne odottaa hyväksyntää"
    [(queued, items)] = review.review_queue(db)
    assert queued.id == provider.id and items[0].is_price_increase
    # Listed meanwhile with the old price.
    listings, _ = find_listed_providers(db)
    assert listings[0].offers[0].current_price_cents == 3300

    clock.freeze(dt.date(2026, 11, 26))
    review.decide_review(db, provider, actor=Actor.of_user(admin),
                         verdicts={offer.id: (review.Verdict.APPROVE, "")})
    db.commit()
    assert offer.current_price_cents == 3500
    assert approved_price_on(db, offer.id, dt.date(2026, 11, 25)) == 3300
    assert approved_price_on(db, offer.id, dt.date(2026, 11, 26)) == 3500
    assert provider.review_requested_at is None and provider.status == ProviderStatus.APPROVED


def test_a_rejected_increase_leaves_the_price_as_it_was(db, admin, approved, catalogue):
    from voucher.providers.pricing import PriceChange, set_offer_price

    provider, _user = approved
    offer = provider.services[0]
    assert set_offer_price(db, offer, 3600) == PriceChange.INCREASE_REQUESTED
    review.decide_review(db, provider, actor=Actor.of_user(admin),
                         verdicts={offer.id: (review.Verdict.REJECT, "Liian suuri korotus.")})
    assert offer.current_price_cents == 3300
    assert offer.status == ServiceStatus.APPROVED
    assert [p.status for p in offer.prices] == [PriceStatus.APPROVED, PriceStatus.REJECTED]


def test_an_increase_above_the_cap_is_refused(client, db, auth, approved, catalogue):
    provider, user = approved
    login(auth, user)
    response = _post(client, db, provider, **{_price_field(catalogue): "39,00"})
    assert response.status_code == 422
    assert "Anna enintään 38,00\u00a0€" in response.get_data(as_text=True)
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(ProviderPrice)).scalar() == 1


def test_an_increase_set_back_before_the_decision_is_withdrawn(db, approved, catalogue):
    from voucher.providers.pricing import PriceChange, set_offer_price
    from voucher.providers.review import refresh_review_request

    provider, _user = approved
    offer = provider.services[0]
    assert set_offer_price(db, offer, 3500) == PriceChange.INCREASE_REQUESTED
    assert set_offer_price(db, offer, 3600) == PriceChange.INCREASE_REQUESTED  # same request
    assert set_offer_price(db, offer, 3300) == PriceChange.INCREASE_WITHDRAWN
    refresh_review_request(db, provider)
    assert provider.review_requested_at is None
    assert [p.unit_price_cents for p in offer.prices] == [3300]


def test_a_new_service_after_approval_is_reviewed_while_the_provider_stays_listed(
        client, db, auth, approved, catalogue):
    provider, user = approved
    login(auth, user)
    care = catalogue["HOME_CARE"].id
    response = _post(client, db, provider, action="submit", **{
        f"service_{care}_offered": "y", f"service_{care}_price": "42",
        f"service_{care}_description": "Kotihoitoa", f"service_{care}_criteria": "y"})
    assert response.status_code == 303
    db.rollback()
    provider = db.get(Provider, provider.id)
    assert provider.status == ProviderStatus.APPROVED
    assert {o.service_type.code: o.status for o in provider.services} == {
        "CLEANING": ServiceStatus.APPROVED, "HOME_CARE": ServiceStatus.SUBMITTED}
    [(_queued, items)] = review.review_queue(db)
    assert [i.offer.service_type.code for i in items] == ["HOME_CARE"]
    listings, total = find_listed_providers(db)
    assert total == 1 and [o.service_type.code for o in listings[0].offers] == ["CLEANING"]


def test_submitting_without_anything_new_after_approval_is_explained(
        client, db, auth, approved, catalogue):
    provider, user = approved
    login(auth, user)
    response = _post(client, db, provider, action="submit")
    assert response.status_code == 422
    assert "Lähetettävää ei ole" in response.get_data(as_text=True)
