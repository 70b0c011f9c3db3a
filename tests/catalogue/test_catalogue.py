"""The service catalogue: administrators add and describe service types; a change of value or
price cap applies from a date and never rewrites history."""

import contextlib
import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import csrf_token_from, post_form
from voucher import clock
from voucher.accounts.models import Role
from voucher.audit.models import AuditEvent
from voucher.catalogue.models import ServiceType, ServiceTypeRate, Unit
from voucher.catalogue.rates import NoRateInForce, rate_on, rates_in_force

NEW = {
    "code": "snow_work", "name_fi": "Lumityöt", "name_sv": "Snöarbete", "name_en": "Snow work",
    "unit": "visit", "unit_value": "20", "price_cap": "45,50", "valid_from": "2026-12-01",
    "description_fi": "Pihan lumityöt.", "criteria_fi": "Vastuuvakuutus.", "is_active": "y",
}


@pytest.fixture
def admin_client(client, db, auth):
    admin = factories.user(db, role=Role.ADMIN)
    db.commit()
    auth.login(admin.email, factories.PASSWORD)
    db.rollback()
    return client


def test_an_administrator_adds_a_service_type_with_its_first_value(admin_client, db):
    response = post_form(admin_client, "/admin/catalogue/new", NEW)
    assert response.status_code == 303
    db.rollback()
    service_type = db.execute(sa.select(ServiceType)).scalar_one()
    assert (service_type.code, service_type.unit, service_type.name_sv) == (
        "SNOW_WORK", Unit.VISIT, "Snöarbete")
    rate = rate_on(db, service_type.id, dt.date(2026, 12, 1))
    assert (rate.unit_value_cents, rate.price_cap_cents) == (2000, 4550)
    assert db.execute(sa.select(AuditEvent.action).where(
        AuditEvent.action == "service_type.created")).scalar_one()
    index = admin_client.get("/admin/catalogue/").get_data(as_text=True)
    assert "Lumityöt" in index and "käynti" in index


def test_the_rates_in_force_of_several_services_are_each_ones_rate_on_that_day(db):
    """``rates_in_force`` (one statement) answers what ``rate_on`` answers for each service:
    the newest rate started on or before the day; nothing for a service whose first rate
    starts later."""
    cleaning = factories.service_type(db, "CLEANING", value=2500)
    care = factories.service_type(db, "HOME_CARE", value=3200)
    later = factories.service_type(db, "SNOW_WORK", value=2000)
    later_rate = db.execute(sa.select(ServiceTypeRate).where(
        ServiceTypeRate.service_type_id == later.id)).scalar_one()
    later_rate.valid_from = dt.date(2027, 6, 1)
    db.add_all([ServiceTypeRate(service_type_id=cleaning.id, valid_from=dt.date(2026, 7, 1),
                                unit_value_cents=2600, price_cap_cents=3900),
                ServiceTypeRate(service_type_id=cleaning.id, valid_from=dt.date(2027, 1, 1),
                                unit_value_cents=2700, price_cap_cents=4000)])
    db.commit()
    ids = [cleaning.id, care.id, later.id]
    for day in (dt.date(2026, 6, 30), dt.date(2026, 7, 1), dt.date(2026, 12, 31),
                dt.date(2027, 1, 1), dt.date(2027, 6, 1)):
        expected = {}
        for service_id in ids:
            with contextlib.suppress(NoRateInForce):
                expected[service_id] = rate_on(db, service_id, day).id
        got = {service_id: rate.id for service_id, rate in rates_in_force(db, ids, day).items()}
        assert got == expected, day
    assert set(rates_in_force(db, ids, dt.date(2026, 12, 31))) == {cleaning.id, care.id}
    assert rates_in_force(db, [], dt.date(2026, 12, 31)) == {}


