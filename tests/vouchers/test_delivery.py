"""How a decision reaches its client: electronically when they have an e-mail address and a
login, otherwise through the post room's queue; and the day it counts as received."""

import datetime as dt
import io

import pikepdf
import sqlalchemy as sa

from tests import factories
from tests.conftest import post_form
from tests.vouchers.test_decision_pages import GOOD
from voucher import clock
from voucher.vouchers.models import DecisionDelivery, DeliveryMethod, Voucher


def _issue_for(client, db, world, holder) -> Voucher:
    response = post_form(client, f"/vouchers/new/{holder.id}",
                         {"service_type": world.fixed.id, **GOOD})
    assert response.status_code == 303
    db.rollback()
    return db.execute(sa.select(Voucher).where(Voucher.client_id == holder.id)
                      .order_by(Voucher.id.desc())).scalars().first()


def _delivery(db, voucher) -> DecisionDelivery:
    db.rollback()
    return db.execute(sa.select(DecisionDelivery).where(
        DecisionDelivery.voucher_id == voucher.id)).scalar_one()


def _without_email(db, world, **kwargs):
    db.rollback()  # a fresh snapshot: the app has written since (SQLite)
    holder = factories.client(db, home=world.home, **kwargs)
    holder.email = None
    holder.street_address, holder.postal_code, holder.city = "Kauppatie 1", "84100", "Ylivieska"
    db.commit()
    return holder


def test_a_client_with_a_login_gets_the_decision_electronically(client, auth, db, world):
    auth.login(world.case_manager.email, factories.PASSWORD)
    voucher = _issue_for(client, db, world, world.client)
    delivery = _delivery(db, voucher)
    today = clock.today()
    assert (delivery.method, delivery.sent_on, delivery.received_on) == (
        DeliveryMethod.ELECTRONIC, today, today + dt.timedelta(days=3))


def test_letters_without_e_mail_go_through_the_post_room(client, auth, db, world):
    auth.login(world.case_manager.email, factories.PASSWORD)
    first = _issue_for(client, db, world, _without_email(db, world, last_name="Postinen"))
    second = _issue_for(client, db, world, _without_email(db, world, last_name="Kirjenen"))
    for voucher in (first, second):
        assert (_delivery(db, voucher).method, _delivery(db, voucher).sent_on) == (
            DeliveryMethod.POST, None)
    page = client.get("/vouchers/post-room").get_data(as_text=True)
    assert "Postinen" in page and "Kirjenen" in page
    ids = [_delivery(db, v).id for v in (first, second)]
    batch = client.get("/vouchers/post-room/batch.pdf?" + "&".join(f"id={i}" for i in ids))
    assert batch.status_code == 200 and batch.mimetype == "application/pdf"
    with pikepdf.open(io.BytesIO(batch.data)) as pdf:
        assert len(pdf.pages) >= 2 and pdf.open_metadata().pdfa_status == "2B"
    # A letter made after the batch was printed is not in it, nor marked with it.
    third = _issue_for(client, db, world, _without_email(db, world, last_name="Myohainen"))
    tomorrow = clock.today() + dt.timedelta(days=1)
    refused = post_form(client, "/vouchers/post-room",
                        {"posted_on": tomorrow.isoformat(), "delivery_id": ids},
                        form_page="/vouchers/post-room")
    assert refused.status_code == 422
    assert _delivery(db, first).sent_on is None
    today = clock.today()
    response = post_form(client, "/vouchers/post-room",
                         {"posted_on": today.isoformat(), "delivery_id": ids},
                         form_page="/vouchers/post-room")
    assert response.status_code == 303
    for voucher in (first, second):
        assert (_delivery(db, voucher).sent_on, _delivery(db, voucher).received_on) == (
            today, today + dt.timedelta(days=7))
    assert _delivery(db, third).sent_on is None
    letter = client.get(f"/vouchers/{first.id}/letter").get_data(as_text=True)
    received = today + dt.timedelta(days=7)
    assert (f"Tämä päätös postitettiin {today:%-d.%-m.%Y}. Se katsotaan saaduksi tiedoksi "
            f"{received:%-d.%-m.%Y}") in letter  # the letter is in the client's language
    client.get("/language/en")
    detail = client.get(f"/vouchers/{first.id}").get_data(as_text=True)
    assert f"{today + dt.timedelta(days=37):%-d %b %Y}" in detail  # the review's last day


def test_another_municipality_s_letters_are_not_in_the_queue(client, auth, db, world):
    auth.login(world.case_manager.email, factories.PASSWORD)
    voucher = _issue_for(client, db, world, _without_email(db, world, last_name="Postinen"))
    delivery_id = _delivery(db, voucher).id
    auth.logout()
    auth.login(world.other_case_manager.email, factories.PASSWORD)
    assert "Postinen" not in client.get("/vouchers/post-room").get_data(as_text=True)
    assert client.get(f"/vouchers/post-room/batch.pdf?id={delivery_id}").status_code == 404
    response = post_form(client, "/vouchers/post-room",
                         {"posted_on": clock.today().isoformat(), "delivery_id": [delivery_id]},
                         form_page="/vouchers/post-room")
    assert response.status_code == 422
    assert _delivery(db, voucher).sent_on is None
