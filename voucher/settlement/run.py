"""The settlement run: approved invoices become budget spending and one payment batch.

One service function, used by the admin page and the CLI. Everything happens in the caller's
transaction, so a failure anywhere leaves nothing half-settled and the next run does the whole
work again. Runs are serialised (a transaction-level advisory lock on PostgreSQL; SQLite's
write lock otherwise): a second run started at the same time waits, then finds nothing left to
pay. The work is set-based: a handful of statements over all lines, whatever their number.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounting import dimensions
from voucher.audit.services import Actor, record_event
from voucher.budgets import ledger
from voucher.budgets.models import Budget, BudgetEntry, EntryKind
from voucher.errors import DomainError
from voucher.i18n import format_date
from voucher.invoicing.models import Invoice, InvoiceLine, InvoiceStatus
from voucher.payments import payouts
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.settlement import postings, queries
from voucher.settlement.models import BatchStatus, Payment, PaymentBatch
from voucher.settlement.planning import HeldInvoice, SettlementPlan, plan_settlement
from voucher.settlement.sepa import (
    DEFAULT_FORMAT,
    Address,
    CreditTransfer,
    build_payment_file,
    describe_failure,
    next_banking_day,
    rejected_transfers,
)
from voucher.vouchers.models import CLOSED_STATUSES, Voucher

#: Key of the PostgreSQL advisory lock that lets one settlement run at a time.
RUN_LOCK_KEY = 7_201_006
#: A voucher closed this long before the previous batch was already looked at by it.
_CLOSED_MARGIN = dt.timedelta(days=1)


class SettlementFailed(DomainError):
    code = "settlement_failed"
    status = 409
    message = _l("Settlement was stopped and nothing was changed: %(reason)s")


@dataclass
class SettlementResult:
    batch: PaymentBatch | None
    held: list[HeldInvoice] = field(default_factory=list)
    released_cents: int = 0


@dataclass(frozen=True)
class Payer:
    """The authority's account the payments are made from, its address, and the file format
    its bank takes (config AUTHORITY_*, PAYMENT_FILE_FORMAT)."""

    name: str
    iban: str
    bic: str | None
    address: Address | None = None
    file_format: str = DEFAULT_FORMAT

    @classmethod
    def from_config(cls, config) -> Payer:
        return cls(config["AUTHORITY_NAME"], config["AUTHORITY_IBAN"],
                   config.get("AUTHORITY_BIC") or None,
                   Address(config.get("AUTHORITY_STREET"), config.get("AUTHORITY_POSTCODE"),
                           config.get("AUTHORITY_TOWN"),
                           config.get("AUTHORITY_COUNTRY") or "FI"),
                   config.get("PAYMENT_FILE_FORMAT") or DEFAULT_FORMAT)

    @property
    def structured_addresses(self) -> bool:
        """pain.001.001.09 carries structured addresses, and the banks require them."""
        return self.file_format != "pain.001.001.03"


def settle_approved_invoices(session: Session, *, actor: Actor, payer: Payer,
                             up_to: dt.date | None = None) -> SettlementResult:
    """Pay every approved, unpaid invoice (approved on or before ``up_to``) in one batch.

    Writes one ``spend`` entry per budget (municipality × service type × year of the service
    date) for the voucher shares of the lines, moves commitment between a voucher's years where
    its spending needs it, releases the commitment of closed vouchers that is now known to be
    unused, marks the lines' service events ``settled`` and the invoices ``paid``, and creates
    the batch with one payment per provider (voucher shares plus the self-shares paid online,
    see ``payments.payouts``) and its pain.001 file. Invoices that cannot be
    paid now stay approved and are reported, among them those of a provider whose payment the
    file builder refuses (the file is built first, and the others are paid). Returns no batch
    when nothing can be paid.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(RUN_LOCK_KEY)))
        # Room for the run's hash joins and aggregates over all lines (this transaction only).
        session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
    previous_run = session.execute(sa.select(sa.func.max(PaymentBatch.created_at))).scalar()
    now = clock.now()
    message_id = f"PS{clock.local(now):%Y%m%d%H%M%S}{secrets.token_hex(5).upper()}"
    rejected: dict[int, str] = {}
    if payer.structured_addresses and payer.address is not None and payer.address.missing:
        raise SettlementFailed(reason="the authority's address (VOUCHER_AUTHORITY_STREET, "
                               "_POSTCODE, _TOWN) is incomplete")
    while True:
        plan = plan_settlement(session, up_to=up_to, lock=True, rejected=rejected,
                               require_address=payer.structured_addresses)
        if not plan.payments and not plan.repayments:
            return SettlementResult(batch=None, held=plan.held)
        self_shares = payouts.unsettled_self_shares(
            session, [p.provider_id for p in plan.payments])
        transfers = _transfers(plan, message_id, self_shares)
        payer_fields = dict(message_id=message_id, created_at=now,
                            execution_on=next_banking_day(clock.today()),
                            debtor_name=payer.name, debtor_iban=payer.iban,
                            debtor_bic=payer.bic, debtor_address=payer.address,
                            schema=payer.file_format)
        # The file is built before anything is written: a payment the builder refuses holds
        # its provider's invoices (the plan is made again without them), never the whole run.
        try:
            sepa_xml = build_payment_file(transfers=transfers, **payer_fields)
            break
        except Exception as exc:  # sepaxml and the XML parser raise anything
            problems = rejected_transfers(transfers, **payer_fields)
            if not problems:
                raise SettlementFailed(reason=describe_failure(exc)) from exc
            # Keys: a provider's id, or minus the id of a payment being paid again.
            by_id = {t.end_to_end_id: p.provider_id
                     for t, p in zip(transfers, plan.payments, strict=False)}
            by_id.update({t.end_to_end_id: -r.payment_id for t, r in zip(
                transfers[len(plan.payments):], plan.repayments, strict=True)})
            rejected.update({by_id[key]: problem for key, problem in problems.items()})
    if sum(plan.spend_by_budget.values()) != plan.total_cents:
        raise SettlementFailed(reason="the lines' budgets do not add up to the invoices")
    # Refused before any money moves when the books have no place for it (postings.py).
    refuse_unpostable(session, plan, self_shares)
    _lock_budgets(session, plan)
    total_cents = sum(t.amount_cents for t in transfers)
    batch = PaymentBatch(
        message_id=message_id, up_to=up_to, status=BatchStatus.CREATED, total_cents=total_cents,
        payment_count=len(transfers), execution_on=next_banking_day(clock.today()),
        sepa_xml="", held_invoices=[h.as_json() for h in plan.held],
        file_format=payer.file_format, created_at=now, created_by_user_id=actor.user_id)
    session.add(batch)
    session.flush()
    moved = _move_commitments(session, plan, batch, actor)
    payments = _create_payments(session, plan, batch, self_shares)
    repayments = _create_repayments(session, plan, batch, first=len(payments) + 1)
    _mark_invoices_paid(session, plan, batch, now)
    _refresh_statistics(session, "invoices", "payments")
    _mark_events_settled(session, plan, batch)
    _refresh_statistics(session, "redemptions")
    _record_spending(session, plan, batch, actor, now)
    released = _release_unused(session, batch, actor, now,
                               since=previous_run - _CLOSED_MARGIN if previous_run else None)
    if [(p.end_to_end_id, p.amount_cents, p.iban, p.bic) for p in payments + repayments] != [
            (t.end_to_end_id, t.amount_cents, t.iban.replace(" ", ""), t.bic)
            for t in transfers]:
        raise SettlementFailed(reason="the payments differ from the payment file")
    batch.sepa_xml = sepa_xml
    posting = postings.write_posting_file(session, batch, payer_name=payer.name,
                                          payer_iban=payer.iban)
    for payment, planned in zip(payments, plan.payments, strict=True):
        record_event(session, actor, "payment.created", "payment", payment.id,
                     batch_id=batch.id, provider_id=payment.provider_id,
                     amount_cents=payment.amount_cents,
                     self_share_cents=payment.self_share_cents,
                     invoice_ids=list(planned.invoice_ids))
    for payment in repayments:
        record_event(session, actor, "payment.repaid", "payment", payment.id,
                     batch_id=batch.id, provider_id=payment.provider_id,
                     amount_cents=payment.amount_cents, repays_payment_id=payment.repays_payment_id,
                     iban=payment.iban)
    record_event(session, actor, "settlement.run", "payment_batch", batch.id,
                 up_to=up_to, invoices=plan.invoice_count, lines=plan.line_count,
                 total_cents=batch.total_cents, payments=batch.payment_count,
                 commitment_moves=moved, released_cents=released,
                 posting_lines=posting.line_count, posting_csv_sha256=posting.csv_sha256,
                 posting_json_sha256=posting.json_sha256,
                 repayments=len(repayments), file_format=batch.file_format,
                 held=[{"invoice_id": h.invoice_id, "reason": h.reason} for h in plan.held])
    session.flush()
    return SettlementResult(batch=batch, held=plan.held, released_cents=released)


