"""The public API: GET /api/v1/service-types and GET /api/v1/providers exactly as api-v1.md
says, described in the OpenAPI document."""

import datetime as dt

import pytest

from tests import factories
from voucher.catalogue.models import ServiceTypeRate
from voucher.providers.models import ProviderStatus


@pytest.fixture
def register(db):
    nivala = factories.municipality(db, "535", "Nivala")
    ylivieska = factories.municipality(db, "977", "Ylivieska")
    care = factories.service_type(db, "HOME_CARE", value=3200, cap=4800, income_related=True)
    care.name_fi, care.name_sv, care.name_en = "Kotihoito", "Hemvård", "Home care"
    cleaning = factories.service_type(db, "CLEANING", value=2500, cap=3800)
    closed = factories.service_type(db, "CLOSED")
    closed.is_active = False
    db.add(ServiceTypeRate(service_type_id=cleaning.id, valid_from=dt.date(2027, 1, 1),
                           unit_value_cents=2600, price_cap_cents=3900))
    alfa = factories.provider(db, name="Alfa Hoiva Oy", services={care: 4200, cleaning: 3000},
                              municipalities=[ylivieska, nivala], languages=("fi", "sv"))
    beta = factories.provider(db, name="Beta Hoiva Oy", services={care: 3500},
                              municipalities=[ylivieska])
    factories.provider(db, name="Gamma Oy", services={care: 3000},
                       status=ProviderStatus.SUSPENDED, municipalities=[ylivieska])
    db.commit()
    return {"alfa": alfa, "beta": beta}


def test_service_types_in_the_language_asked_finnish_by_default(client, register):
    body = client.get("/api/v1/service-types").get_json()
    assert body == {"items": [
        {"code": "CLEANING", "name": "CLEANING fi", "unit": "hour",
         "voucher_unit_value_cents": 2500, "income_related": False},
        {"code": "HOME_CARE", "name": "Kotihoito", "unit": "hour",
         "voucher_unit_value_cents": 3200, "income_related": True},
    ]}
    swedish = client.get("/api/v1/service-types", headers={"Accept-Language": "sv-FI,sv;q=0.9"})
    assert swedish.get_json()["items"][1]["name"] == "Hemvård"
    assert swedish.headers["Content-Language"] == "sv"
    english = client.get("/api/v1/service-types", headers={"Accept-Language": "en"})
    assert english.get_json()["items"][1]["name"] == "Home care"


def test_providers_lists_only_approved_not_suspended_with_the_documented_fields(client, register):
    body = client.get("/api/v1/providers").get_json()
    alfa = register["alfa"]
    assert body["total"] == 2 and body["page"] == 1 and body["per_page"] == 50
    assert body["items"][0] == {
        "id": alfa.id, "name": "Alfa Hoiva Oy", "business_id": alfa.business_id,
        "municipalities": ["535", "977"], "languages": ["fi", "sv"],
        "services": [{"service": "HOME_CARE", "unit_price_cents": 4200},
                     {"service": "CLEANING", "unit_price_cents": 3000}],
        "rating": None}


def test_providers_filters_sorts_and_pages(client, register):
    def names(query):
        return [item["name"] for item in client.get(f"/api/v1/providers?{query}").get_json()
                ["items"]]

    assert names("service=HOME_CARE&sort=price") == ["Beta Hoiva Oy", "Alfa Hoiva Oy"]
    assert names("service=HOME_CARE&sort=name") == ["Alfa Hoiva Oy", "Beta Hoiva Oy"]
    assert names("service=HOME_CARE&sort=rating") == ["Alfa Hoiva Oy", "Beta Hoiva Oy"]
    assert names("service=CLEANING") == ["Alfa Hoiva Oy"]
    assert names("municipality=535") == ["Alfa Hoiva Oy"]
    assert names("language=sv") == ["Alfa Hoiva Oy"]
    assert names("q=beta") == ["Beta Hoiva Oy"]
    page = client.get("/api/v1/providers?per_page=1&page=2").get_json()
    assert (page["total"], page["page"], page["per_page"]) == (2, 2, 1)
    assert [item["name"] for item in page["items"]] == ["Beta Hoiva Oy"]


def test_bad_parameters_are_a_422_problem_listing_every_error(client, register):
    response = client.get("/api/v1/providers?service=NOPE&municipality=12&language=de"
                          "&sort=cheapest&per_page=500&q=" + "x" * 101)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "validation_error"
    assert {error["field"] for error in body["errors"]} == {
        "service", "municipality", "language", "sort", "per_page", "q"}
    response = client.get("/api/v1/providers?municipality=999")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == \
        "municipality"
    # Present but empty breaks the documented pattern and enum; it is not "no filter".
    response = client.get("/api/v1/providers?municipality=&language=")
    assert response.status_code == 422
    assert {error["field"] for error in response.get_json()["errors"]} == {
        "municipality", "language"}


def test_the_openapi_document_describes_both_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    service_types = document["paths"]["/api/v1/service-types"]["get"]
    providers = document["paths"]["/api/v1/providers"]["get"]
    assert {p["name"] for p in providers["parameters"]} == {
        "service", "municipality", "language", "q", "sort", "page", "per_page"}
    assert set(providers["responses"]) == {"200", "422", "429"}
    assert "200" in service_types["responses"]
    schemas = document["components"]["schemas"]
    assert set(schemas["ListedProvider"]["required"]) == {
        "id", "name", "business_id", "municipalities", "languages", "services", "rating"}
    assert schemas["ServiceType"]["properties"]["unit"]["enum"] == ["hour", "visit", "day",
                                                                    "month"]


def test_responses_match_their_openapi_schemas(client, register):
    """Validate real answers against the served document's schemas."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs")  # comes with schemathesis
    document = client.get("/api/v1/openapi.json").get_json()

    def schema_of(path, status="200"):
        operation = document["paths"][path]["get"]["responses"][status]
        content = operation["content"]
        schema = next(iter(content.values()))["schema"]
        return {**schema, "components": document["components"]}

    def nullable_to_json_schema(node):
        if isinstance(node, dict):
            node = {k: nullable_to_json_schema(v) for k, v in node.items()}
            if node.pop("nullable", False):
                node = {"anyOf": [node, {"type": "null"}]}
            return node
        if isinstance(node, list):
            return [nullable_to_json_schema(v) for v in node]
        return node

    for path, url in (("/api/v1/service-types", "/api/v1/service-types"),
                      ("/api/v1/providers", "/api/v1/providers?service=HOME_CARE")):
        schema = nullable_to_json_schema(schema_of(path))
        jsonschema_rs.validate(schema, client.get(url).get_json())
    problem = nullable_to_json_schema(schema_of("/api/v1/providers", "422"))
    jsonschema_rs.validate(problem, client.get("/api/v1/providers?sort=x").get_json())
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validate(schema, {"items": [{"id": "not a number"}]})
