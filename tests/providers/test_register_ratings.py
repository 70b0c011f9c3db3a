"""The register shows published ratings and sorts by them; the client sees their self-share."""

import datetime as dt

from tests import factories
from voucher.feedback.models import Feedback
from voucher.providers.listing import find_listed_providers, ratings_for


def _rated(db, seller, scores):
    voucher = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                                units=5000)
    for day, score in enumerate(scores, start=1):
        event = factories.redemption(db, voucher, day=dt.date(2026, 11, day), units=100)
        db.add(Feedback(redemption_id=event.id, client_id=voucher.client_id,
                        provider_id=seller.id, score=score))
    db.flush()


def test_ratings_are_published_from_five_and_sort_the_register(db, client):
    care = factories.service_type(db)
    good = factories.provider(db, services={care: 3900}, name="Zeta Hoiva Oy")
    fair = factories.provider(db, services={care: 3800}, name="Eta Hoiva Oy")
    unrated = factories.provider(db, services={care: 3700}, name="Alfa Hoiva Oy")
    _rated(db, good, [9, 10, 9, 10, 9])
    _rated(db, fair, [6, 7, 6, 7, 6])
    _rated(db, unrated, [10, 10, 10, 10])  # four ratings: not published yet
    db.commit()

    assert ratings_for(db, [good.id, fair.id, unrated.id]) == {good.id: 9.4, fair.id: 6.4}
    listings, _ = find_listed_providers(db, service_type_id=care.id, sort="rating")
    assert [listing.provider.id for listing in listings] == [good.id, fair.id, unrated.id]
    api = client.get(f"/api/v1/providers?service={care.code}&sort=rating").json
    assert [item["rating"] for item in api["items"]] == [9.4, 6.4, None]
    page = client.get(f"/providers/{good.id}").get_data(as_text=True)
    assert "9,4" in page


def test_a_client_sees_their_own_self_share_next_to_prices(db, client, auth):
    from voucher.accounts.models import Role

    care = factories.service_type(db, value=3200)
    seller = factories.provider(db, services={care: 3900}, name="Oma Hoiva Oy")
    holder = factories.client(db)
    factories.voucher(db, holder=holder, service=care, unit_value_cents=3200)
    factories.user(db, role=Role.CLIENT, email="holder@example.fi", client_id=holder.id)
    db.commit()
    anonymous = client.get(f"/providers/{seller.id}").get_data(as_text=True)
    assert "omavastuuosuutesi" not in anonymous
    auth.login("holder@example.fi", factories.PASSWORD)
    search = client.get(f"/providers/?service={care.code}").get_data(as_text=True)
    assert "omavastuuosuutesi 7,00" in search
    page = client.get(f"/providers/{seller.id}").get_data(as_text=True)
    assert "omavastuuosuutesi 7,00" in page and "Omavastuuosuutesi" in page
