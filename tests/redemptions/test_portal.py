"""The provider portal's service events: record with a preview, void, correct, upload CSV."""

import datetime as dt
from io import BytesIO

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import post_form
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.invoicing.services import approve_invoice
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.vouchers.models import Voucher

PASSWORD = factories.PASSWORD


@pytest.fixture
def seller(db):
    return factories.provider(db, services={factories.service_type(db): 3900})


@pytest.fixture
def voucher(db, seller):
    row = factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                            valid_from=dt.date(2026, 10, 1), units=1000,
                            holder=factories.client(db, first_name="Aino",
                                                    last_name="Virtanen"))
    db.commit()
    return row


@pytest.fixture
def provider_login(db, auth, seller):
    factories.user(db, role=Role.PROVIDER, provider_id=seller.id, email="sari@example.fi")
    db.commit()
    auth.login("sari@example.fi", PASSWORD)


def _events(db):
    db.rollback()
    return db.execute(sa.select(Redemption).order_by(Redemption.id)).scalars().all()


def _record_url(voucher):
    return f"/provider/service-events/new/{voucher.code}"


def test_the_page_lists_the_vouchers_in_use(client, provider_login, voucher):
    page = client.get("/provider/service-events/").get_data(as_text=True)
    assert "Aino V." in page and voucher.code in page and "10" in page


def test_only_providers_see_the_pages(client, db, auth, voucher):
    factories.user(db, role=Role.CASE_MANAGER, email="cm@example.fi")
    db.commit()
    auth.login("cm@example.fi", PASSWORD)
    assert client.get("/provider/service-events/").status_code == 403


def test_the_form_is_prefilled_and_the_preview_saves_nothing(client, db, provider_login,
                                                              voucher):
    form = client.get(_record_url(voucher)).get_data(as_text=True)
    assert 'value="39,00"' in form and 'value="2026-11-24"' in form
    preview = post_form(client, _record_url(voucher), {
        "service_date": "2026-11-20", "units": "1,5", "unit_price_cents": "39,00",
        "caregiver_ref": "HO-17", "action": "preview"})
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "48,00" in text and "10,50" in text  # voucher pays, self-share
    assert _events(db) == []
    saved = post_form(client, _record_url(voucher), {
        "service_date": "2026-11-20", "units": "1,5", "unit_price_cents": "39,00 €",
        "caregiver_ref": "HO-17", "action": "save"})
    assert saved.status_code == 303
    [event] = _events(db)
    assert (event.units, event.voucher_pays_cents, event.source, event.caregiver_ref) == (
        150, 4800, "portal", "HO-17")


def test_refusals_are_shown_next_to_the_fields(client, db, provider_login, voucher):
    response = post_form(client, _record_url(voucher), {
        "service_date": "2026-11-20", "units": "2", "unit_price_cents": "45",
        "action": "save"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "hyväksytyn hintasi" in text and 'id="unit_price_cents-error"' in text
    response = post_form(client, _record_url(voucher), {
        "service_date": "2026-11-20", "units": "11", "action": "preview"})
    assert response.status_code == 422 and "jäljellä 10" in response.get_data(as_text=True)
    response = post_form(client, _record_url(voucher), {
        "service_date": "32.13.2026", "units": "kaksi", "action": "preview"})
    assert response.status_code == 422
    assert 'value="kaksi"' in response.get_data(as_text=True)  # nothing typed is lost
    assert _events(db) == []


def test_another_providers_voucher_is_not_found(client, db, provider_login):
    other = factories.provider(db, services={factories.service_type(db): 3900})
    foreign = factories.voucher(db, service=factories.service_type(db), assigned_to=other)
    db.commit()
    assert client.get(_record_url(foreign)).status_code == 404


def test_voiding_from_the_portal(client, db, provider_login, voucher):
    event = factories.service_event(db, voucher, service_date=dt.date(2026, 11, 20))
    db.commit()
    url = f"/provider/service-events/{event.id}/void"
    assert "Mitätöi" in client.get(url).get_data(as_text=True)
    assert post_form(client, url, {}).status_code == 303
    db.rollback()
    assert db.get(Redemption, event.id).status == RedemptionStatus.VOID
    assert db.get(Voucher, voucher.id).units_used == 0


def test_correcting_from_the_portal(client, db, provider_login, seller, voucher):
    event = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 20), units=300)
    approve_invoice(db, invoice_id=factories.monthly_invoice(db, seller).id, actor=Actor.system())
    db.commit()
    url = f"/provider/service-events/{event.id}/correct"
    assert 'value="3"' in client.get(url).get_data(as_text=True)
    response = post_form(client, url, {"delivered": "yes", "service_date": "2026-10-20",
                                       "units": "2", "unit_price_cents": "39,00"})
    assert response.status_code == 303
    units = [(e.units, e.status, e.corrects_id) for e in _events(db)]
    assert units == [(300, RedemptionStatus.INVOICED, None),
                     (-300, RedemptionStatus.RECORDED, event.id),
                     (200, RedemptionStatus.RECORDED, None)]


