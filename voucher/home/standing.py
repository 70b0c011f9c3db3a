"""Where each role stands, for its home page: the figures come from the same query functions
as the pages where the work is done, so the home page and those pages always agree."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import Role, User
from voucher.invoicing import queries as invoice_queries
from voucher.payments.services import due_self_shares
from voucher.providers import review, supervision
from voucher.vouchers import queries as voucher_queries
from voucher.vouchers.models import VoucherStatus
from voucher.vouchers.portal import client_overview

#: How many of the provider's latest invoices the home page lists.
LATEST_INVOICES = 5


@dataclass
class Standing:
    """What the home page shows; the template picks what its role has."""

    #: administrator
    applications: int = 0
    providers_to_follow_up: int = 0
    invoices_to_approve: int = 0
    #: case manager
    awaiting_my_approval: int = 0
    my_unfinished: int = 0
    ending_soon: int = 0
    without_provider: int = 0
    #: provider
    client_requests: int = 0
    months_to_invoice: list = field(default_factory=list)
    latest_invoices: list = field(default_factory=list)
    invoice_count: int = 0
    #: client
    vouchers: list = field(default_factory=list)
    self_shares_due: list = field(default_factory=list)


def standing_of(session: Session, user: User) -> Standing:
    """The figures of the user's role."""
    standing = Standing()
    if user.role == Role.ADMIN:
        standing.applications = len(review.review_queue(session))
        standing.providers_to_follow_up = len(supervision.flagged_providers(session))
        standing.invoices_to_approve = invoice_queries.count_waiting(session)
    elif user.role == Role.CASE_MANAGER:
        standing.awaiting_my_approval = len(voucher_queries.awaiting_approval_by(session, user))
        standing.my_unfinished = len(voucher_queries.decisions_in_progress(session, user))
        standing.ending_soon = voucher_queries.find_staff_vouchers(
            session, user, ending_by=voucher_queries.ending_soon_by(clock.today())).total
        standing.without_provider = voucher_queries.find_staff_vouchers(
            session, user, status=VoucherStatus.ISSUED).total
    elif user.role == Role.PROVIDER and user.provider_id is not None:
        standing.client_requests = len(voucher_queries.provider_requests(session,
                                                                         user.provider_id))
        standing.months_to_invoice = invoice_queries.months_to_invoice(
            session, provider_id=user.provider_id, today=clock.today())
        standing.latest_invoices, standing.invoice_count = invoice_queries.provider_invoices(
            session, provider_id=user.provider_id, per_page=LATEST_INVOICES)
    elif user.role == Role.CLIENT and user.client_id is not None:
        standing.vouchers = [client_overview(session, v)
                             for v in voucher_queries.client_vouchers(session, user)]
        standing.self_shares_due = due_self_shares(session, user.client_id)
    return standing
