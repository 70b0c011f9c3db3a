"""The home pages tell each role where it stands, with the figures of the pages where the work
is done (the same query functions), each a link to that page."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from voucher import clock
from voucher.accounts.models import User
from voucher.invoicing import queries as invoice_queries
from voucher.payments.services import due_self_shares
from voucher.providers import review
from voucher.vouchers import queries as voucher_queries
from voucher.vouchers.models import VoucherStatus


def _user(session, email: str) -> User:
    return session.execute(sa.select(User).where(User.email == email)).scalar_one()


def _figure(html: str, href: str) -> int:
    """The figure of the home page's link to ``href``."""
    found = re.search(rf'<a href="{re.escape(href)}"><strong class="standing__count">(\d+)'
                      r'</strong>', html)
    assert found, f"no figure linking to {href}"
    return int(found.group(1))


def test_the_administrator_sees_applications_and_invoices_waiting(client, auth, demo):
    auth.login("admin@example.fi")
    html = client.get("/").get_data(as_text=True)
    assert _figure(html, "/admin/providers") == len(review.review_queue(demo))
    assert _figure(html, "/admin/invoices") == invoice_queries.count_waiting(demo)
    assert invoice_queries.count_waiting(demo) > 0


def test_the_case_manager_sees_the_approvals_waiting(client, auth, demo):
    auth.login("casemanager@example.fi")
    html = client.get("/").get_data(as_text=True)
    user = _user(demo, "casemanager@example.fi")
    assert _figure(html, "/vouchers/#awaiting") == len(
        voucher_queries.awaiting_approval_by(demo, user))
    assert _figure(html, "/vouchers/#unfinished") == len(
        voucher_queries.decisions_in_progress(demo, user))
    without = voucher_queries.find_staff_vouchers(demo, user, status=VoucherStatus.ISSUED)
    assert _figure(html, "/vouchers/?status=issued") == without.total
    for follow in voucher_queries.FollowUp:
        found = voucher_queries.find_staff_vouchers(demo, user, follow=follow)
        assert _figure(html, f"/vouchers/?follow={follow.value}") == found.total


def test_the_voucher_list_shows_the_vouchers_ending_soon(client, auth, demo):
    """What the case manager's figure counts is what its link lists."""
    user = _user(demo, "casemanager@example.fi")
    today = clock.today()
    ending = voucher_queries.find_staff_vouchers(
        demo, user, follow=voucher_queries.FollowUp.ENDING_SOON).items
    later = voucher_queries.find_staff_vouchers(demo, user, status=VoucherStatus.ASSIGNED).items
    assert ending and later
    assert all(today <= v.valid_until <= today + dt.timedelta(days=30) for v in ending)
    auth.login("casemanager@example.fi")
    html = client.get("/vouchers/?follow=ending-soon").get_data(as_text=True)
    for voucher in ending:
        assert f'href="/vouchers/{voucher.id}"' in html
    for voucher in later:
        if voucher not in ending:
            assert f'href="/vouchers/{voucher.id}"' not in html


def test_the_provider_sees_requests_months_to_invoice_and_invoices(client, auth, demo):
    auth.login("provider@example.fi")
    html = client.get("/").get_data(as_text=True)
    provider_id = _user(demo, "provider@example.fi").provider_id
    assert _figure(html, "/vouchers/provider") == len(
        voucher_queries.provider_requests(demo, provider_id))
    closed = [m for m in invoice_queries.months_to_invoice(
        demo, provider_id=provider_id, today=clock.today()) if m.closed]
    assert _figure(html, "/provider/invoices") == len(closed)
    invoices, _total = invoice_queries.provider_invoices(demo, provider_id=provider_id,
                                                         per_page=5)
    for invoice in invoices:
        assert f'href="/provider/invoices/{invoice.id}"' in html


def test_the_client_sees_vouchers_and_self_shares_due(client, auth, demo):
    auth.login("client@example.fi")
    html = client.get("/").get_data(as_text=True)
    user = _user(demo, "client@example.fi")
    for voucher in voucher_queries.client_vouchers(demo, user):
        assert f'href="/vouchers/mine/{voucher.id}"' in html
    groups = due_self_shares(demo, user.client_id)
    assert groups
    assert html.count('href="/self-shares/"') >= len(groups)
    for group in groups:
        assert group.provider.name in html