def missing_accounting(session: Session, plan: SettlementPlan, *, self_shares: bool,
                       language: str | None = None) -> list[dimensions.Missing]:
    """What a run of this plan today could not post: a municipality × service type of its lines
    without accounting dimensions in force today, the authority's bank account (or, with
    self-shares passed on, its clearing account), a provider without a supplier number."""
    pairs = {(m, s) for m, s in session.execute(
        sa.select(Budget.municipality_id, Budget.service_type_id)
        .where(Budget.id.in_(list(plan.spend_by_budget))))}
    return dimensions.missing_for_settlement(
        session, on=clock.today(), pairs=pairs,
        provider_ids=[p.provider_id for p in plan.payments], self_shares=self_shares,
        language=language)


def refuse_unpostable(session: Session, plan: SettlementPlan,
                      self_shares: dict[int, payouts.SelfSharePayout]) -> None:
    """DimensionsMissing, naming each, for what ``missing_accounting`` finds."""
    missing = missing_accounting(session, plan, self_shares=any(
        p.link_ids or p.refund_ids for p in self_shares.values()))
    if missing:
        raise dimensions.DimensionsMissing(
            day=format_date(clock.today()), missing="; ".join(m.describe() for m in missing))


def _self_share(self_shares: dict[int, payouts.SelfSharePayout], provider_id: int) -> int:
    return self_shares[provider_id].net_cents if provider_id in self_shares else 0


