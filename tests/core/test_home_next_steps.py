"""What the home pages ask of each role next, and by when: each figure and each date comes
from the rule the page doing the work applies."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.core.test_home_standing import _figure, _user
from tests.stripe_fake import stripe_config
from voucher import clock
from voucher.home.standing import NextStep, client_vouchers, standing_of
from voucher.invoicing.models import Invoice, InvoiceLine, InvoiceStatus
from voucher.money import format_cents
from voucher.payments.services import DueGroup
from voucher.providers.models import Provider, ProviderDocument
from voucher.reports.budget_use import budget_use
from voucher.reports.figures import Scope
from voucher.settlement.planning import preview_settlement
from voucher.vouchers import queries as voucher_queries
from voucher.vouchers.models import VoucherPeriod, VoucherStatus
from voucher.vouchers.portal import ClientOverview

PAY_DAYS = 14


@pytest.fixture
def app_config(app_config):
    # Online payment in use (no call reaches Stripe on these pages).
    return {**app_config, **stripe_config("http://127.0.0.1:9"), "SELF_SHARE_PAY_DAYS": PAY_DAYS}


def _in_english(client):
    client.get("/language/en")


def _overview(*, provider=None, waiting=None, status=VoucherStatus.ASSIGNED, voucher_id=1):
    voucher = SimpleNamespace(id=voucher_id, status=status, provider=provider,
                              valid_until=clock.today() + dt.timedelta(days=90))
    return ClientOverview(voucher, waiting, None, None, 0)


def _event(voucher_id: int, cents: int):
    return SimpleNamespace(voucher_id=voucher_id, client_pays_cents=cents)


def test_the_next_step_is_the_most_urgent_one(app):
    provider = SimpleNamespace(name="Aurinko")
    today = clock.today()
    due = [DueGroup(provider, today.replace(day=1), [_event(1, 500), _event(1, 250)],
                    pay_by=today + dt.timedelta(days=3)),
           DueGroup(provider, today.replace(day=1), [_event(1, 100)], pending_payment_id=7)]
    entries = client_vouchers([
        _overview(status=VoucherStatus.ISSUED, voucher_id=9),
        _overview(status=VoucherStatus.ISSUED, waiting=SimpleNamespace(), voucher_id=8),
        _overview(provider=provider, voucher_id=1),
        _overview(provider=provider, voucher_id=2),
        _overview(provider=provider, voucher_id=3),
        _overview(provider=provider, status=VoucherStatus.EXPIRED, voucher_id=4),
    ], due, {1: 2, 2: 1})
    steps = {e.voucher.id: e.next_step for e in entries}
    assert steps == {9: NextStep.CHOOSE_PROVIDER, 8: NextStep.WAIT_FOR_ANSWER,
                     1: NextStep.PAY, 2: NextStep.GIVE_FEEDBACK, 3: NextStep.NOTHING,
                     4: NextStep.NOTHING}
    first = next(e for e in entries if e.voucher.id == 1)
    # What a payment under way already covers is not asked for again.
    assert (first.due_cents, first.pay_by) == (750, today + dt.timedelta(days=3))


def _pay_by_of(session, redemption_id: int) -> dt.date | None:
    created = session.execute(
        sa.select(sa.func.min(Invoice.created_at)).join(InvoiceLine)
        .where(InvoiceLine.redemption_id == redemption_id,
               Invoice.status != InvoiceStatus.REJECTED)).scalar()
    return None if created is None else clock.local(created).date() + dt.timedelta(PAY_DAYS)


def test_the_client_sees_each_month_s_last_day_to_pay(client, auth, demo):
    auth.login("client@example.fi")
    _in_english(client)
    html = client.get("/").get_data(as_text=True)
    user = _user(demo, "client@example.fi")
    standing = standing_of(demo, user, pay_days=PAY_DAYS)
    assert standing.self_shares_due
    seen = set()
    for group in standing.self_shares_due:
        days = {_pay_by_of(demo, e.id) for e in group.events}
        expected = min((d for d in days if d), default=None)
        assert group.pay_by == expected
        if expected is None:
            seen.add("not invoiced")
            assert "you can pay now; the month is not invoiced yet" in html
        elif expected < clock.today():
            seen.add("past")
            assert f"the time to pay online ended on {expected:%-d %b %Y}" in html
        else:
            seen.add("coming")
            assert f"pay by {expected:%-d %b %Y}" in html
    # The demo shows all three.
    assert seen == {"not invoiced", "past", "coming"}
    page = client.get("/self-shares/").get_data(as_text=True)
    coming = next(g.pay_by for g in standing.self_shares_due
                  if g.pay_by and g.pay_by >= clock.today())
    assert f"Pay by {coming:%-d %b %Y}." in page


def test_each_voucher_card_says_what_to_do_next(client, auth, demo):
    auth.login("client@example.fi")
    _in_english(client)
    html = client.get("/").get_data(as_text=True)
    entries = standing_of(demo, _user(demo, "client@example.fi"), pay_days=PAY_DAYS).vouchers
    assert entries
    for entry in entries:
        card = html.split(f'href="/vouchers/mine/{entry.voucher.id}"')[1].split("</li>")[0]
        step = entry.next_step
        if step == NextStep.PAY:
            assert f"Pay {format_cents(entry.due_cents, 'en')}" in card
            assert 'href="/self-shares/"' in card
        elif step == NextStep.GIVE_FEEDBACK:
            assert 'href="/feedback/"' in card
        elif step == NextStep.CHOOSE_PROVIDER:
            assert "Choose a provider" in card
    assert NextStep.PAY in {e.next_step for e in entries}


def test_the_case_manager_s_follow_up_lists_hold_what_their_figures_count(client, auth, demo):
    user = _user(demo, "casemanager@example.fi")
    today = clock.today()
    nearly = voucher_queries.find_staff_vouchers(
        demo, user, follow=voucher_queries.FollowUp.NEARLY_USED, page=1).items
    assert nearly
    for voucher in nearly:
        period = demo.execute(sa.select(VoucherPeriod).where(
            VoucherPeriod.voucher_id == voucher.id, VoucherPeriod.starts_on <= today,
            VoucherPeriod.ends_on >= today)).scalar_one()
        assert 100 * period.units_used >= voucher_queries.NEARLY_USED_PERCENT * \
            period.units_granted
    waiting = voucher_queries.find_staff_vouchers(
        demo, user, follow=voucher_queries.FollowUp.WAITING_FOR_PROVIDER).items
    assert waiting and all(v.provider_id is None for v in waiting)
    auth.login("casemanager@example.fi")
    _in_english(client)
    for follow, shown in ((voucher_queries.FollowUp.NEARLY_USED, nearly),
                          (voucher_queries.FollowUp.WAITING_FOR_PROVIDER, waiting)):
        page = client.get(f"/vouchers/?follow={follow.value}").get_data(as_text=True)
        for voucher in shown:
            assert f'href="/vouchers/{voucher.id}"' in page
        assert "Show all vouchers" in page
    home = client.get("/").get_data(as_text=True)
    assert _figure(home, "/vouchers/?follow=waiting-for-provider") == len(waiting)


def test_the_provider_sees_what_to_renew(client, auth, demo):
    provider_id = _user(demo, "provider@example.fi").provider_id
    provider = demo.get(Provider, provider_id)
    today = clock.today()
    provider.insurance_valid_until = today - dt.timedelta(days=1)
    document = demo.execute(sa.select(ProviderDocument).where(
        ProviderDocument.provider_id == provider_id,
        ProviderDocument.removed_at.is_(None))).scalars().first()
    document.valid_until = today + dt.timedelta(days=10)
    demo.commit()
    auth.login("provider@example.fi")
    _in_english(client)
    html = client.get("/").get_data(as_text=True)
    assert _figure(html, "/provider/application/documents") == 2
    expired = today - dt.timedelta(days=1)
    assert f"expired on {expired:%-d %b %Y}" in html
    assert f"valid until {today + dt.timedelta(days=10):%-d %b %Y}" in html


def test_the_administrator_sees_the_next_settlement_and_budgets_running_over(client, auth,
                                                                             demo):
    preview = preview_settlement(demo)
    assert preview.plan.invoice_count > 0
    today = clock.today()
    uses = budget_use(demo, year=today.year, scope=Scope(None), today=today)
    # The budget is cut to what is committed on it (the least the database allows); the
    # forecast of the one that has used the most of its commitment then exceeds it.
    use = max(uses, key=lambda u: u.forecast_cents - (u.budget.committed_cents
                                                      - u.budget.released_cents))
    budget = use.budget
    budget.amount_cents = budget.committed_cents - budget.released_cents
    assert use.forecast_cents > budget.amount_cents
    demo.commit()
    auth.login("admin@example.fi")
    _in_english(client)
    html = client.get("/").get_data(as_text=True)
    assert _figure(html, "/admin/settlement/") == preview.plan.invoice_count
    assert format_cents(preview.total_cents, "en") in html
    assert f'href="/admin/budgets/{budget.id}"' in html
    year = clock.today().year
    assert _figure(html, f"/reports/?year={year}") >= 1
