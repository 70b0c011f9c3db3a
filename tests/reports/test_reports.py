"""Report figures, scope, forecast, downloads; case managers see only their municipalities."""

import csv
import datetime as dt
import io
import re
import zipfile

import pytest

from tests import factories
from tests.settlement.conftest import events, settle, voucher_for, world  # noqa: F401
from voucher.accounts.models import Role
from voucher.reports.budget_use import budget_use, forecast
from voucher.reports.figures import Scope, per_unit, service_figures
from voucher.reports.payees import cost_allocation, provider_figures


@pytest.fixture
def history(db, world, settle):  # noqa: F811
    """Ylivieska: Aurinko 1,5 h (39 €, voucher 32 €) and 2 h settled; Kuura 1 h not invoiced.
    Nivala: Kuura 2,5 h (30 €) settled."""
    first = voucher_for(db, world, world.aurinko)
    factories.invoice(db, world.aurinko, events(db, first, (2, 150), (9, 200)))
    nivala = voucher_for(db, world, world.kuura, home=world.nivala)
    factories.invoice(db, world.kuura, events(db, nivala, (3, 250)))
    settle()
    waiting = voucher_for(db, world, world.kuura)
    events(db, waiting, (16, 100))
    db.commit()
    return world


def test_monthly_figures_per_municipality_service_and_month(db, history):
    rows = service_figures(db, year=2026, scope=Scope())
    ylivieska = next(r for r in rows if r.municipality.code == "977" and r.period == 11)
    assert (ylivieska.vouchers_issued, ylivieska.units_granted) == (2, 2000)
    assert (ylivieska.clients, ylivieska.units_used) == (2, 450)
    assert ylivieska.spent_cents == 11200  # the Kuura hour is not settled yet
    assert ylivieska.committed_cents == 64000
    # (3,5 h × 39 € + 1 h × 30 €) / 4,5 h = 36,99 €; self-share 3,5 h × 7 € / 4,5 h = 5,44 €
    assert ylivieska.average_price_cents == 3700
    assert ylivieska.average_self_share_cents == 544
    quarters = service_figures(db, year=2026, scope=Scope(), quarterly=True)
    assert {(r.municipality.code, r.period, r.spent_cents) for r in quarters} == {
        ("977", 4, 11200), ("535", 4, 7500)}


def test_a_case_manager_sees_only_their_municipalities(db, history):
    rows = service_figures(db, year=2026, scope=Scope(frozenset({history.nivala.id})))
    assert {r.municipality.code for r in rows} == {"535"}


def test_budget_use_forecasts_the_year_end_from_the_rate_so_far(db, history):
    uses = {u.budget.municipality.code: u for u in budget_use(
        db, year=2026, scope=Scope(), today=dt.date(2026, 11, 24))}
    ylivieska = uses["977"]
    assert (ylivieska.used_cents, ylivieska.budget.spent_cents) == (14200, 11200)
    assert ylivieska.waiting_cents == 3000
    assert ylivieska.forecast_cents == forecast(14200, 2026, dt.date(2026, 11, 24)) == 15802
    assert forecast(100, 2025, dt.date(2026, 1, 5)) == 100
    assert forecast(100, 2027, dt.date(2026, 1, 5)) is None
    assert per_unit(1, 300) == 0 and per_unit(2, 300) == 1 and per_unit(5, 0) is None


def test_provider_figures_and_cost_allocation(db, history):
    providers = {f.provider.legal_name: f for f in provider_figures(
        db, starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 11, 30), scope=Scope())}
    assert (providers["Kuura Oy"].clients, providers["Kuura Oy"].units,
            providers["Kuura Oy"].voucher_cents) == (2, 350, 10500)
    assert providers["Hoiva Aurinko Oy"].self_share_cents == 2450
    assert providers["Hoiva Aurinko Oy"].rating is None
    allocation = cost_allocation(db, starts_on=dt.date(2026, 11, 24),
                                 ends_on=dt.date(2026, 11, 24), scope=Scope())
    assert [(a.municipality.code, a.cost_cents, a.events) for a in allocation] == [
        ("535", 7500, 1), ("977", 11200, 2)]
    assert cost_allocation(db, starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 11, 23),
                           scope=Scope()) == []


def _login(client, auth, db, role, municipalities=None):
    factories.user(db, role=role, email="reader@example.fi", municipalities=municipalities)
    db.commit()
    auth.login("reader@example.fi", factories.PASSWORD)


def _text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True)).replace("\xa0", " ")


