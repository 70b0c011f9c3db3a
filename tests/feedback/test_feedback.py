"""Clients rate the services they received; providers' averages need five ratings."""

import datetime as dt

import pytest

from tests import factories
from tests.conftest import post_form
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.errors import NotFound, ValidationFailed
from voucher.feedback.services import AlreadyRated, average_ratings, give_feedback
from voucher.redemptions.corrections import void_redemption

SYSTEM = Actor.system("test")


@pytest.fixture
def seller(db):
    return factories.provider(db, services={factories.service_type(db): 3900},
                              name="Hoivapalvelu Aurinko Oy")


@pytest.fixture
def holder(db):
    return factories.client(db, first_name="Aino", last_name="Virtanen")


def _events(db, seller, holder, n, day=dt.date(2026, 11, 2)):
    voucher = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                                holder=holder)
    return [factories.service_event(db, voucher, service_date=day) for _i in range(n)]


def test_one_rating_per_event(db, seller, holder):
    [event] = _events(db, seller, holder, 1)
    feedback = give_feedback(db, client_id=holder.id, redemption_id=event.id, score=9,
                             comment=" Mukava hoitaja ", actor=SYSTEM)
    assert (feedback.score, feedback.comment, feedback.provider_id) == (9, "Mukava hoitaja",
                                                                         seller.id)
    with pytest.raises(AlreadyRated):
        give_feedback(db, client_id=holder.id, redemption_id=event.id, score=3, comment=None,
                      actor=SYSTEM)


def test_only_the_clients_own_services_and_scores_0_to_10(db, seller, holder):
    [event] = _events(db, seller, holder, 1)
    stranger = factories.client(db)
    with pytest.raises(NotFound):
        give_feedback(db, client_id=stranger.id, redemption_id=event.id, score=5, comment=None,
                      actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        give_feedback(db, client_id=holder.id, redemption_id=event.id, score=11, comment=None,
                      actor=SYSTEM)


def test_an_average_needs_five_ratings_of_standing_events(db, seller, holder):
    events = _events(db, seller, holder, 6)
    for event, score in zip(events[:4], (10, 9, 8, 6), strict=True):
        give_feedback(db, client_id=holder.id, redemption_id=event.id, score=score,
                      comment=None, actor=SYSTEM)
    assert average_ratings(db, [seller.id]) == {}
    give_feedback(db, client_id=holder.id, redemption_id=events[4].id, score=7, comment=None,
                  actor=SYSTEM)
    assert average_ratings(db, [seller.id]) == {seller.id: 8.0}
    give_feedback(db, client_id=holder.id, redemption_id=events[5].id, score=0, comment=None,
                  actor=SYSTEM)
    assert average_ratings(db, [seller.id, 999]) == {seller.id: 6.7}
    void_redemption(db, provider_id=seller.id, redemption_id=events[5].id, actor=SYSTEM)
    assert average_ratings(db, [seller.id]) == {seller.id: 8.0}
    assert average_ratings(db, []) == {}


def test_the_client_rates_in_the_portal(client, db, auth, seller, holder):
    factories.user(db, role=Role.CLIENT, client_id=holder.id, email="aino@example.fi")
    [event] = _events(db, seller, holder, 1)
    db.commit()
    auth.login("aino@example.fi", factories.PASSWORD)
    listing = client.get("/my/services/").get_data(as_text=True)
    assert "Hoivapalvelu Aurinko Oy" in listing and "Anna palautetta" in listing
    url = f"/my/services/{event.id}/feedback"
    response = post_form(client, url, {"comment": "Hyvä"})
    assert response.status_code == 422 and "Valitse luku 0–10." in response.get_data(
        as_text=True)
    assert post_form(client, url, {"score": "8", "comment": "Hyvä"}).status_code == 303
    assert "Annoit 8/10" in client.get("/my/services/").get_data(as_text=True)
    response = post_form(client, url, {"score": "2"}, form_page=url)
    assert response.status_code == 422 and "jo antanut palautetta" in response.get_data(
        as_text=True)


def test_a_provider_cannot_open_the_client_pages(client, db, auth, seller):
    factories.user(db, role=Role.PROVIDER, provider_id=seller.id, email="p@example.fi")
    db.commit()
    auth.login("p@example.fi", factories.PASSWORD)
    assert client.get("/my/services/").status_code == 403
