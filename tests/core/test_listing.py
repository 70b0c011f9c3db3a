"""The listing finds only approved offers of approved providers, filtered and sorted."""

from tests import factories
from voucher.providers.listing import find_listed
from voucher.providers.models import ProviderStatus


def test_filters_and_sorting(db):
    nivala = factories.municipality(db, "535", "Nivala")
    ylivieska = factories.municipality(db, "977", "Ylivieska")
    care = factories.service_type(db, "HOME_CARE")
    cleaning = factories.service_type(db, "CLEANING")
    cheap = factories.provider(db, services={care: 3500}, municipalities=[ylivieska],
                               name="Beta Hoiva Oy", languages=("fi", "sv"))
    dear = factories.provider(db, services={care: 4200, cleaning: 3000},
                              municipalities=[ylivieska, nivala], name="Alfa Hoiva Oy")
    factories.provider(db, services={care: 3000}, status=ProviderStatus.SUSPENDED,
                       municipalities=[ylivieska], name="Gamma Hoiva Oy")
    factories.provider(db, services={care: 3000}, status=ProviderStatus.SUBMITTED,
                       municipalities=[ylivieska], name="Delta Hoiva Oy")

    by_name, total = find_listed(db, service_type_id=care.id)
    assert total == 2 and [r.provider.id for r in by_name] == [dear.id, cheap.id]
    by_price, _ = find_listed(db, service_type_id=care.id, sort="price")
    assert [r.offer.current_price_cents for r in by_price] == [3500, 4200]
    in_nivala, _ = find_listed(db, service_type_id=care.id, municipality_id=nivala.id)
    assert [r.provider.id for r in in_nivala] == [dear.id]
    swedish, _ = find_listed(db, language="sv")
    assert [r.provider.id for r in swedish] == [cheap.id]
    found, _ = find_listed(db, text="beta")
    assert [r.provider.id for r in found] == [cheap.id]
    _, total = find_listed(db)
    assert total == 3  # dear offers two services
