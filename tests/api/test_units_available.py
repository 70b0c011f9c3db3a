"""``units_available`` on the API's voucher: what a service event dated today (or ``on``) may
still record, the same figure that recording enforces and ``insufficient_units`` reports."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from voucher.redemptions.models import Redemption
from voucher.vouchers.models import Recurrence, Voucher, VoucherPeriod, VoucherStatus

TODAY = "2026-11-24"  # the tests' frozen clock


def _problem(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code
    return body


@pytest.fixture
def monthly(db, seller):
    """10 units a month for 2026 (120 in all), 6 of November's and 3 of October's used."""
    row = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                            recurrence=Recurrence.MONTHLY, units=1000,
                            valid_from=dt.date(2026, 1, 1), valid_until=dt.date(2026, 12, 31))
    factories.service_event(db, row, service_date=dt.date(2026, 11, 2), units=600)
    factories.service_event(db, row, service_date=dt.date(2026, 10, 20), units=300)
    db.commit()
    return row


def _figures(api, code, query=""):
    body = api.get(f"/vouchers/{code}{query}").get_json()
    return body["units_remaining"], body["units_available"]


def test_a_monthly_allotment_limits_units_available(api, monthly):
    assert _figures(api, monthly.code) == (111, 4)


def test_recording_lowers_units_available(api, monthly):
    response = api.redeem(monthly.code, {"service_date": TODAY, "units": 1.5})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert _figures(api, monthly.code) == (109.5, 2.5)


def test_on_answers_for_that_dates_month(api, monthly):
    assert _figures(api, monthly.code, "?on=2026-10-31") == (111, 7)
    assert _figures(api, monthly.code, "?on=2026-03-15") == (111, 10)
    assert _figures(api, monthly.code, "?on=2026-11-01") == (111, 4)


def test_a_future_date_answers_nothing(api, monthly):
    """A service cannot be recorded before it is delivered (422 for a future service date), so
    nothing is available on a future date, even in a month with all of its units."""
    assert _figures(api, monthly.code, "?on=2026-11-25") == (111, 0)
    assert _figures(api, monthly.code, "?on=2026-12-01") == (111, 0)


def test_one_more_than_available_is_insufficient_units(api, db, monthly):
    body = _problem(api.redeem(monthly.code, {"service_date": TODAY, "units": 5}), 409,
                    "insufficient_units")
    assert "jäljellä 4, pyydettiin 5" in body["detail"]
    assert api.redeem(monthly.code, {"service_date": TODAY, "units": 4},
                      key="key-2").status_code == 201
    assert _figures(api, monthly.code) == (107, 0)
    body = _problem(api.redeem(monthly.code, {"service_date": TODAY, "units": 1}, key="key-3"),
                    409, "insufficient_units")
    assert "jäljellä 0, pyydettiin 1" in body["detail"]


def test_october_can_take_what_on_says_and_no_more(api, monthly):
    """A past month: ``on`` says 7 and exactly 7 can be recorded for that date."""
    day = "2026-10-31"
    _problem(api.redeem(monthly.code, {"service_date": day, "units": 7.5}), 409,
             "insufficient_units")
    assert api.redeem(monthly.code, {"service_date": day, "units": 7},
                      key="key-2").status_code == 201
    assert _figures(api, monthly.code, f"?on={day}") == (104, 0)
    assert _figures(api, monthly.code) == (104, 4)


@pytest.mark.parametrize("status", [VoucherStatus.EXPIRED, VoucherStatus.CANCELLED,
                                    VoucherStatus.ISSUED])
def test_a_voucher_not_in_use_has_nothing_available(api, db, seller, status):
    row = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                            status=status)
    db.commit()
    assert _figures(api, row.code) == (10, 0)
    assert _figures(api, row.code, "?on=2026-11-02") == (10, 0)


def test_an_exhausted_voucher_has_nothing_available(api, db, voucher):
    assert api.redeem(voucher.code, {"service_date": TODAY, "units": 10}).status_code == 201
    db.rollback()
    assert db.get(Voucher, voucher.id).status == VoucherStatus.EXHAUSTED
    assert _figures(api, voucher.code) == (0, 0)


def test_outside_the_validity_nothing_is_available(api, db, seller, voucher):
    """The fixture's voucher is valid Oct–Dec 2026."""
    assert _figures(api, voucher.code) == (10, 10)
    assert _figures(api, voucher.code, "?on=2026-09-30") == (10, 0)
    assert _figures(api, voucher.code, "?on=2026-10-01") == (10, 10)
    db.rollback()  # SQLite: leave the snapshot read before the requests
    later = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                              valid_from=dt.date(2026, 12, 1))
    db.commit()
    assert _figures(api, later.code) == (10, 0)  # not yet valid today


