"""The posting file of a payment batch: every euro of the batch on the paying municipality's
accounting dimensions, balanced, for the ERP.

Made once, in the settlement run's transaction, from what the run stored (the invoice lines
each payment pays, the self-shares it passed on and the refunds it recovered) and the
dimensions in force on the batch's date; the CSV and the JSON are stored as bytes
(``PostingFile``), so that every download is the same file. The format is described in the
README ("The posting file").

Lines, per payment (one per provider) and paying municipality:

- ``voucher_share`` (debit): the voucher shares of the invoice lines, on the municipality ×
  service type's dimensions;
- ``correction`` (credit): the correction lines (negative service events) the same way;
- ``self_share`` (debit): self-shares clients paid online, passed on with the payment, on the
  authority's clearing account;
- ``recovery`` (credit): refunds of self-shares already passed on, recovered from the payment,
  on the clearing account;
- ``bank`` (credit; a debit when the municipality's part is negative): the municipality's part
  of the credit transfer, on the authority's bank account;
- ``returned`` (debit, on the bank account): for a payment that pays again one the bank
  rejected or returned, the municipality's part of that payment, which came back (or never
  left): the earlier file credited the bank with it, and the payment again credits it now, so
  the two files together move the bank account once. A repayment spends nothing: its
  invoices were posted as expense with the payment it repays.

Debits equal credits for each municipality, and so in total; each payment's bank lines add up
to its amount, and the expense lines to the batch's spend entries.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounting import dimensions
from voucher.accounting.models import DIMENSION_FIELDS, AuthorityAccount, PostingFile
from voucher.catalogue.models import ServiceType
from voucher.csv_writing import SafeWriter
from voucher.invoicing.models import Invoice, InvoiceLine
from voucher.municipalities.models import Municipality
from voucher.payments.models import OnlinePaymentEvent, OnlineRefund
from voucher.providers.models import Provider
from voucher.redemptions.models import Redemption
from voucher.settlement.models import Payment, PaymentBatch
from voucher.vouchers.models import Voucher

FORMAT_NAME = "voucher-posting-file"
FORMAT_VERSION = 1
#: The kinds of line, and the side an amount of that kind is posted on.
DEBIT_KINDS = ("voucher_share", "self_share")
CREDIT_KINDS = ("correction", "recovery")
KINDS = ("voucher_share", "correction", "self_share", "recovery", "bank", "returned")
#: The CSV's columns, in order (amounts in euros with a decimal point).
CSV_COLUMNS = ("line", "posting_date", "batch", "payment", "kind", "municipality", "service",
               *DIMENSION_FIELDS, "supplier_number", "provider_business_id", "provider_name",
               "invoices", "debit", "credit")


def posting_date(batch: PaymentBatch) -> dt.date:
    """The day whose dimensions a batch posts with: its creation day in Finland."""
    return clock.local(batch.created_at).date()


def _by_payment(session: Session, query, batch_id: int) -> dict:
    """(payment id, municipality id, service type id, correction?) → cents."""
    return {tuple(row[:-1]): int(row[-1]) for row in session.execute(query)}


def batch_amounts(session: Session, batch_id: int):
    """What each payment of a batch carries per municipality and service type: the voucher
    shares (events and corrections apart), the self-shares passed on and the refunds
    recovered. Keys (payment id, municipality id, service type id, kind) → cents > 0."""
    payments = sa.select(Payment.id).where(Payment.batch_id == batch_id)
    amounts: dict[tuple[int, int, int, str], int] = {}
    correction = Redemption.corrects_id.is_not(None)
    for payment_id, municipality_id, service_type_id, is_correction, cents in session.execute(
            sa.select(Invoice.payment_id, Voucher.municipality_id, Voucher.service_type_id,
                      correction, sa.func.sum(InvoiceLine.voucher_pays_cents))
            .select_from(InvoiceLine)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .join(Redemption, Redemption.id == InvoiceLine.redemption_id)
            .join(Voucher, Voucher.id == Redemption.voucher_id)
            .where(Invoice.payment_id.in_(payments))
            .group_by(Invoice.payment_id, Voucher.municipality_id, Voucher.service_type_id,
                      correction)):
        kind = "correction" if is_correction else "voucher_share"
        key = (payment_id, municipality_id, service_type_id, kind)
        amounts[key] = amounts.get(key, 0) + abs(int(cents))
    for model, kind in ((OnlinePaymentEvent, "self_share"), (OnlineRefund, "recovery")):
        for payment_id, municipality_id, service_type_id, cents in session.execute(
                sa.select(model.payout_id, Voucher.municipality_id, Voucher.service_type_id,
                          sa.func.sum(model.amount_cents))
                .join(Redemption, Redemption.id == model.redemption_id)
                .join(Voucher, Voucher.id == Redemption.voucher_id)
                .where(model.payout_id.in_(payments))
                .group_by(model.payout_id, Voucher.municipality_id,
                          Voucher.service_type_id)):
            amounts[(payment_id, municipality_id, service_type_id, kind)] = int(cents)
    return {key: cents for key, cents in amounts.items() if cents}


def needed_pairs(amounts) -> set[tuple[int, int]]:
    """The municipality × service type pairs whose own dimensions the expense lines use."""
    return {(m, s) for (_p, m, s, kind) in amounts if kind in ("voucher_share", "correction")}


def build_lines(session: Session, batch: PaymentBatch) -> list[dict]:
    """The batch's posting lines (see the module docstring); refuses (DimensionsMissing) when
    any dimension or supplier number in force on the batch's date is missing."""
    on = posting_date(batch)
    amounts = batch_amounts(session, batch.id)
    payments = {p.id: p for p in session.execute(
        sa.select(Payment).where(Payment.batch_id == batch.id)).scalars()}
    has_self_shares = any(kind in ("self_share", "recovery") for *_k, kind in amounts)
    dimensions.refuse_if_missing(session, on=on, pairs=needed_pairs(amounts),
                                 provider_ids=[p.provider_id for p in payments.values()],
                                 self_shares=has_self_shares)
    services_in_force = dimensions.service_dimensions_in_force(session, on)
    authority = dimensions.authority_dimensions_in_force(session, on)
    suppliers = dimensions.supplier_numbers_in_force(
        session, on, [p.provider_id for p in payments.values()])
    municipalities = {m.id: m for m in session.execute(sa.select(Municipality)).scalars()}
    services = {s.id: s for s in session.execute(sa.select(ServiceType)).scalars()}
    invoices: dict[int, list[int]] = {}
    for payment_id, number in session.execute(
            sa.select(Invoice.payment_id, Invoice.number)
            .where(Invoice.payment_id.in_(list(payments))).order_by(Invoice.number)):
        invoices.setdefault(payment_id, []).append(number)
    providers = dict(session.execute(sa.select(Provider.id, Provider.business_id).where(
        Provider.id.in_([p.provider_id for p in payments.values()]))).all())
    lines: list[dict] = []

    def add(payment: Payment, kind: str, municipality: Municipality,
            service: ServiceType | None, dims, debit: int, credit: int) -> None:
        lines.append({
            "line": len(lines) + 1, "posting_date": on.isoformat(),
            "batch": batch.message_id, "payment": payment.end_to_end_id, "kind": kind,
            "municipality": municipality.code, "service": service.code if service else None,
            **{name: getattr(dims, name) for name in DIMENSION_FIELDS},
            "supplier_number": suppliers[payment.provider_id],
            "provider_business_id": providers.get(payment.provider_id),
            "provider_name": payment.creditor_name,
            "invoices": " ".join(str(n) for n in invoices.get(payment.id, [])),
            "debit_cents": debit, "credit_cents": credit})

    for payment_id in sorted(payments):
        payment = payments[payment_id]
        if payment.repays_payment_id is not None:
            _add_repayment(session, payment, municipalities, add, authority[AuthorityAccount.BANK])
            continue
        own = {key: cents for key, cents in amounts.items() if key[0] == payment_id}
        for municipality_id in sorted({k[1] for k in own},
                                      key=lambda m: municipalities[m].code):
            municipality = municipalities[municipality_id]
            net = 0
            for service_type_id in sorted({k[2] for k in own if k[1] == municipality_id},
                                          key=lambda s: services[s].code):
                service = services[service_type_id]
                for kind in KINDS[:4]:
                    cents = own.get((payment_id, municipality_id, service_type_id, kind))
                    if not cents:
                        continue
                    dims = (services_in_force[(municipality_id, service_type_id)]
                            if kind in ("voucher_share", "correction")
                            else authority[AuthorityAccount.SELF_SHARES])
                    debit = kind in DEBIT_KINDS
                    add(payment, kind, municipality, service, dims,
                        cents if debit else 0, 0 if debit else cents)
                    net += cents if debit else -cents
            if net:
                add(payment, "bank", municipality, None, authority[AuthorityAccount.BANK],
                    -net if net < 0 else 0, net if net > 0 else 0)
    return lines


