"""The client's portal: vouchers with what is left, provider, service events and self-shares;
and "your self-share" on a provider's public page."""

import datetime as dt

from flask import render_template_string
from flask_login import login_user, logout_user

from tests import factories
from voucher.vouchers.models import Recurrence


def test_my_vouchers_show_what_is_left_provider_and_self_shares(client, auth, db, world):
    voucher = factories.voucher(db, holder=world.client, service=world.income,
                                assigned_to=world.provider, unit_value_cents=2225, units=800,
                                recurrence=Recurrence.MONTHLY, valid_from=dt.date(2026, 11, 1),
                                valid_until=dt.date(2027, 4, 30))
    factories.redemption(db, voucher, day=dt.date(2026, 11, 10), units=200)  # 39 € price
    db.commit()
    auth.login(world.client_user.email, factories.PASSWORD)
    listing = client.get("/vouchers/mine").get_data(as_text=True).replace("\xa0", " ")
    assert "46 / 48" in listing  # units left of all granted
    assert "6 / 8" in listing  # left this month
    assert "1 023,50 €" in listing  # 46 h × 22,25 €
    assert "Hoivapalvelu Aurinko Oy" in listing
    page = client.get(f"/vouchers/mine/{voucher.id}").get_data(as_text=True).replace("\xa0",
                                                                                     " ")
    assert "10.11.2026" in page and "33,50 €" in page  # (39,00 − 22,25) × 2 h
    assert "44,50 €" in page  # the voucher's share


def test_a_client_without_vouchers_is_told_what_happens(client, auth, world):
    auth.login(world.client_user.email, factories.PASSWORD)
    page = client.get("/vouchers/mine").get_data(as_text=True)
    assert "Sinulla ei ole vielä palveluseteleitä." in page


def test_drafts_and_decisions_waiting_for_approval_are_not_shown_to_the_client(
        client, auth, db, world):
    pending = factories.voucher(db, holder=world.client, service=world.fixed)
    pending.status, pending.issued_at = factories.VoucherStatus.PENDING_APPROVAL, None
    db.commit()
    auth.login(world.client_user.email, factories.PASSWORD)
    assert client.get(f"/vouchers/mine/{pending.id}").status_code == 404


def test_your_self_share_on_a_providers_page(app, db, world):
    factories.voucher(db, holder=world.client, service=world.income, unit_value_cents=2225,
                      units=2000)
    db.commit()
    template = '{% include "vouchers/_your_self_share.html" %}'
    with app.test_request_context():
        login_user(world.client_user)
        html = render_template_string(template, provider=world.provider).replace("\xa0", " ")
    assert "16,75 €" in html and "335,00 €" in html  # (39,00 − 22,25) × 20 h
    with app.test_request_context():
        logout_user()  # anyone else sees nothing
        assert render_template_string(template, provider=world.provider).strip() == ""