def test_the_reports_pages_show_charts_and_tables(client, auth, db, history):
    _login(client, auth, db, Role.ADMIN)
    index = client.get("/reports/")
    assert index.status_code == 200
    page = _text(index)
    assert '<svg class="chart" role="img"' in page and "Määrärahojen käyttö 2026" in page
    assert "112,00 €" in page and "30,00 €" in page and "158,02 €" in page
    assert "style=" not in index.get_data(as_text=True).split("<main", 1)[1]
    for path, expected in (("/reports/monthly", "marraskuu"),
                           ("/reports/quarterly", "4. vuosineljännes"),
                           ("/reports/providers", "Hoiva Aurinko Oy"),
                           ("/reports/cost-allocation?starts_on=2026-11-01&ends_on=2026-11-30",
                            "Kunta yhteensä"),
                           ("/reports/reconciliation", "Kaikki täsmää")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert expected in _text(response), path


def test_every_report_downloads_as_csv_and_xlsx(client, auth, db, history):
    _login(client, auth, db, Role.ADMIN)
    csv_response = client.get("/reports/cost-allocation.csv?starts_on=2026-11-01"
                              "&ends_on=2026-11-30")
    assert csv_response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Kunta", "Palvelu", "Kirjanpitotili", "Kustannuspaikka", "Projekti",
                       "Sisäinen tilaus", "ALV-koodi", "Asiakkaat", "Palvelutapahtumat",
                       "Yksiköt", "Kustannus"]
    # The accounting dimensions the municipality × service is posted to travel with it.
    assert ["Ylivieska", "HOME_CARE fi", "4360", "977-HOME_CAR", "", "", "", "1", "2", "3.5",
            "112.00"] in rows
    assert rows[-1][0] == "Yhteensä" and rows[-1][-1] == "187.00"
    for path in ("/reports/budget-use", "/reports/monthly", "/reports/quarterly",
                 "/reports/providers", "/reports/cost-allocation"):
        for fmt in ("csv", "xlsx"):
            response = client.get(f"{path}.{fmt}?year=2026")
            assert response.status_code == 200, path
            assert "attachment" in response.headers["Content-Disposition"]
    budget_rows = list(csv.reader(io.StringIO(client.get(
        "/reports/budget-use.csv?year=2026").get_data(as_text=True).lstrip("\ufeff"))))
    assert budget_rows[0][2:4] == ["Kirjanpitotili", "Kustannuspaikka"]
    assert any(row[:4] == ["Nivala", "HOME_CARE fi", "4360", "535-HOME_CAR"]
               for row in budget_rows)
    xlsx = client.get("/reports/monthly.xlsx?year=2026")
    with zipfile.ZipFile(io.BytesIO(xlsx.get_data())) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
        strings = workbook.read("xl/sharedStrings.xml").decode()
        names = workbook.read("xl/workbook.xml").decode()
    assert 'name="Kuukausiluvut 2026"' in names
    assert "<v>112.00</v>" in sheet  # spent 112,00 € as a number
    assert "Ylivieska" in strings and "Käytetty (tilitetty)" in strings


def test_a_case_manager_gets_their_own_municipality_only(client, auth, db, history):
    _login(client, auth, db, Role.CASE_MANAGER, municipalities=[history.nivala])
    page = _text(client.get("/reports/monthly"))
    assert "Nivala" in page and "Ylivieska" not in page
    assert client.get(f"/reports/monthly?municipality={history.ylivieska.id}").status_code == 404
    allocation = client.get("/reports/cost-allocation.csv?starts_on=2026-11-01"
                            "&ends_on=2026-11-30").get_data(as_text=True)
    assert "Nivala" in allocation and "Ylivieska" not in allocation
    assert client.get("/reports/reconciliation").status_code == 403


def test_providers_and_clients_cannot_open_reports(client, auth, db, history):
    factories.user(db, role=Role.PROVIDER, email="p@example.fi", provider_id=history.kuura.id)
    db.commit()
    auth.login("p@example.fi", factories.PASSWORD)
    assert client.get("/reports/").status_code == 403


def test_a_bad_period_is_explained(client, auth, db, history):
    _login(client, auth, db, Role.ADMIN)
    response = client.get("/reports/providers?starts_on=2026-11-30&ends_on=2026-11-01")
    assert response.status_code == 422
    assert "Viimeinen päivä ei voi olla ennen ensimmäistä." in _text(response)


def test_nonsense_filters_are_explained_not_crashed_on(client, auth, db, history):
    _login(client, auth, db, Role.ADMIN)
    for path in ("/reports/?year=abc", "/reports/monthly?year=2026&service=x",
                 "/reports/quarterly?year=1999", "/reports/cost-allocation?starts_on=eilen"):
        response = client.get(path)
        assert response.status_code == 422, path
    assert client.get("/reports/monthly.csv?year=abc").status_code == 200