def _end_to_end_id(message_id: str, n: int) -> str:
    """The batch's (unique) message id and the payment's number in the batch: unique across
    batches (at most 26 + 6 of the 35 characters), and stored with the payment, so that the
    bank's status reports name exactly one payment."""
    return f"{message_id}-{n:05d}"


def _transfers(plan: SettlementPlan, message_id: str,
               self_shares: dict[int, payouts.SelfSharePayout]) -> list[CreditTransfer]:
    """The plan's payments as they go into the file, numbered as ``_create_payments`` does,
    then the payments paid again."""
    transfers = [CreditTransfer(_end_to_end_id(message_id, n), p.creditor_name,
                                p.iban.replace(" ", ""), p.bic,
                                p.voucher_share_cents + _self_share(self_shares, p.provider_id),
                                p.reference, p.remittance_info, p.address)
                 for n, p in enumerate(plan.payments, start=1)]
    first = len(transfers) + 1
    transfers += [CreditTransfer(_end_to_end_id(message_id, n), r.creditor_name, r.iban, r.bic,
                                 r.amount_cents, r.reference, r.remittance_info, r.address)
                  for n, r in enumerate(plan.repayments, start=first)]
    return transfers


def _create_repayments(session: Session, plan: SettlementPlan, batch: PaymentBatch,
                       first: int) -> list[Payment]:
    """The rejected or returned payments paid again: same amounts and invoices (which stay
    linked to the payment they were settled with), the provider's account as it is now."""
    repayments = [Payment(batch_id=batch.id, provider_id=r.provider_id,
                          amount_cents=r.amount_cents, voucher_share_cents=r.voucher_share_cents,
                          self_share_cents=r.self_share_cents, creditor_name=r.creditor_name,
                          iban=r.iban, bic=r.bic, reference=r.reference,
                          remittance_info=r.remittance_info, repays_payment_id=r.payment_id,
                          end_to_end_id=_end_to_end_id(batch.message_id, n))
                  for n, r in enumerate(plan.repayments, start=first)]
    session.add_all(repayments)
    session.flush()
    return repayments


def _lock_budgets(session: Session, plan: SettlementPlan) -> None:
    """Lock the budgets the run touches, in id order, so that it cannot deadlock with issuing
    (which updates the same rows one or two at a time)."""
    ids = set(plan.spend_by_budget)
    ids.update(m.to_budget_id for m in plan.moves)
    ids.update(m.from_budget_id for m in plan.moves if m.from_budget_id)
    session.execute(sa.select(Budget.id).where(Budget.id.in_(sorted(ids)))
                    .order_by(Budget.id).with_for_update()).all()


