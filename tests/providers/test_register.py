"""The public register: approved, not suspended providers, searchable by service,
municipality, language and text, sorted by price or name; each provider's own page."""

import pytest

from tests import factories
from voucher.providers.models import ProviderStatus


@pytest.fixture
def listed(db):
    nivala = factories.municipality(db, "535", "Nivala")
    ylivieska = factories.municipality(db, "977", "Ylivieska")
    care = factories.service_type(db, "HOME_CARE")
    care.name_fi = "Kotihoito"
    cleaning = factories.service_type(db, "CLEANING", cap=3800)
    cleaning.name_fi = "Siivousapu"
    providers = {
        "alfa": factories.provider(db, name="Alfa Hoiva Oy", services={care: 4200, cleaning: 3000},
                                   municipalities=[ylivieska, nivala]),
        "beta": factories.provider(db, name="Beta Hoiva Oy", services={care: 3500},
                                   municipalities=[ylivieska], languages=("fi", "sv")),
        "gamma": factories.provider(db, name="Gamma Hoiva Oy", services={care: 3000},
                                    municipalities=[ylivieska], status=ProviderStatus.SUSPENDED),
        "delta": factories.provider(db, name="Delta Hoiva Oy", services={care: 3000},
                                    municipalities=[ylivieska], status=ProviderStatus.SUBMITTED),
    }
    providers["beta"].services[0].description = "Hoivaa myös ruotsiksi, 100 % kotona"
    providers["alfa"].phone = "+358 40 123 4567"
    db.commit()
    return providers


def _names(html, *names):
    return sorted(names, key=html.index)


def test_the_register_lists_only_approved_providers_without_login(client, listed):
    html = client.get("/providers/").get_data(as_text=True)
    assert "2 palveluntuottajaa löytyi" in html
    assert "Alfa Hoiva Oy" in html and "Beta Hoiva Oy" in html
    assert "Gamma" not in html and "Delta" not in html
    assert "42,00\u00a0€" in html and "/ tunti" in html


def test_search_by_service_municipality_language_and_text_sorted_by_price(client, listed):
    html = client.get("/providers/?service=HOME_CARE&sort=price").get_data(as_text=True)
    assert _names(html, "Alfa Hoiva Oy", "Beta Hoiva Oy") == ["Beta Hoiva Oy", "Alfa Hoiva Oy"]
    assert "Siivousapu" not in html.split("<tbody>")[1]  # only the chosen service's price
    html = client.get("/providers/?municipality=535").get_data(as_text=True)
    assert "1 palveluntuottaja löytyi" in html and "Alfa Hoiva Oy" in html
    html = client.get("/providers/?language=sv").get_data(as_text=True)
    assert "Beta Hoiva Oy" in html and "Alfa Hoiva Oy" not in html
    html = client.get("/providers/?q=100+%25").get_data(as_text=True)
    assert "1 palveluntuottaja löytyi" in html and "Beta Hoiva Oy" in html
    html = client.get("/providers/?q=ei+ketaan").get_data(as_text=True)
    assert "Haulla ei löytynyt hyväksyttyjä palveluntuottajia." in html


def test_an_unknown_choice_is_explained(client, listed):
    response = client.get("/providers/?service=NOPE&sort=cheapest")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.count("Valitse jokin vaihtoehdoista.") >= 2


def test_results_are_paged(client, db, listed):
    cleaning = factories.service_type(db, "CLEANING")
    for n in range(25):
        factories.provider(db, name=f"Siivous {n:02d} Oy", services={cleaning: 3000 + n})
    db.commit()
    html = client.get("/providers/?service=CLEANING").get_data(as_text=True)
    assert "26 palveluntuottajaa löytyi" in html and "Sivu 1/2" in html
    assert 'href="/providers/?service=CLEANING&amp;page=2"' in html
    html = client.get("/providers/?service=CLEANING&page=2").get_data(as_text=True)
    assert "Siivous 24 Oy" in html and "Edellinen sivu" in html
    past_the_end = client.get("/providers/?service=CLEANING&page=9")
    assert past_the_end.status_code == 302
    assert past_the_end.headers["Location"].endswith("page=2")


def test_a_providers_page_shows_services_prices_area_languages_and_contacts(client, listed):
    alfa = listed["alfa"]
    html = client.get(f"/providers/{alfa.id}").get_data(as_text=True)
    for text in ("Alfa Hoiva Oy", alfa.business_id, "Kotihoito", "42,00\u00a0€", "Siivousapu",
                 "30,00\u00a0€", "Nivala", "Ylivieska", "suomi", "+358 40 123 4567",
                 alfa.email):
        assert text in html, text


@pytest.mark.parametrize("key", ["gamma", "delta"])
def test_unlisted_providers_have_no_public_page(client, listed, key):
    assert client.get(f"/providers/{listed[key].id}").status_code == 404
    assert client.get("/providers/999999").status_code == 404


def test_swedish_register(client, listed):
    client.get("/language/sv")
    html = client.get("/providers/").get_data(as_text=True)
    assert "2 serviceproducenter hittades" in html and "timme" in html


def test_a_providers_page_says_plainly_what_the_voucher_and_the_client_pay(client, db, listed):
    """Kotihoito: price 42 €, the voucher pays 32 €, the client 10 €; Siivousapu: price 30 €
    is below the voucher's 32 €, so the client pays nothing."""
    alfa = listed["alfa"]
    client.get("/language/en")
    html = client.get(f"/providers/{alfa.id}").get_data(as_text=True)
    for text in ("Price: €42.00 an hour.", "The service voucher pays €32.00 an hour.",
                 "You pay the rest: €10.00 an hour.", "Price: €30.00 an hour.",
                 "The voucher pays the whole price: you pay nothing.",
                 "How to choose this provider", "Print this page",
                 "Too few clients have rated this provider yet"):
        assert text in html, text


def test_an_income_related_service_says_its_value_is_at_most(client, db, listed):
    beta = listed["beta"]
    beta.services[0].service_type.income_related = True
    db.commit()
    client.get("/language/sv")
    html = client.get(f"/providers/{beta.id}").get_data(as_text=True)
    assert "Servicesedeln betalar högst 32,00\u00a0€ per timme." in html
    assert "Med en sedel av det högsta värdet betalar du 3,00\u00a0€ per timme." in html