def _municipality_parts(amounts, payment_id: int) -> dict[int, int]:
    """A payment's net amount per paying municipality (what its bank lines credit)."""
    parts: dict[int, int] = {}
    for (paid_by, municipality_id, _service, kind), cents in amounts.items():
        if paid_by == payment_id:
            signed = cents if kind in DEBIT_KINDS else -cents
            parts[municipality_id] = parts.get(municipality_id, 0) + signed
    return parts


def _add_repayment(session: Session, payment: Payment, municipalities, add, bank) -> None:
    """A payment again: per municipality of the payment it repays, the ``returned`` debit and
    the ``bank`` credit, both on the bank account."""
    repaid = session.get(Payment, payment.repays_payment_id)
    parts = _municipality_parts(batch_amounts(session, repaid.batch_id), repaid.id)
    for municipality_id in sorted(parts, key=lambda m: municipalities[m].code):
        net = parts[municipality_id]
        if net:
            municipality = municipalities[municipality_id]
            add(payment, "returned", municipality, None, bank,
                net if net > 0 else 0, -net if net < 0 else 0)
            add(payment, "bank", municipality, None, bank,
                -net if net < 0 else 0, net if net > 0 else 0)


def _totals(lines: list[dict]) -> dict:
    by_municipality: dict[str, list[int]] = {}
    for line in lines:
        sums = by_municipality.setdefault(line["municipality"], [0, 0])
        sums[0] += line["debit_cents"]
        sums[1] += line["credit_cents"]
    return {
        "debit_cents": sum(line["debit_cents"] for line in lines),
        "credit_cents": sum(line["credit_cents"] for line in lines),
        "by_municipality": [{"municipality": code, "debit_cents": d, "credit_cents": c}
                            for code, (d, c) in sorted(by_municipality.items())],
    }


