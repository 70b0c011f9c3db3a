"""Planning a settlement run: which approved invoices can be paid now, which must wait and
why, and how vouchers' commitments must move so that no budget spends what it did not commit.

The plan only reads. The run (``run.py``) computes it under its lock and then carries it out;
the settlement page shows the same plan as a preview.

Rules:
- An invoice is held (left approved and unpaid, reported) when its provider's bank account is
  not valid, when its provider's data cannot be written into the payment file (a control
  character in the name, written before input was cleaned, or anything else the SEPA builder
  refuses: the run finds it and plans again without that provider), when its totals do not
  add up to its lines or a line's service event is not waiting for settlement, or when a
  voucher's spending in a year cannot be covered by its commitment.
- A voucher whose validity crosses a new year committed each year its share. If its spending
  in a year exceeds that year's open commitment, the difference moves from the voucher's other
  years (what they neither spent nor still need for events waiting), as a release there and a
  commitment here (reason ``year_transfer``), if the receiving budget has room. Cents lost to
  rounding each event separately (at most one cent per event) are committed from the budget
  (reason ``rounding``). Anything else is held.
- In a pain.001.001.09 file every creditor needs a structured address: an invoice of a provider
  whose street, postcode or town is missing is held (``incomplete_address``), naming the
  provider, before any file is made.
- A payment the bank rejected or returned (``bank_feedback``) is paid again, as a payment of
  its own with the same invoices and amounts (no new spending), in the first run after the
  provider's verified account has changed from the one it failed on, or after an
  administrator let it go to the same account again (``approve_retry``). Until then it waits
  and is shown with the bank's reason.
- A provider whose invoices in the run add up to nothing or less (credit notes) is held until
  later invoices cover the credit. One payment per provider, to the provider's verified
  account under its legal name as they are at the run (``Provider.iban`` changes only when an
  administrator approves a change, ``providers.bank_accounts``), never to an account that an
  invoice or a pending change names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher.budgets.models import Budget
from voucher.invoicing.models import Invoice
from voucher.invoicing.reference import is_valid_reference
from voucher.money import format_cents
from voucher.payments import payouts
from voucher.providers.models import Provider
from voucher.settlement import queries
from voucher.settlement.models import FAILED, REPAYMENT, Payment
from voucher.settlement.sepa import (
    Address,
    is_valid_account,
    remittance_for,
    unwritable_character,
)
from voucher.vouchers.models import Voucher

#: Why an invoice waits, with the message shown to the administrator.
HOLD_REASONS = {
    "invalid_account": _l("The provider's bank account (%(iban)s %(bic)s) is not valid."),
    "totals_differ": _l("The invoice's totals do not add up to its lines, or some of its "
                        "service events are not waiting for settlement. Check the invoice."),
    "commitment_short": _l("Voucher %(voucher)s lacks %(missing)s of commitment for "
                           "%(year)s, and neither its other years nor the budget can cover "
                           "it."),
    "unwritable_name": _l("The provider's name contains a control character (%(character)s) "
                          "that cannot be written into the payment file. The invoice waits "
                          "until the provider's details are corrected; the others are paid."),
    "payment_file_rejected": _l("The provider's payment could not be written into the payment "
                                "file (%(problem)s). The invoice waits until the provider's "
                                "details are corrected; the others are paid."),
    "incomplete_address": _l("The address of %(provider)s lacks %(missing)s: a pain.001.001.09 "
                             "payment file needs the street, postcode and town of every "
                             "provider. The invoice waits until the provider's details are "
                             "completed; the others are paid."),
    "credit_exceeds": _l("The provider's invoices in this run add up to %(total)s: nothing to "
                         "pay. They wait until later invoices cover the credit."),
}


#: The parts of a structured address, as a message names what is missing.
ADDRESS_PARTS = {"street": _l("street address"), "postcode": _l("postcode"),
                 "town": _l("town")}


def _name_parts(params: dict) -> dict:
    """A message's ``missing`` (address part codes, comma-separated) in the reader's words."""
    if "missing" not in params:
        return params
    parts = [str(ADDRESS_PARTS.get(part, part)) for part in params["missing"].split(", ")]
    return {**params, "missing": ", ".join(parts)}


@dataclass(frozen=True)
class HeldInvoice:
    invoice_id: int
    number: int
    provider: str
    reason: str
    params: dict

    def message(self, language: str = "fi") -> str:
        params = {key: format_cents(value, language) if key.endswith("_cents") else value
                  for key, value in self.params.items()}
        params = {key.removesuffix("_cents"): value for key, value in params.items()}
        return str(HOLD_REASONS[self.reason]) % _name_parts(params)

    def as_json(self) -> dict:
        return {"invoice_id": self.invoice_id, "number": self.number, "provider": self.provider,
                "reason": self.reason, "params": self.params}

    @classmethod
    def from_json(cls, data: dict) -> HeldInvoice:
        return cls(**data)


@dataclass(frozen=True)
class PlannedPayment:
    provider_id: int
    creditor_name: str
    iban: str
    bic: str | None
    invoice_ids: tuple[int, ...]
    invoice_numbers: tuple[int, ...]
    voucher_share_cents: int
    #: The invoice's payment reference when the payment covers a single invoice.
    reference: str | None
    address: Address | None = None

    @property
    def remittance_info(self) -> str:
        return remittance_for(list(self.invoice_numbers))


#: Why a rejected or returned payment is not paid again yet.
WAIT_REASONS = {
    "account_unchanged": _l("Waits for the provider's corrected bank account (the bank "
                            "refused %(iban)s), or for an administrator to let it go to the "
                            "same account again."),
    "invalid_account": _l("The provider's bank account (%(iban)s %(bic)s) is not valid."),
    "incomplete_address": _l("The address of %(provider)s lacks %(missing)s."),
    "unwritable_name": _l("The provider's name contains a control character (%(character)s) "
                          "that cannot be written into the payment file."),
    "payment_file_rejected": _l("The payment could not be written into the payment file "
                                "(%(problem)s)."),
}


@dataclass(frozen=True)
class PlannedRepayment:
    """A rejected or returned payment paid again: the same amounts, to the provider's account
    as it is now."""

    payment_id: int
    provider_id: int
    creditor_name: str
    iban: str
    bic: str | None
    amount_cents: int
    voucher_share_cents: int
    self_share_cents: int
    reference: str | None
    remittance_info: str
    address: Address | None = None


@dataclass(frozen=True)
class WaitingRepayment:
    payment: Payment
    provider_name: str
    reason: str
    params: dict

    def message(self) -> str:
        return str(WAIT_REASONS[self.reason]) % _name_parts(self.params)


@dataclass(frozen=True)
class CommitmentMove:
    """Commitment a voucher moves between budgets (a year transfer) or takes from a budget's
    free money (rounding)."""

    voucher_id: int
    to_budget_id: int
    amount_cents: int
    from_budget_id: int | None = None

    @property
    def reason(self) -> str:
        return "year_transfer" if self.from_budget_id else "rounding"


@dataclass
class SettlementPlan:
    up_to: dt.date | None
    payments: list[PlannedPayment] = field(default_factory=list)
    held: list[HeldInvoice] = field(default_factory=list)
    moves: list[CommitmentMove] = field(default_factory=list)
    #: Budget id → the run's spending from it.
    spend_by_budget: dict[int, int] = field(default_factory=dict)
    line_count: int = 0
    held_ids: frozenset[int] = frozenset()
    #: Rejected or returned payments this run pays again, and those that still wait.
    repayments: list[PlannedRepayment] = field(default_factory=list)
    waiting: list[WaitingRepayment] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(p.voucher_share_cents for p in self.payments)

    @property
    def repayment_cents(self) -> int:
        return sum(r.amount_cents for r in self.repayments)

    @property
    def invoice_count(self) -> int:
        return sum(len(p.invoice_ids) for p in self.payments)

    def invoice_ids(self) -> sa.Select:
        return sa.select(Invoice.id).where(queries.open_invoice_filter(self.up_to, self.held_ids))


def plan_settlement(session: Session, *, up_to: dt.date | None = None,
                    lock: bool = False, rejected: dict[int, str] | None = None,
                    require_address: bool = True) -> SettlementPlan:
    """Plan paying every approved, unpaid invoice (approved on or before ``up_to``).

    ``lock`` locks the invoices (the run holds them until it commits). ``rejected`` (provider
    id → the problem) holds the invoices of providers whose payment the file builder refused
    (the run finds them); a name with a control character is found here already, so that the
    preview shows it too."""
    # The account paid is the provider's verified one (Provider.iban changes only with an
    # approval), never what an invoice or a pending change says.
    query = (sa.select(Invoice.id, Invoice.number, Invoice.provider_id, Invoice.provider_name,
                       Provider.legal_name.label("creditor_name"), Provider.iban.label("iban"),
                       Provider.bic.label("bic"), Invoice.reference,
                       Provider.street_address, Provider.postal_code, Provider.city,
                       Invoice.voucher_total_cents, Invoice.line_count)
             .join(Provider, Provider.id == Invoice.provider_id)
             .where(queries.open_invoice_filter(up_to)).order_by(Invoice.number))
    if lock:
        query = query.with_for_update(of=Invoice)
    invoices = {row.id: row for row in session.execute(query)}
    held: dict[int, HeldInvoice] = {}

    def hold(invoice_id: int, reason: str, **params) -> None:
        if invoice_id not in held:
            row = invoices[invoice_id]
            held[invoice_id] = HeldInvoice(invoice_id, row.number, row.provider_name, reason,
                                           params)

    rejected = rejected or {}
    for row in invoices.values():
        if not is_valid_account(row.iban, row.bic):
            hold(row.id, "invalid_account", iban=row.iban or "", bic=row.bic or "")
        elif (character := unwritable_character(row.creditor_name)) is not None:
            hold(row.id, "unwritable_name", character=character)
        elif require_address and (missing := _address(row).missing):
            hold(row.id, "incomplete_address", provider=row.creditor_name,
                 missing=", ".join(missing))
        elif row.provider_id in rejected:
            hold(row.id, "payment_file_rejected", problem=rejected[row.provider_id])
    plan = SettlementPlan(up_to=up_to)
    if len(held) < len(invoices):
        totals = queries.invoice_line_totals(
            session, sa.select(Invoice.id).where(queries.open_invoice_filter(up_to)))
        for row in invoices.values():
            if totals.get(row.id, (0, 0, 0)) != (row.voucher_total_cents, row.line_count, 0):
                hold(row.id, "totals_differ")
    while True:
        plan.held_ids = frozenset(held)
        before = len(held)
        plan.moves = _cover_commitments(session, plan, hold)
        _hold_credit_providers(invoices, held, hold)
        if len(held) == before:
            break
    plan.held = sorted(held.values(), key=lambda h: h.number)
    plan.payments = _payments(invoices, held)
    plan.repayments, plan.waiting = _repayments(session, lock=lock, rejected=rejected,
                                                require_address=require_address)
    plan.line_count = sum(invoices[i].line_count for p in plan.payments for i in p.invoice_ids)
    if plan.payments:
        plan.spend_by_budget = queries.spend_by_budget(session, plan.invoice_ids())
    return plan


def _cover_commitments(session: Session, plan: SettlementPlan, hold) -> list[CommitmentMove]:
    """The commitment moves the run needs; holds the invoices of what cannot be covered."""
    invoice_ids = plan.invoice_ids()
    shortfalls = queries.commitment_shortfalls(session, invoice_ids)
    moves: list[CommitmentMove] = []
    room: dict[int, int] = {}  # budget id → free money left for this plan's commitments
    for voucher_id in sorted({v for v, _y, _m in shortfalls}):
        voucher = session.get(Voucher, voucher_id)
        budgets = {b.year: b for b in session.execute(sa.select(Budget).where(
            Budget.municipality_id == voucher.municipality_id,
            Budget.service_type_id == voucher.service_type_id)).scalars()}
        for budget in budgets.values():
            room.setdefault(budget.id, budget.free_cents)
        years = queries.voucher_years(session, voucher_id, invoice_ids)
        for year in sorted(years):
            figures = years[year]
            missing = figures["settled"] + figures["new"] - figures["open"]
            if missing <= 0:
                continue
            target = budgets.get(year)
            planned: list[CommitmentMove] = []
            for other in sorted(years, reverse=True):
                spare = years[other]
                surplus = (spare["open"] - spare["settled"] - spare["new"] - spare["pending"])
                take = min(surplus, missing)
                if other == year or take <= 0 or target is None or other not in budgets:
                    continue
                planned.append(CommitmentMove(voucher_id, target.id, take, budgets[other].id))
                missing -= take
            if missing > 0 and target is not None and missing <= figures["events"]:
                planned.append(CommitmentMove(voucher_id, target.id, missing))
                missing = 0
            needed = sum(m.amount_cents for m in planned)
            if missing > 0 or target is None or room.get(target.id, 0) < needed:
                shortfall = figures["settled"] + figures["new"] - figures["open"]
                for invoice_id in queries.invoices_with_voucher_year(
                        session, voucher_id, year, invoice_ids):
                    hold(invoice_id, "commitment_short", voucher=voucher.code, year=year,
                         missing_cents=shortfall)
                continue
            room[target.id] -= needed
            for move in planned:
                years[year]["open"] += move.amount_cents
                if move.from_budget_id:
                    source_year = next(y for y, b in budgets.items() if b.id == move.from_budget_id)
                    years[source_year]["open"] -= move.amount_cents
                    room[move.from_budget_id] += move.amount_cents
            moves.extend(planned)
    return moves


def _hold_credit_providers(invoices: dict, held: dict, hold) -> None:
    totals: dict[int, int] = {}
    for row in invoices.values():
        if row.id not in held:
            totals[row.provider_id] = totals.get(row.provider_id, 0) + row.voucher_total_cents
    for row in invoices.values():
        if row.id not in held and totals[row.provider_id] <= 0:
            hold(row.id, "credit_exceeds", total_cents=totals[row.provider_id])


def _payments(invoices: dict, held: dict) -> list[PlannedPayment]:
    by_provider: dict[int, list] = {}
    for row in invoices.values():  # ordered by invoice number
        if row.id not in held:
            by_provider.setdefault(row.provider_id, []).append(row)
    payments = []
    for provider_id, rows in sorted(by_provider.items()):
        newest = rows[-1]
        single = len(rows) == 1 and is_valid_reference(newest.reference)
        payments.append(PlannedPayment(
            provider_id=provider_id, creditor_name=newest.creditor_name, iban=newest.iban,
            bic=newest.bic or None, invoice_ids=tuple(r.id for r in rows),
            invoice_numbers=tuple(r.number for r in rows),
            voucher_share_cents=sum(r.voucher_total_cents for r in rows),
            reference=newest.reference if single else None, address=_address(newest)))
    return payments


def _address(row) -> Address:
    return Address(row.street_address, row.postal_code, row.city)


def _repayments(session: Session, *, lock: bool, rejected: dict[int, str],
                require_address: bool) -> tuple[list[PlannedRepayment], list[WaitingRepayment]]:
    """Rejected or returned payments not yet paid again: those to pay now, those to wait."""
    query = (sa.select(Payment, Provider).join(Provider, Provider.id == Payment.provider_id)
             .where(Payment.bank_status.in_(FAILED), ~sa.exists(
                 sa.select(REPAYMENT.c.id).where(REPAYMENT.c.repays_payment_id == Payment.id)))
             .order_by(Payment.id))
    if lock:
        query = query.with_for_update(of=Payment)
    planned, waiting = [], []
    for payment, provider in session.execute(query).all():
        address = Address(provider.street_address, provider.postal_code, provider.city)

        def wait(reason, payment=payment, provider=provider, **params):
            waiting.append(WaitingRepayment(payment, provider.legal_name, reason, params))

        if not is_valid_account(provider.iban, provider.bic):
            wait("invalid_account", iban=provider.iban or "", bic=provider.bic or "")
        elif (provider.iban or "").replace(" ", "") == payment.iban and \
                (provider.bic or None) == payment.bic and payment.retry_approved_at is None:
            wait("account_unchanged", iban=payment.iban)
        elif (character := unwritable_character(provider.legal_name)) is not None:
            wait("unwritable_name", character=character)
        elif require_address and address.missing:
            wait("incomplete_address", provider=provider.legal_name,
                 missing=", ".join(address.missing))
        elif -payment.id in rejected:  # the run's key for a repayment the builder refused
            wait("payment_file_rejected", problem=rejected[-payment.id])
        else:
            planned.append(PlannedRepayment(
                payment.id, provider.id, provider.legal_name, provider.iban.replace(" ", ""),
                provider.bic or None, payment.amount_cents, payment.voucher_share_cents,
                payment.self_share_cents, payment.reference, payment.remittance_info, address))
    return planned, waiting


@dataclass
class SettlementPreview:
    """What a run would pay now: the plan, and the self-shares clients paid online that it
    would pass on with each provider's payment."""

    plan: SettlementPlan
    #: Provider id → self-shares to pass on (collected less refunds).
    self_shares: dict[int, int]

    @property
    def total_cents(self) -> int:
        return (self.plan.total_cents + sum(self.self_shares.values())
                + self.plan.repayment_cents)


def preview_settlement(session: Session, *, up_to: dt.date | None = None,
                       require_address: bool = True) -> SettlementPreview:
    """The settlement page's preview and the administrator's home page figure."""
    plan = plan_settlement(session, up_to=up_to, require_address=require_address)
    self_shares = {provider_id: payout.net_cents for provider_id, payout in
                   payouts.unsettled_self_shares(
                       session, [p.provider_id for p in plan.payments]).items()}
    return SettlementPreview(plan, self_shares)
