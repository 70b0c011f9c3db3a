"""Where each role stands, for its home page: the figures come from the same query functions
as the pages where the work is done, so the home page and those pages always agree."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import Role, User
from voucher.feedback.services import unrated_by_voucher
from voucher.invoicing import queries as invoice_queries
from voucher.payments.services import DueGroup, due_self_shares
from voucher.providers import expiry, review, supervision
from voucher.providers.models import Provider
from voucher.reports.budget_use import budget_use
from voucher.reports.figures import Scope
from voucher.reviews import services as review_services
from voucher.settlement.planning import SettlementPreview, preview_settlement
from voucher.vouchers import delivery
from voucher.vouchers import queries as voucher_queries
from voucher.vouchers.models import VoucherStatus
from voucher.vouchers.portal import ClientOverview, client_overview

#: How many of the provider's latest invoices the home page lists.
LATEST_INVOICES = 5


class NextStep(enum.StrEnum):
    """The one thing a client's voucher asks of them next, most urgent first."""

    CHOOSE_PROVIDER = "choose_provider"
    WAIT_FOR_ANSWER = "wait_for_answer"
    PAY = "pay"
    GIVE_FEEDBACK = "give_feedback"
    NOTHING = "nothing"


@dataclass
class ClientVoucher:
    """A voucher on the client's home page: what is left, what is due, what to do next."""

    overview: ClientOverview
    due_cents: int = 0
    #: The earliest last day to pay a due self-share online (None: not invoiced yet).
    pay_by: dt.date | None = None
    unrated: int = 0

    @property
    def voucher(self):
        return self.overview.voucher

    @property
    def next_step(self) -> NextStep:
        overview = self.overview
        if overview.waiting:
            return NextStep.WAIT_FOR_ANSWER
        if overview.can_choose and not self.voucher.provider:
            return NextStep.CHOOSE_PROVIDER
        if self.due_cents:
            return NextStep.PAY
        if self.unrated:
            return NextStep.GIVE_FEEDBACK
        return NextStep.NOTHING


def client_vouchers(overviews: list[ClientOverview], due: list[DueGroup],
                    unrated: dict[int, int]) -> list[ClientVoucher]:
    """Each voucher with its self-shares due (those not already being paid) and the services
    it has that the client has not rated."""
    found = {o.voucher.id: ClientVoucher(o, unrated=unrated.get(o.voucher.id, 0))
             for o in overviews}
    for group in due:
        if group.pending_payment_id:
            continue
        for event in group.events:
            entry = found.get(event.voucher_id)
            if entry is None:
                continue
            entry.due_cents += event.client_pays_cents
            if group.pay_by and (entry.pay_by is None or group.pay_by < entry.pay_by):
                entry.pay_by = group.pay_by
    return list(found.values())


@dataclass
class Standing:
    """What the home page shows; the template picks what its role has."""

    #: administrator
    applications: int = 0
    providers_to_follow_up: int = 0
    invoices_to_approve: int = 0
    next_settlement: SettlementPreview | None = None
    budgets_over_forecast: list = field(default_factory=list)
    #: case manager
    awaiting_my_approval: int = 0
    my_unfinished: int = 0
    ending_soon: int = 0
    without_provider: int = 0
    nearly_used: int = 0
    waiting_for_provider: int = 0
    letters_to_post: int = 0
    reviews_waiting: int = 0
    #: provider
    client_requests: int = 0
    months_to_invoice: list = field(default_factory=list)
    latest_invoices: list = field(default_factory=list)
    invoice_count: int = 0
    to_renew: list = field(default_factory=list)
    #: client
    vouchers: list = field(default_factory=list)
    self_shares_due: list = field(default_factory=list)


def standing_of(session: Session, user: User, *, pay_days: int = 0) -> Standing:
    """The figures of the user's role (``pay_days``: the client's time to pay online)."""
    standing = Standing()
    if user.role == Role.ADMIN:
        standing.applications = len(review.review_queue(session))
        standing.providers_to_follow_up = len(supervision.flagged_providers(session))
        standing.invoices_to_approve = invoice_queries.count_waiting(session)
        standing.next_settlement = preview_settlement(session)
        today = clock.today()
        standing.budgets_over_forecast = [
            use for use in budget_use(session, year=today.year, scope=Scope(None), today=today)
            if use.over_budget]
    elif user.role == Role.CASE_MANAGER:
        standing.awaiting_my_approval = len(voucher_queries.awaiting_approval_by(session, user))
        standing.my_unfinished = len(voucher_queries.decisions_in_progress(session, user))
        def following(follow: voucher_queries.FollowUp) -> int:
            return voucher_queries.count_staff_vouchers(session, user, follow=follow)

        standing.ending_soon = following(voucher_queries.FollowUp.ENDING_SOON)
        standing.nearly_used = following(voucher_queries.FollowUp.NEARLY_USED)
        standing.waiting_for_provider = following(voucher_queries.FollowUp.WAITING_FOR_PROVIDER)
        standing.without_provider = voucher_queries.count_staff_vouchers(
            session, user, status=VoucherStatus.ISSUED)
        standing.letters_to_post = delivery.count_post_queue(session, user)
        standing.reviews_waiting = review_services.count_open(session, user)
    elif user.role == Role.PROVIDER and user.provider_id is not None:
        standing.client_requests = len(voucher_queries.provider_requests(session,
                                                                         user.provider_id))
        standing.months_to_invoice = invoice_queries.months_to_invoice(
            session, provider_id=user.provider_id, today=clock.today())
        standing.latest_invoices, standing.invoice_count = invoice_queries.provider_invoices(
            session, provider_id=user.provider_id, per_page=LATEST_INVOICES, with_payments=True)
        standing.to_renew = expiry.items_to_renew(session.get(Provider, user.provider_id),
                                                  clock.today())
    elif user.role == Role.CLIENT and user.client_id is not None:
        standing.self_shares_due = due_self_shares(session, user.client_id, pay_days=pay_days)
        standing.vouchers = client_vouchers(
            [client_overview(session, v) for v in voucher_queries.client_vouchers(session, user)],
            standing.self_shares_due, unrated_by_voucher(session, client_id=user.client_id))
    return standing
