"""The provider-level listing groups offers per provider and pages in the database."""

from tests import factories
from voucher.providers.listing import find_listed_provider, find_listed_providers
from voucher.providers.models import ProviderStatus


def test_providers_are_listed_once_with_all_their_listed_offers(db):
    care = factories.service_type(db, "HOME_CARE")
    cleaning = factories.service_type(db, "CLEANING")
    both = factories.provider(db, services={care: 4200, cleaning: 3000}, name="Alfa Oy")
    one = factories.provider(db, services={care: 3500}, name="Beta Oy")
    factories.provider(db, services={care: 3000}, status=ProviderStatus.SUSPENDED)
    listings, total = find_listed_providers(db)
    assert total == 2 and [x.provider.id for x in listings] == [both.id, one.id]
    assert [o.current_price_cents for o in listings[0].offers] == [4200, 3000]
    by_price, _ = find_listed_providers(db, sort="price")
    assert [(x.provider.id, x.price_cents) for x in by_price] == [(both.id, 3000),
                                                                  (one.id, 3500)]
    care_by_price, _ = find_listed_providers(db, service_type_id=care.id, sort="price")
    assert [(x.provider.id, x.price_cents) for x in care_by_price] == [(one.id, 3500),
                                                                       (both.id, 4200)]
    second_page, total = find_listed_providers(db, limit=1, offset=1)
    assert total == 2 and [x.provider.id for x in second_page] == [one.id]
    assert find_listed_providers(db, limit=1, offset=5) == ([], 2)  # past the last page
    assert find_listed_providers(db, text="_")[1] == 0  # wildcards are taken literally


def test_a_single_listed_provider(db):
    care = factories.service_type(db, "HOME_CARE")
    listed = factories.provider(db, services={care: 4200})
    hidden = factories.provider(db, services={care: 4200}, status=ProviderStatus.SUSPENDED)
    no_services = factories.provider(db)
    assert find_listed_provider(db, listed.id).price_cents == 4200
    assert find_listed_provider(db, hidden.id) is None
    assert find_listed_provider(db, no_services.id) is None
    assert find_listed_provider(db, 999_999) is None