def _move_commitments(session: Session, plan: SettlementPlan, batch: PaymentBatch,
                      actor: Actor) -> int:
    """Year transfers (release there, commit here) and rounding top-ups, through the ledger's
    guarded updates; the entries name the batch."""
    entry_ids = []
    for move in plan.moves:
        try:
            if move.from_budget_id:
                entry_ids.append(ledger.release(
                    session, session.get(Budget, move.from_budget_id), move.amount_cents,
                    voucher_id=move.voucher_id, reason=move.reason, user_id=actor.user_id).id)
            entry_ids.append(ledger.commit(
                session, session.get(Budget, move.to_budget_id), move.amount_cents,
                voucher_id=move.voucher_id, reason=move.reason, user_id=actor.user_id).id)
        except (ledger.BudgetExceeded, ledger.ReleaseExceedsCommitment) as exc:
            raise SettlementFailed(reason=str(exc)) from exc
    if entry_ids:
        session.execute(sa.update(BudgetEntry).where(BudgetEntry.id.in_(entry_ids))
                        .values(payment_batch_id=batch.id)
                        .execution_options(synchronize_session=False))
    return len(plan.moves)


def _create_payments(session: Session, plan: SettlementPlan, batch: PaymentBatch,
                     self_shares: dict[int, payouts.SelfSharePayout]) -> list[Payment]:
    """One payment per provider: the voucher shares of its invoices plus the self-shares its
    clients paid online (net of refunds) since its last payment."""
    payments = [Payment(batch_id=batch.id, provider_id=p.provider_id,
                        amount_cents=p.voucher_share_cents + _self_share(self_shares,
                                                                         p.provider_id),
                        voucher_share_cents=p.voucher_share_cents,
                        self_share_cents=_self_share(self_shares, p.provider_id),
                        creditor_name=p.creditor_name, iban=p.iban.replace(" ", ""), bic=p.bic,
                        reference=p.reference, remittance_info=p.remittance_info,
                        end_to_end_id=_end_to_end_id(batch.message_id, n))
                for n, p in enumerate(plan.payments, start=1)]
    session.add_all(payments)
    session.flush()
    for payment in payments:
        if payment.provider_id in self_shares:
            payouts.claim_for_payment(session, self_shares[payment.provider_id], payment.id)
    return payments


def _mark_invoices_paid(session: Session, plan: SettlementPlan, batch: PaymentBatch,
                        now: dt.datetime) -> None:
    """Each invoice of the run names its provider's payment and becomes paid (one UPDATE …
    FROM payments)."""
    marked = session.execute(
        sa.update(Invoice)
        .where(Payment.batch_id == batch.id, Payment.provider_id == Invoice.provider_id,
               Invoice.id.in_(plan.invoice_ids()))
        .values(status=InvoiceStatus.PAID, paid_at=now, payment_id=Payment.id)
        .execution_options(synchronize_session=False)).rowcount
    if marked != plan.invoice_count:
        raise SettlementFailed(reason=f"{marked} invoices changed, {plan.invoice_count} planned")


def _mark_events_settled(session: Session, plan: SettlementPlan, batch: PaymentBatch) -> None:
    """The lines' service events become settled. Written as ``id IN (the batch's lines)`` so
    that PostgreSQL walks the events in table order (a hash semi-join), which keeps a million
    updates to a few hundred thousand page writes."""
    lines = sa.select(InvoiceLine.redemption_id).where(
        InvoiceLine.invoice_id.in_(queries.batch_invoice_ids(batch.id)))
    settled = session.execute(
        sa.update(Redemption)
        .where(Redemption.id.in_(lines), Redemption.status == RedemptionStatus.INVOICED)
        .values(status=RedemptionStatus.SETTLED)
        .execution_options(synchronize_session=False)).rowcount
    if settled != plan.line_count:
        raise SettlementFailed(reason=f"{settled} service events settled, {plan.line_count} "
                                      "lines planned")


def _refresh_statistics(session: Session, *tables: str) -> None:
    """After changing most of a table, PostgreSQL plans the next statements with statistics
    that include this transaction's own changes (ANALYZE counts them); otherwise it believes,
    say, that no event is settled yet and picks nested loops that take minutes over a million
    lines."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text(f"ANALYZE {', '.join(tables)}"))


def _record_spending(session: Session, plan: SettlementPlan, batch: PaymentBatch,
                     actor: Actor, now: dt.datetime) -> None:
    """One spend entry per budget, then the budgets' running totals from those entries (the
    budgets' check constraints refuse spending beyond the commitment)."""
    entries = [{"budget_id": budget_id, "kind": EntryKind.SPEND, "amount_cents": amount,
                "payment_batch_id": batch.id, "reason": "settled", "created_at": now,
                "created_by_user_id": actor.user_id}
               for budget_id, amount in sorted(plan.spend_by_budget.items()) if amount]
    if entries:
        session.execute(sa.insert(BudgetEntry), entries)
    _add_entries_to_totals(session, batch, EntryKind.SPEND, Budget.spent_cents)