def test_reversing_without_a_replacement(client, db, provider_login, seller, voucher):
    event = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 20))
    approve_invoice(db, invoice_id=factories.monthly_invoice(db, seller).id, actor=Actor.system())
    db.commit()
    response = post_form(client, f"/provider/service-events/{event.id}/correct",
                         {"delivered": "no", "service_date": "", "units": ""})
    assert response.status_code == 303
    assert [e.units for e in _events(db)] == [100, -100]


# --- CSV ------------------------------------------------------------------------------------

HEADER = "voucher_code;client;service_date;units;unit_price;caregiver_ref;note\r\n"


def _upload(client, content: bytes):
    from io import BytesIO

    return post_form(client, "/provider/service-events/upload",
                     {"file": (BytesIO(content), "tapahtumat.csv")},
                     content_type="multipart/form-data")


def test_the_template_lists_the_vouchers(client, provider_login, voucher):
    response = client.get("/provider/service-events/template.csv")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffvoucher_code;client;service_date;units;unit_price")
    assert f"{voucher.code};Aino V.;;;39,00;;" in text


def test_a_good_file_is_recorded_as_a_whole(client, db, provider_login, voucher):
    content = (HEADER + f"{voucher.code};Aino V.;5.10.2026;2;39,00;HO-17;\r\n"
               f"{voucher.code};;2026-10-12;1,5;;HO-18;Lääkärissä\r\n"
               f"{voucher.code};Aino V.;;;39,00;;\r\n").encode("utf-8-sig")
    response = _upload(client, content)
    assert response.status_code == 303
    events = _events(db)
    assert [(e.service_date.day, e.units, e.source) for e in events] == [
        (5, 200, "csv"), (12, 150, "csv")]
    assert events[1].note == "Lääkärissä"


def test_a_file_with_bad_rows_is_refused_whole(client, db, provider_login, voucher):
    content = ("voucher_code,service_date,units,unit_price\n"
               f"{voucher.code},5.10.2026,2,39\n"
               f"{voucher.code},31.11.2026,2,39\n"
               "NO-SUCH-CODE,6.10.2026,1,\n"
               f"{voucher.code},7.10.2026,9,\n"
               f"{voucher.code},8.10.2026,1,50\n").encode("cp1252")
    response = _upload(client, content)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Rivi 3: service_date" in text
    assert "Rivi 4: voucher_code" in text and "NO-SUCH-CODE" in text
    assert "Rivi 5:" in text and "jäljellä 8" in text  # units count cumulatively
    assert "Rivi 6:" in text and "Rivi 2:" not in text
    assert _events(db) == []
    assert db.get(Voucher, voucher.id).units_used == 0


def test_a_file_with_unknown_columns_is_refused(client, db, provider_login, voucher):
    response = _upload(client, b"koodi;pvm\nX;1.10.2026\n")
    assert response.status_code == 422
    assert "Rivi 1:" in response.get_data(as_text=True)
    response = _upload(client, HEADER.encode())
    assert response.status_code == 422