def test_an_ended_validity_still_open_for_its_last_days(api, db, seller):
    """Validity ended, not expired yet (the grace days): nothing today, but its own dates can
    still be recorded, and ``on`` says how much."""
    row = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                            valid_from=dt.date(2026, 10, 1), valid_until=dt.date(2026, 11, 15))
    db.commit()
    assert _figures(api, row.code) == (10, 0)
    _problem(api.redeem(row.code, {"service_date": TODAY, "units": 1}), 409,
             "voucher_not_active")
    assert _figures(api, row.code, "?on=2026-11-15") == (10, 10)
    assert api.redeem(row.code, {"service_date": "2026-11-15", "units": 10},
                      key="key-2").status_code == 201


def test_whole_units_only_for_a_service_that_is_not_divisible(api, db, seller, voucher):
    """1.5 left of a service recorded in whole units: one unit is what can be recorded."""
    assert api.redeem(voucher.code, {"service_date": TODAY, "units": 8.5}).status_code == 201
    db.rollback()
    db.get(Voucher, voucher.id).service_type.fractional_units = False
    db.commit()
    assert _figures(api, voucher.code) == (1.5, 1)
    body = _problem(api.redeem(voucher.code, {"service_date": TODAY, "units": 2}, key="key-2"),
                    409, "insufficient_units")
    assert "jäljellä 1, pyydettiin 2" in body["detail"]
    assert api.redeem(voucher.code, {"service_date": TODAY, "units": 1},
                      key="key-3").status_code == 201


@pytest.mark.parametrize("on", ["2026-13-01", "24.11.2026", "tomorrow", "", "2026-11-24T00:00"])
def test_a_malformed_on_is_a_validation_error(api, voucher, on):
    for path in (f"/vouchers/{voucher.code}?on={on}", f"/vouchers?on={on}"):
        body = _problem(api.get(path), 422, "validation_error")
        assert [error["field"] for error in body["errors"]] == ["on"]


def test_the_list_carries_units_available(api, db, seller, monthly):
    expired = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                                status=VoucherStatus.EXPIRED)
    db.commit()
    listed = {v["code"]: v for v in api.get("/vouchers").get_json()["items"]}
    assert {code: v["units_available"] for code, v in listed.items()} == {
        monthly.code: 4, expired.code: 0}
    assert listed[monthly.code] == api.get(f"/vouchers/{monthly.code}").get_json()
    october = api.get("/vouchers?on=2026-10-31&status=assigned").get_json()["items"]
    assert [(v["code"], v["units_available"]) for v in october] == [(monthly.code, 7)]


def _statements(app, run) -> int:
    engine = app.extensions["voucher.engine"]
    seen = []

    def count(*_args):
        seen.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_list_loads_all_periods_in_one_query(app, api, db, seller):
    def add_vouchers(n):
        db.rollback()
        for _ in range(n):
            factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                              recurrence=Recurrence.MONTHLY, valid_from=dt.date(2026, 1, 1))
        db.commit()

    def listing():
        assert api.get("/vouchers").status_code == 200

    add_vouchers(1)
    api.get("/vouchers")  # warm up: token, caches
    one = _statements(app, listing)
    add_vouchers(6)
    assert _statements(app, listing) == one
    assert {v["units_available"] for v in api.get("/vouchers").get_json()["items"]} == {10}


def test_the_period_figures_in_the_database_match(api, db, monthly):
    api.redeem(monthly.code, {"service_date": TODAY, "units": 4})
    db.rollback()
    november = db.execute(sa.select(VoucherPeriod).where(
        VoucherPeriod.voucher_id == monthly.id,
        VoucherPeriod.starts_on == dt.date(2026, 11, 1))).scalar_one()
    assert (november.units_used, november.units_granted) == (1000, 1000)
    assert db.execute(sa.select(sa.func.sum(Redemption.units)).where(
        Redemption.voucher_period_id == november.id)).scalar() == 1000