def _add_entries_to_totals(session: Session, batch: PaymentBatch, kind: EntryKind, total,
                           reason: str | None = None) -> None:
    condition = sa.and_(BudgetEntry.payment_batch_id == batch.id, BudgetEntry.kind == kind,
                        *([BudgetEntry.reason == reason] if reason else []))
    added = (sa.select(sa.func.sum(BudgetEntry.amount_cents))
             .where(condition, BudgetEntry.budget_id == Budget.id).scalar_subquery())
    try:
        session.execute(
            sa.update(Budget)
            .where(Budget.id.in_(sa.select(BudgetEntry.budget_id).where(condition)))
            .values({total.key: total + added})
            .execution_options(synchronize_session=False))
    except sa.exc.IntegrityError as exc:
        raise SettlementFailed(reason=f"a budget's {kind.value} total would break its limits"
                               ) from exc


def _release_unused(session: Session, batch: PaymentBatch, actor: Actor, now: dt.datetime,
                    since: dt.datetime | None) -> int:
    """Release, per voucher and budget, the commitment that closed vouchers (exhausted,
    expired, cancelled) will never use: what is left after their settled spending, once no
    service event of theirs waits to be invoiced or settled.

    Looks at the vouchers of this batch and at vouchers closed (or whose events were voided)
    since the previous batch; older ones were looked at by earlier batches. The entries name
    the batch, so a run that pays nothing releases nothing: the next one does."""
    in_batch = (sa.select(Redemption.voucher_id)
                .join(InvoiceLine, InvoiceLine.redemption_id == Redemption.id)
                .where(InvoiceLine.invoice_id.in_(queries.batch_invoice_ids(batch.id))))
    touched = [Voucher.id.in_(in_batch)]
    if since is not None:
        touched += [sa.func.coalesce(Voucher.closed_at, Voucher.cancelled_at) >= since,
                    Voucher.id.in_(sa.select(Redemption.voucher_id)
                                   .where(Redemption.voided_at >= since))]
    waiting = sa.select(Redemption.id).where(
        Redemption.voucher_id == Voucher.id,
        Redemption.status.in_([RedemptionStatus.RECORDED, RedemptionStatus.INVOICED]))
    candidates = sa.select(Voucher.id).where(Voucher.status.in_(CLOSED_STATUSES),
                                             sa.or_(*touched), ~sa.exists(waiting))
    opened = (sa.select(BudgetEntry.voucher_id.label("voucher_id"),
                        BudgetEntry.budget_id.label("budget_id"),
                        sa.func.sum(queries.signed_commitment()).label("amount"))
              .where(BudgetEntry.kind.in_([EntryKind.COMMIT, EntryKind.RELEASE]),
                     BudgetEntry.voucher_id.in_(candidates))
              .group_by(BudgetEntry.voucher_id, BudgetEntry.budget_id)).cte("open_commitment")
    spent = (queries.join_paying_budget(
        sa.select(Redemption.voucher_id.label("voucher_id"), Budget.id.label("budget_id"),
                  sa.func.sum(Redemption.voucher_pays_cents).label("amount")),
        Redemption.service_date)
             .where(Redemption.status == RedemptionStatus.SETTLED,
                    Redemption.voucher_id.in_(candidates))
             .group_by(Redemption.voucher_id, Budget.id)).cte("settled_spend")
    unused = opened.c.amount - sa.func.coalesce(spent.c.amount, 0)
    select = (sa.select(opened.c.budget_id, sa.literal(EntryKind.RELEASE.value), unused,
                        opened.c.voucher_id, sa.literal(batch.id), sa.literal("unused"),
                        sa.literal(now, BudgetEntry.created_at.type),
                        sa.literal(actor.user_id, sa.Integer))
              .outerjoin(spent, sa.and_(spent.c.voucher_id == opened.c.voucher_id,
                                        spent.c.budget_id == opened.c.budget_id))
              .where(unused > 0))
    session.execute(sa.insert(BudgetEntry).from_select(
        ["budget_id", "kind", "amount_cents", "voucher_id", "payment_batch_id", "reason",
         "created_at", "created_by_user_id"], select))
    _add_entries_to_totals(session, batch, EntryKind.RELEASE, Budget.released_cents, "unused")
    return int(session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(BudgetEntry.amount_cents), 0))
        .where(BudgetEntry.payment_batch_id == batch.id, BudgetEntry.kind == EntryKind.RELEASE,
               BudgetEntry.reason == "unused")).scalar())