def test_a_file_too_large_is_refused(app, client, db, provider_login, voucher):
    app.config["MAX_UPLOAD_BYTES"] = 100
    response = _upload(client, HEADER.encode() + b"x" * 200)
    assert response.status_code == 422
    assert "suurempi kuin sallittu" in response.get_data(as_text=True)


def test_a_control_character_in_the_file_is_reported_by_line_and_column(client, db,
                                                                       provider_login,
                                                                       voucher):
    content = (HEADER + f"{voucher.code};Aino V.;5.10.2026;2;39,00;HO-17;ok\r\n"
               f"{voucher.code};;6.10.2026;1;;HO-18;kello\x07soi\r\n").encode("utf-8")
    response = _upload(client, content)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Rivi 3: note:" in text and "U+0007" in text
    assert _events(db) == []
    content = (HEADER + f"{voucher.code};;6.10.2026;1;;HO-18;La\u0308a\u0308ka\u0308ri\r\n"
               ).encode("utf-8")
    assert _upload(client, content).status_code == 303
    assert _events(db)[0].note == "Lääkäri"


def test_a_form_sent_twice_records_once(client, db, provider_login, voucher):
    import re

    page = client.get(_record_url(voucher)).get_data(as_text=True)
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', page).group(1)
    data = {"service_date": "2026-11-20", "units": "2", "unit_price_cents": "39,00",
            "submission_key": key}
    preview = post_form(client, _record_url(voucher), {**data, "action": "preview"})
    assert f'value="{key}"' in preview.get_data(as_text=True)  # carried to the save step
    first = post_form(client, _record_url(voucher), {**data, "action": "save"})
    again = post_form(client, _record_url(voucher), {**data, "action": "save"})
    assert (first.status_code, again.status_code) == (303, 303)
    assert len(_events(db)) == 1
    db.expire_all()
    assert db.get(Voucher, voucher.id).units_used == 200  # the units were taken once
    shown = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "lähetettiin kahdesti" in shown
    fresh = client.get(_record_url(voucher)).get_data(as_text=True)
    assert key not in fresh  # a new form, a new key: the next event records


def test_the_same_file_again_is_refused_until_the_provider_says_it_is_new(
        client, db, provider_login, voucher):
    content = (HEADER + f"{voucher.code};;5.10.2026;2;39,00;HO-17;\r\n").encode("utf-8")
    assert _upload(client, content).status_code == 303
    again = _upload(client, content)
    assert again.status_code == 422
    text = again.get_data(as_text=True)
    assert "Tämä tiedosto on jo kirjattu" in text and "record_repeats" in text
    assert len(_events(db)) == 1
    confirmed = post_form(client, "/provider/service-events/upload", {
        "file": (BytesIO(content), "tapahtumat.csv"), "record_repeats": "y"},
        content_type="multipart/form-data")
    assert confirmed.status_code == 303
    assert len(_events(db)) == 2


def test_rows_that_look_recorded_already_are_named_and_recorded_only_on_request(
        client, db, provider_login, voucher):
    assert _upload(client, (HEADER + f"{voucher.code};;5.10.2026;2;;;\r\n").encode()) \
        .status_code == 303
    edited = (HEADER + f"{voucher.code};;5.10.2026;2;;;\r\n"
              f"{voucher.code};;6.10.2026;1;;;\r\n").encode()  # another file, a repeated row
    refused = _upload(client, edited)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Rivi 2" in text and "5.10.2026" in text and "Rivi 3" not in text
    assert len(_events(db)) == 1  # not even the new row: the file is recorded as a whole
    confirmed = post_form(client, "/provider/service-events/upload", {
        "file": (BytesIO(edited), "tapahtumat.csv"), "record_repeats": "y"},
        content_type="multipart/form-data")
    assert confirmed.status_code == 303
    assert [(e.service_date.day, e.units) for e in _events(db)] == [(5, 200), (5, 200),
                                                                    (6, 100)]