def test_bad_input_is_explained_and_kept(admin_client, db):
    factories.service_type(db, "SNOW_WORK")
    db.commit()
    response = post_form(admin_client, "/admin/catalogue/new",
                         {**NEW, "price_cap": "10", "name_en": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Anna nimi englanniksi." in html
    assert 'value="Lumityöt"' in html and 'value="10"' in html
    response = post_form(admin_client, "/admin/catalogue/new", {**NEW, "price_cap": "10"})
    assert response.status_code == 422
    assert "Tällä koodilla on jo palvelu." in response.get_data(as_text=True)
    response = post_form(admin_client, "/admin/catalogue/new",
                         {**NEW, "code": "NEW_ONE", "price_cap": "10"})
    assert "Hintakatto ei voi olla pienempi kuin palvelusetelin arvo." in \
        response.get_data(as_text=True)


def test_a_change_of_value_applies_from_its_date_and_never_rewrites_history(admin_client, db):
    service_type = factories.service_type(db, "CLEANING", value=2500, cap=3800)
    db.commit()
    url = f"/admin/catalogue/{service_type.id}/rates"
    response = post_form(admin_client, url, {"valid_from": "1.1.2027", "unit_value": "26",
                                              "price_cap": "39"})
    assert response.status_code == 303
    db.rollback()
    assert rate_on(db, service_type.id, dt.date(2026, 12, 31)).unit_value_cents == 2500
    assert rate_on(db, service_type.id, dt.date(2027, 1, 1)).unit_value_cents == 2600
    assert db.execute(sa.select(sa.func.count()).select_from(ServiceTypeRate)).scalar() == 2
    # Today or earlier would change what was already decided.
    response = post_form(admin_client, url, {"valid_from": "24.11.2026", "unit_value": "27"})
    assert response.status_code == 422
    assert "aikaisintaan huomenna" in response.get_data(as_text=True)
    response = post_form(admin_client, url, {"valid_from": "2027-01-01", "unit_value": "27"})
    assert response.status_code == 422
    assert "Tästä päivästä alkaen on jo muutos." in response.get_data(as_text=True)


def test_a_planned_change_can_be_cancelled_but_one_in_force_cannot(admin_client, db):
    service_type = factories.service_type(db, "CLEANING")
    planned = ServiceTypeRate(service_type_id=service_type.id, valid_from=dt.date(2027, 1, 1),
                              unit_value_cents=2600, price_cap_cents=None)
    db.add(planned)
    db.commit()
    in_force = service_type.rates[0]
    url = f"/admin/catalogue/{service_type.id}/rates"
    page = admin_client.get(url)
    response = admin_client.post(f"{url}/{in_force.id}/cancel",
                                 data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 303
    assert "on jo tullut voimaan" in admin_client.get(url).get_data(as_text=True)
    response = admin_client.post(f"{url}/{planned.id}/cancel",
                                 data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 303
    db.rollback()
    assert [r.valid_from for r in db.get(ServiceType, service_type.id).rates] == [
        in_force.valid_from]


def test_the_unit_is_fixed_once_providers_have_priced_the_service(admin_client, db):
    service_type = factories.service_type(db, "CLEANING")
    factories.provider(db, services={service_type: 3000})
    db.commit()
    data = {"name_fi": "Siivous", "name_sv": "Städ", "name_en": "Cleaning", "unit": "visit",
            "is_active": "y"}
    response = post_form(admin_client, f"/admin/catalogue/{service_type.id}", data)
    assert response.status_code == 422
    assert "Yksikköä ei voi muuttaa" in response.get_data(as_text=True)
    response = post_form(admin_client, f"/admin/catalogue/{service_type.id}",
                         {**data, "unit": "hour", "criteria_fi": "Uudet perusteet."})
    assert response.status_code == 303
    db.rollback()
    saved = db.get(ServiceType, service_type.id)
    assert saved.criteria_fi == "Uudet perusteet." and saved.name_fi == "Siivous"


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.PROVIDER])
def test_only_administrators_run_the_catalogue(client, db, auth, role):
    provider = factories.provider(db) if role == Role.PROVIDER else None
    user = factories.user(db, role=role, provider_id=provider.id if provider else None)
    db.commit()
    auth.login(user.email, factories.PASSWORD)
    assert client.get("/admin/catalogue/").status_code == 403
    assert client.get("/admin/catalogue/new").status_code == 403


def test_rates_are_read_by_date(db):
    service_type = factories.service_type(db, "CLEANING", value=2500)
    assert rate_on(db, service_type.id, clock.today()).unit_value_cents == 2500