def render_json(batch: PaymentBatch, lines: list[dict], *, payer_name: str,
                payer_iban: str) -> bytes:
    """The documented JSON: the batch, the payer, the lines and their totals."""
    document = {
        "format": FORMAT_NAME, "version": FORMAT_VERSION,
        "batch": {"id": batch.id, "message_id": batch.message_id,
                  "posting_date": posting_date(batch).isoformat(),
                  "execution_date": batch.execution_on.isoformat(),
                  "payment_count": batch.payment_count, "total_cents": batch.total_cents,
                  "currency": "EUR"},
        "payer": {"name": payer_name, "iban": payer_iban},
        "lines": lines,
        "totals": _totals(lines),
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _euros(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def render_csv(lines: list[dict]) -> bytes:
    """One row per line under a header of ``CSV_COLUMNS``: UTF-8, comma-separated, euros
    with a decimal point, text that a spreadsheet would run as a formula neutralised."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow([_euros(line["debit_cents"]) if name == "debit"
                         else _euros(line["credit_cents"]) if name == "credit"
                         else line[name] for name in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8")


def write_posting_file(session: Session, batch: PaymentBatch, *, payer_name: str,
                       payer_iban: str) -> PostingFile:
    """Make and store the batch's posting file (once: a batch has one)."""
    lines = build_lines(session, batch)
    debit = sum(line["debit_cents"] for line in lines)
    if debit != sum(line["credit_cents"] for line in lines):
        raise RuntimeError("the posting file does not balance")
    csv_bytes = render_csv(lines)
    json_bytes = render_json(batch, lines, payer_name=payer_name, payer_iban=payer_iban)
    posting = PostingFile(batch_id=batch.id, posted_on=posting_date(batch),
                          csv_content=csv_bytes, json_content=json_bytes,
                          csv_sha256=hashlib.sha256(csv_bytes).hexdigest(),
                          json_sha256=hashlib.sha256(json_bytes).hexdigest(),
                          line_count=len(lines), total_cents=debit)
    session.add(posting)
    session.flush()
    return posting


def find_posting_file(session: Session, batch_id: int) -> PostingFile | None:
    return session.get(PostingFile, batch_id)


def parse_csv(content: bytes) -> list[dict]:
    """A stored CSV back into lines (cents), for the reconciliation."""
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    lines = []
    for row in rows:
        line = {name: (row[name] or None) for name in CSV_COLUMNS
                if name not in ("debit", "credit", "line")}
        for name in CSV_COLUMNS:
            if line.get(name) and line[name].startswith("'"):
                line[name] = line[name][1:]
        line["line"] = int(row["line"])
        line["debit_cents"] = int(Decimal(row["debit"]) * 100)
        line["credit_cents"] = int(Decimal(row["credit"]) * 100)
        lines.append(line)
    return lines
