"""The administrator keeps the income tables: a new dated table, never rewritten."""

import sqlalchemy as sa

from tests import factories
from tests.conftest import post_form
from voucher.accounts.models import Role
from voucher.catalogue.models import IncomeTable


def _setup(db):
    service = factories.service_type(db, "HOME_CARE", income_related=True)
    factories.income_table(db, service=service)
    factories.user(db, role=Role.ADMIN, email="anna@example.fi")
    db.commit()
    return service


def test_a_new_table_starts_from_the_one_in_force_and_is_saved(client, auth, db):
    service = _setup(db)
    auth.login("anna@example.fi", factories.PASSWORD)
    url = f"/admin/income-tables/{service.id}/new"
    form = client.get(url).get_data(as_text=True)
    assert 'value="1 000,00"' in form.replace("\xa0", " ")  # the table in force as a start
    response = post_form(client, url, {
        "valid_from": "2027-01-01", "minimum_value": "9,00",
        "limit_1": "1 050", "reduction_1": "1,5", "limit_2": "1 650", "reduction_2": "1,25"})
    assert response.status_code == 303
    db.rollback()
    table = db.execute(sa.select(IncomeTable).order_by(IncomeTable.id.desc())).scalars().first()
    assert (table.valid_from.isoformat(), table.minimum_value_cents) == ("2027-01-01", 900)
    assert [(r.household_size, r.income_limit_cents, r.reduction_basis_points)
            for r in table.rows] == [(1, 105_000, 150), (2, 165_000, 125)]
    page = client.get(f"/admin/income-tables/{service.id}").get_data(as_text=True)
    assert "1.1.2027" in page and "voimassa nyt" in page


def test_bad_tables_are_refused_next_to_the_fields(client, auth, db):
    service = _setup(db)
    auth.login("anna@example.fi", factories.PASSWORD)
    url = f"/admin/income-tables/{service.id}/new"
    cases = [
        ({"valid_from": "2026-01-01", "limit_1": "1000", "reduction_1": "1"},
         "Taulukko ei voi tulla voimaan takautuvasti"),
        ({"valid_from": "2027-01-01", "limit_1": "1000"}, "Anna sekä tuloraja että prosentti"),
        ({"valid_from": "2027-01-01", "limit_2": "1000", "reduction_2": "1"},
         "alkaen yhden hengen kotitaloudesta"),
        ({"valid_from": "2027-01-01", "limit_1": "1000", "reduction_1": "101"},
         "Anna prosentti väliltä 0–100."),
    ]
    for data, message in cases:
        response = post_form(client, url, {"minimum_value": "8", **data})
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), message
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(IncomeTable)).scalar() == 1


def test_only_income_related_services_have_tables(client, auth, db):
    _setup(db)
    fixed = factories.service_type(db, "CLEANING")
    db.commit()
    auth.login("anna@example.fi", factories.PASSWORD)
    assert client.get(f"/admin/income-tables/{fixed.id}/new").status_code == 404
