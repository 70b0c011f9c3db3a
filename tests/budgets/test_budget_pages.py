"""The administrator's budget pages: figures to the cent after issuing, cancellation and
expiry; creating budgets; changing an amount never below the commitment."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import post_form
from voucher import clock
from voucher.accounts.models import Role
from voucher.budgets.models import Budget
from voucher.vouchers.models import Voucher


@pytest.fixture
def admin(db, world):
    made = factories.user(db, role=Role.ADMIN, email="anna@example.fi")
    db.commit()
    return made


def figures(client, budget_id) -> dict[str, str]:
    html = client.get(f"/admin/budgets/{budget_id}").get_data(as_text=True)
    return {name: value.replace("\xa0", " ") for name, value in
            re.findall(r'data-figure="(\w+)">([^<]+)<', html)}


def test_budget_page_follows_issue_cancellation_and_expiry_to_the_cent(client, auth, db, world,
                                                                       admin):
    budget = world.budgets[("CLEANING", 2026)]
    budget.amount_cents = 100_000
    db.commit()

    auth.login(world.case_manager.email, factories.PASSWORD)
    for units in ("10", "4"):
        response = post_form(client, f"/vouchers/new/{world.client.id}", {
            "service_type": world.fixed.id, "need_assessment": "Siivousapu kotiin.",
            "recurrence": "total", "units": units, "valid_from": "2026-12-01",
            "valid_until": "2026-12-31", "action": "issue"})
        assert response.status_code == 303
    auth.logout()
    db.rollback()
    first, second = db.execute(sa.select(Voucher).order_by(Voucher.id)).scalars().all()

    auth.login("anna@example.fi", factories.PASSWORD)
    assert figures(client, budget.id) == {
        "amount": "1 000,00 €", "committed": "350,00 €", "released": "0,00 €",
        "spent": "0,00 €", "free": "650,00 €"}
    auth.logout()

    # 3,5 h at 33 € on the first (the voucher pays 25 €/h: 87,50 €), then it is cancelled.
    db.rollback()
    for voucher in (first, second):
        voucher.status, voucher.provider_id = factories.VoucherStatus.ASSIGNED, world.provider.id
    factories.redemption(db, first, day=dt.date(2026, 12, 2), units=350)
    factories.redemption(db, second, day=dt.date(2026, 12, 3), units=125)  # 31,25 €
    db.commit()
    auth.login(world.case_manager.email, factories.PASSWORD)
    response = post_form(client, f"/vouchers/{first.id}/cancel",
                         {"reason": "Asiakas siirtyi tehostettuun palveluasumiseen."})
    assert response.status_code == 303
    auth.logout()
    auth.login("anna@example.fi", factories.PASSWORD)
    assert figures(client, budget.id) == {
        "amount": "1 000,00 €", "committed": "350,00 €", "released": "162,50 €",
        "spent": "0,00 €", "free": "812,50 €"}

    clock.freeze(dt.date(2027, 1, 20))
    result = client.application.test_cli_runner().invoke(args=["vouchers", "expire"])
    assert "expired 1" in result.output, result.output
    assert figures(client, budget.id) == {
        "amount": "1 000,00 €", "committed": "350,00 €", "released": "231,25 €",
        "spent": "0,00 €", "free": "881,25 €"}
    ledger = client.get(f"/admin/budgets/{budget.id}").get_data(as_text=True)
    assert ledger.count("palveluseteli myönnetty") == 2
    assert "palveluseteli peruttu" in ledger and "palveluseteli vanhentunut" in ledger


def test_creating_a_budget_and_refusing_a_duplicate(client, auth, db, world, admin):
    auth.login("anna@example.fi", factories.PASSWORD)
    data = {"municipality": world.other_home.id, "service_type": world.fixed.id,
            "year": "2027", "amount": "45 000"}
    response = post_form(client, "/admin/budgets/new", data)
    assert response.status_code == 303
    response = post_form(client, "/admin/budgets/new", {**data, "amount": "1"})
    assert response.status_code == 422
    assert "Kunnalla on jo määräraha" in response.get_data(as_text=True)
    db.rollback()
    created = db.execute(sa.select(Budget).where(
        Budget.municipality_id == world.other_home.id)).scalar_one()
    assert created.amount_cents == 4_500_000


def test_an_amount_below_the_open_commitment_is_refused_with_the_figures(client, auth, db,
                                                                         world, admin):
    factories.voucher(db, holder=world.client, service=world.fixed, unit_value_cents=2500,
                      units=1000)  # 250 € committed
    db.commit()
    budget_id = world.budgets[("CLEANING", 2026)].id
    auth.login("anna@example.fi", factories.PASSWORD)
    url = f"/admin/budgets/{budget_id}/amount"
    response = post_form(client, url, {"amount": "249,99"}, form_page=url.rsplit("/", 1)[0])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Määrä ei voi olla pienempi" in html and "250,00" in html
    assert post_form(client, url, {"amount": "250"},
                     form_page=url.rsplit("/", 1)[0]).status_code == 303
    db.rollback()
    assert db.get(Budget, budget_id).amount_cents == 25_000


def test_budget_pages_are_for_administrators_only(client, auth, world):
    auth.login(world.case_manager.email, factories.PASSWORD)
    assert client.get("/admin/budgets/").status_code == 403
