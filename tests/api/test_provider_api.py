"""The provider API as api-v1.md specifies it: every status code and error code."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from voucher.api.models import ApiToken, IdempotencyRecord
from voucher.api.tokens import revoke_token
from voucher.audit.services import Actor
from voucher.redemptions.models import Redemption
from voucher.vouchers.models import Voucher, VoucherStatus

BODY = {"service_date": "2026-11-20", "units": 2, "unit_price_cents": 3900}


def _problem(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code and body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


def _count(db, model=Redemption):
    db.rollback()
    return db.execute(sa.select(sa.func.count()).select_from(model)).scalar()


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer vch_wrong", "Basic abc",
                                    "bearer  "])
def test_a_missing_or_bad_token_is_unauthorized(client, voucher, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/vouchers", headers=headers)
    _problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_unauthorized(api, db, token):
    assert api.get("/vouchers").status_code == 200
    revoke_token(db, db.execute(sa.select(ApiToken)).scalar_one(), actor=Actor.system())
    db.commit()
    _problem(api.get("/vouchers"), 401, "unauthorized")


def test_use_of_a_token_is_remembered(api, db):
    api.get("/vouchers")
    db.rollback()
    assert db.execute(sa.select(ApiToken.last_used_at)).scalar() is not None


def test_the_openapi_document_needs_no_token(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/vouchers", "/api/v1/vouchers/{code}",
                 "/api/v1/vouchers/{code}/redemptions", "/api/v1/redemptions",
                 "/api/v1/redemptions/{redemption_id}/void", "/api/v1/invoices",
                 "/api/v1/invoices/{invoice_id}", "/api/v1/invoices/{invoice_id}/finvoice"):
        assert path in document["paths"]
    finvoice = document["paths"]["/api/v1/invoices/{invoice_id}/finvoice"]["get"]
    assert set(finvoice["responses"]["200"]["content"]) == {"application/xml"}
    create = document["paths"]["/api/v1/vouchers/{code}/redemptions"]["post"]
    assert set(create["responses"]) == {"201", "400", "401", "404", "409", "422", "429"}
    assert "RedemptionRequest" in document["components"]["schemas"]


# --- vouchers -------------------------------------------------------------------------------


def test_vouchers_of_the_caller_only(api, db, seller, voucher):
    other = factories.provider(db, services={factories.service_type(db): 3900})
    factories.voucher(db, service=factories.service_type(db), assigned_to=other)
    factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                      status=VoucherStatus.EXPIRED)
    db.commit()
    everything = api.get("/vouchers").get_json()
    assert everything["total"] == 2 and (everything["page"], everything["per_page"]) == (1, 50)
    assigned = api.get("/vouchers?status=assigned&per_page=1").get_json()
    assert assigned["total"] == 1 and assigned["items"][0]["code"] == voucher.code
    _problem(api.get("/vouchers?status=lost"), 422, "validation_error")
    body = _problem(api.get("/vouchers?per_page=201"), 422, "validation_error")
    assert body["errors"][0]["field"] == "per_page"


def test_one_voucher(api, voucher):
    body = api.get(f"/vouchers/{voucher.code}").get_json()
    assert body == {
        "code": voucher.code, "decision_number": voucher.decision_number,
        "service": "HOME_CARE", "status": "assigned", "valid_from": "2026-10-01",
        "valid_until": "2026-12-31", "units_granted": 10,
        "units_used": 0, "units_remaining": 10, "units_available": 10,
        "unit_value_cents": 3200,
        "client": {"display_name": voucher.client.display_name},
    }


def test_another_providers_voucher_is_not_found(api, db):
    other = factories.provider(db, services={factories.service_type(db): 3900})
    foreign = factories.voucher(db, service=factories.service_type(db), assigned_to=other)
    db.commit()
    _problem(api.get(f"/vouchers/{foreign.code}"), 404, "not_found")
    _problem(api.get("/vouchers/NO-SUCH-CODE"), 404, "not_found")
    _problem(api.redeem(foreign.code, BODY), 404, "not_found")
    assert _count(db) == 0


# --- recording ------------------------------------------------------------------------------


def test_recording_a_service_event(api, db, voucher):
    response = api.redeem(voucher.code, {**BODY, "note": "Kauppa-asiointi",
                                         "caregiver_ref": "HO-17"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert {k: body[k] for k in ("voucher_code", "service_date", "units", "unit_price_cents",
                                 "voucher_pays_cents", "client_pays_cents", "status",
                                 "units_remaining")} == {
        "voucher_code": voucher.code, "service_date": "2026-11-20", "units": 2,
        "unit_price_cents": 3900, "voucher_pays_cents": 6400, "client_pays_cents": 1400,
        "status": "recorded", "units_remaining": 8}
    assert response.headers["Location"] == f"/api/v1/redemptions/{body['id']}"
    assert api.get(f"/redemptions/{body['id']}").get_json() == body
    db.rollback()
    event = db.get(Redemption, body["id"])
    assert (event.source, event.caregiver_ref, event.note) == ("api", "HO-17", "Kauppa-asiointi")


def test_fractional_units_and_the_default_price(api, voucher):
    body = api.redeem(voucher.code, {"service_date": "2026-11-20", "units": 1.5}).get_json()
    assert (body["units"], body["unit_price_cents"], body["voucher_pays_cents"]) == (
        1.5, 3900, 4800)
    assert body["units_remaining"] == 8.5


def test_the_same_key_and_body_replay_the_first_answer(api, db, voucher):
    first = api.redeem(voucher.code, BODY)
    again = api.redeem(voucher.code, dict(reversed(list(BODY.items()))))
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(db) == 1
    assert db.get(Voucher, voucher.id).units_used == 200


def test_a_replay_after_the_first_took_the_last_units(api, db, voucher):
    first = api.redeem(voucher.code, {**BODY, "units": 10})
    assert first.status_code == 201 and first.get_json()["units_remaining"] == 0
    again = api.redeem(voucher.code, {**BODY, "units": 10})
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert _count(db) == 1


def test_the_same_key_on_another_voucher_is_refused(api, db, seller, voucher):
    other = factories.voucher(db, service=factories.service_type(db), assigned_to=seller)
    db.commit()
    api.redeem(voucher.code, BODY)
    _problem(api.redeem(other.code, BODY), 422, "idempotency_key_reused")
    assert _count(db) == 1


def test_the_same_key_with_another_body_is_refused(api, db, voucher):
    api.redeem(voucher.code, BODY)
    _problem(api.redeem(voucher.code, {**BODY, "units": 3}), 422, "idempotency_key_reused")
    assert _count(db) == 1


def test_keys_are_per_provider(api, client, db, voucher):
    other = factories.provider(db, services={factories.service_type(db): 3900})
    foreign = factories.voucher(db, service=factories.service_type(db), assigned_to=other,
                                valid_from=dt.date(2026, 10, 1))
    other_token = factories.api_token(db, other)
    db.commit()
    assert api.redeem(voucher.code, BODY).status_code == 201
    response = client.post(f"/api/v1/vouchers/{foreign.code}/redemptions", json=BODY,
                           headers={"Authorization": f"Bearer {other_token}",
                                    "Idempotency-Key": "key-1"})
    assert response.status_code == 201
    assert _count(db) == 2


def test_a_missing_key_is_refused(api, db, voucher):
    response = api.post(f"/vouchers/{voucher.code}/redemptions", json=BODY)
    _problem(response, 400, "idempotency_key_required")
    _problem(api.redeem(voucher.code, BODY, key="x" * 256), 422, "validation_error")
    assert _count(db) == 0


def test_a_refused_request_does_not_use_up_its_key(api, db, voucher):
    _problem(api.redeem(voucher.code, {**BODY, "units": 11}), 409, "insufficient_units")
    assert _count(db, IdempotencyRecord) == 0
    assert api.redeem(voucher.code, {**BODY, "units": 10}).status_code == 201


def test_more_units_than_remain(api, db, voucher):
    body = _problem(api.redeem(voucher.code, {**BODY, "units": 10.5}), 409,
                    "insufficient_units")
    assert "10" in body["detail"]
    assert _count(db) == 0


def test_an_inactive_voucher_or_a_date_outside_the_validity(api, db, seller, voucher):
    _problem(api.redeem(voucher.code, {**BODY, "service_date": "2026-09-30"}), 409,
             "voucher_not_active")
    expired = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                                status=VoucherStatus.EXPIRED)
    db.commit()
    _problem(api.redeem(expired.code, BODY, key="key-2"), 409, "voucher_not_active")


def test_a_price_above_the_approved_price(api, db, voucher):
    body = _problem(api.redeem(voucher.code, {**BODY, "unit_price_cents": 4000}), 422,
                    "price_above_approved")
    assert "39,00" in body["detail"]
    assert _count(db) == 0


@pytest.mark.parametrize("body, fields", [
    ({**BODY, "service_date": "2026-11-25"}, {"service_date"}),
    ({**BODY, "units": 0}, {"units"}),
    ({**BODY, "units": -1}, {"units"}),
    ({**BODY, "units": "two"}, {"units"}),
    ({**BODY, "units": True}, {"units"}),
    ({**BODY, "units": 1.234}, {"units"}),
    ({**BODY, "service_date": "20.11.2026"}, {"service_date"}),
    ({**BODY, "unit_price_cents": 39.5}, {"unit_price_cents"}),
    ({**BODY, "note": "a\x00b"}, {"note"}),
    ({**BODY, "caregiver_ref": "Maija"}, {"caregiver_ref"}),
    ({**BODY, "price": 3900}, {"price"}),
    ({"units": 2}, {"service_date"}),
    ([1, 2], {"body"}),
])
def test_malformed_input_is_a_validation_error(api, db, voucher, body, fields):
    problem = _problem(api.redeem(voucher.code, body), 422, "validation_error")
    assert {error["field"] for error in problem["errors"]} == fields
    assert all(error["message"] for error in problem["errors"])
    assert _count(db) == 0


def test_a_body_that_is_not_json(api, voucher):
    response = api.post(f"/vouchers/{voucher.code}/redemptions", data="units=2",
                        headers={"Idempotency-Key": "k", "Content-Type": "text/plain"})
    _problem(response, 422, "validation_error")


def test_messages_follow_accept_language(api, voucher):
    body = api.redeem(voucher.code, {**BODY, "unit_price_cents": 4000},
                      headers={"Accept-Language": "en"}).get_json()
    assert "above your approved price" in body["detail"]


# --- listing and voiding --------------------------------------------------------------------


def test_listing_service_events(api, db, seller, voucher):
    for key, day in (("a", "2026-10-30"), ("b", "2026-11-02"), ("c", "2026-11-20")):
        api.redeem(voucher.code, {**BODY, "service_date": day, "units": 1}, key=key)
    db.rollback()
    other = factories.provider(db, services={factories.service_type(db): 3900})
    factories.service_event(db, factories.voucher(db, service=factories.service_type(db),
                                               assigned_to=other))
    db.commit()
    listed = api.get("/redemptions?from=2026-11-01&to=2026-11-30").get_json()
    assert [r["service_date"] for r in listed["items"]] == ["2026-11-02", "2026-11-20"]
    assert listed["total"] == 2
    assert api.get("/redemptions?status=void").get_json()["total"] == 0
    body = _problem(api.get("/redemptions?from=yesterday&status=gone"), 422,
                    "validation_error")
    assert body["errors"][0]["field"] == "from"
    _problem(api.get("/redemptions?status=gone"), 422, "validation_error")
    _problem(api.get("/redemptions?page=0"), 422, "validation_error")


def test_voiding(api, db, voucher):
    created = api.redeem(voucher.code, BODY).get_json()
    response = api.post(f"/redemptions/{created['id']}/void")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["units_remaining"]) == ("void", 10)
    assert api.post(f"/redemptions/{created['id']}/void").get_json()["status"] == "void"
    assert db.get(Voucher, voucher.id).units_used == 0


def test_an_invoiced_event_cannot_be_voided(api, voucher):
    created = api.redeem(voucher.code, {**BODY, "service_date": "2026-10-20"}).get_json()
    assert api.post("/invoices", json={"period": "2026-10"}).status_code == 201
    _problem(api.post(f"/redemptions/{created['id']}/void"), 409, "already_invoiced")


def test_another_providers_event_is_not_found(api, db):
    other = factories.provider(db, services={factories.service_type(db): 3900})
    event = factories.service_event(db, factories.voucher(db, service=factories.service_type(db),
                                                       assigned_to=other))
    db.commit()
    _problem(api.get(f"/redemptions/{event.id}"), 404, "not_found")
    _problem(api.post(f"/redemptions/{event.id}/void"), 404, "not_found")
    _problem(api.post("/redemptions/99999999999/void"), 404, "not_found")


# --- invoices -------------------------------------------------------------------------------


def test_invoicing_a_month(api, db, voucher):
    ids = [api.redeem(voucher.code, {**BODY, "service_date": day, "units": 1}, key=day)
           .get_json()["id"] for day in ("2026-10-05", "2026-10-31", "2026-11-01")]
    response = api.post("/invoices", json={"period": "2026-10"})
    assert response.status_code == 201
    invoice = response.get_json()
    assert (invoice["number"], invoice["period"], invoice["status"]) == (1, "2026-10",
                                                                        "submitted")
    assert [line["redemption_id"] for line in invoice["lines"]] == ids[:2]
    assert invoice["lines"][0] == {
        "redemption_id": ids[0], "voucher_code": voucher.code, "service_date": "2026-10-05",
        "units": 1, "unit_price_cents": 3900, "voucher_pays_cents": 3200,
        "client_pays_cents": 700}
    assert invoice["total_cents"] == 6400
    assert response.headers["Location"] == f"/api/v1/invoices/{invoice['id']}"
    assert api.get(f"/invoices/{invoice['id']}").get_json() == invoice
    assert api.get("/invoices").get_json()["items"] == [invoice]
    assert api.get(f"/redemptions/{ids[0]}").get_json()["status"] == "invoiced"
    _problem(api.post("/invoices", json={"period": "2026-10"}), 409, "nothing_to_invoice")


def test_a_month_not_ended_and_malformed_periods(api, voucher):
    api.redeem(voucher.code, BODY)
    _problem(api.post("/invoices", json={"period": "2026-11"}), 422, "period_not_closed")
    _problem(api.post("/invoices", json={"period": "2027-01"}), 422, "period_not_closed")
    for body in ({"period": "11/2026"}, {"period": 202610}, {}, {"period": "2026-10",
                                                                   "x": 1}):
        _problem(api.post("/invoices", json=body), 422, "validation_error")


def test_another_providers_invoice_is_not_found(api, db):
    other = factories.provider(db, services={factories.service_type(db): 3900})
    factories.service_event(db, factories.voucher(db, service=factories.service_type(db),
                                               assigned_to=other,
                                               valid_from=dt.date(2026, 10, 1)),
                         service_date=dt.date(2026, 10, 2))
    invoice = factories.monthly_invoice(db, other)
    db.commit()
    _problem(api.get(f"/invoices/{invoice.id}"), 404, "not_found")
    assert api.get("/invoices").get_json()["total"] == 0


def test_text_in_the_body_is_cleaned_and_control_characters_refused(api, db, voucher):
    body = _problem(api.redeem(voucher.code, {**BODY, "note": "soitto\x07"}, key="c1"), 422,
                    "validation_error")
    assert body["errors"][0]["field"] == "note" and "U+0007" in body["errors"][0]["message"]
    assert _count(db) == 0
    response = api.redeem(voucher.code, {**BODY, "note": "La\u0308a\u0308ka\u0308ri"}, key="c2")
    assert response.status_code == 201
    db.rollback()
    assert db.execute(sa.select(Redemption.note)).scalar_one() == "Lääkäri"
