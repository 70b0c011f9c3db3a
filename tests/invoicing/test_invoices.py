"""Monthly invoices: what goes on them, gap-free numbers, references, decisions."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import factories
from tests.concurrency import run_in_parallel
from voucher.accounts.models import Role
from voucher.audit.services import Actor
from voucher.errors import ValidationFailed
from voucher.invoicing.documents import invoice_pdf
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.invoicing.reference import (
    check_digit,
    format_reference,
    is_valid_reference,
    reference_for_invoice,
)
from voucher.invoicing.services import (
    BankAccountMissing,
    InvoiceAlreadyDecided,
    NothingToInvoice,
    PeriodNotClosed,
    approve_invoice,
    create_invoice,
    parse_period,
    reject_invoice,
)
from voucher.redemptions.corrections import correct_redemption, void_redemption
from voucher.redemptions.models import Redemption, RedemptionStatus

SYSTEM = Actor.system("test")
OCTOBER = dt.date(2026, 10, 1)


@pytest.fixture
def seller(db):
    return factories.provider(db, services={factories.service_type(db): 3900})


@pytest.fixture
def voucher(db, seller):
    return factories.voucher(db, service=factories.service_type(db), assigned_to=seller,
                             valid_from=dt.date(2026, 9, 1), units=5000)


def test_reference_numbers_have_the_7_3_1_check_digit():
    assert check_digit("1234") == 4  # 12344, the textbook example
    assert reference_for_invoice(1) == "10000016"
    assert reference_for_invoice(42) == "10000427"
    assert is_valid_reference("10000427") and not is_valid_reference("10000428")
    assert all(is_valid_reference(reference_for_invoice(n)) for n in range(1, 2000))
    assert format_reference("10000427") == "100 00427"


def test_periods_are_months():
    assert parse_period("2026-10") == OCTOBER
    for bad in ("2026-13", "2026-1", "202610", "", "1999-12"):
        with pytest.raises(ValidationFailed):
            parse_period(bad)


def test_the_invoice_of_a_month(db, seller, voucher):
    first = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 5), units=200)
    second = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 31), units=150,
                                  unit_price_cents=3000)
    factories.service_event(db, voucher, service_date=dt.date(2026, 9, 30))
    november = factories.service_event(db, voucher, service_date=dt.date(2026, 11, 2))
    invoice = factories.monthly_invoice(db, seller)
    assert (invoice.number, invoice.status, invoice.period) == (1, InvoiceStatus.SUBMITTED,
                                                               OCTOBER)
    assert [line.redemption_id for line in invoice.lines] == [first.id, second.id]
    assert invoice.voucher_total_cents == 6400 + 4500 == sum(
        line.voucher_pays_cents for line in invoice.lines)
    assert invoice.client_total_cents == 1400
    assert (invoice.business_id, invoice.iban, invoice.reference) == (
        seller.business_id, seller.iban, "10000016")
    assert invoice.lines[0].voucher_code == voucher.code
    db.expire_all()
    assert db.get(Redemption, first.id).status == RedemptionStatus.INVOICED
    assert db.get(Redemption, november.id).status == RedemptionStatus.RECORDED


def test_a_month_that_has_not_ended_cannot_be_invoiced(db, seller, voucher):
    factories.service_event(db, voucher, service_date=dt.date(2026, 11, 2))
    with pytest.raises(PeriodNotClosed, match="11/2026"):
        create_invoice(db, provider_id=seller.id, period=dt.date(2026, 11, 1), actor=SYSTEM)


def test_nothing_to_invoice(db, seller, voucher):
    event = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 5))
    void_redemption(db, provider_id=seller.id, redemption_id=event.id, actor=SYSTEM)
    with pytest.raises(NothingToInvoice):
        create_invoice(db, provider_id=seller.id, period=OCTOBER, actor=SYSTEM)


def test_an_invoice_needs_the_bank_account(db, seller, voucher):
    factories.service_event(db, voucher, service_date=dt.date(2026, 10, 5))
    seller.iban = None
    with pytest.raises(BankAccountMissing):
        create_invoice(db, provider_id=seller.id, period=OCTOBER, actor=SYSTEM)


def test_a_rolled_back_invoice_gives_its_number_back(db, seller, voucher):
    factories.service_event(db, voucher, service_date=dt.date(2026, 10, 5))
    db.commit()
    assert factories.monthly_invoice(db, seller).number == 1
    db.rollback()
    assert factories.monthly_invoice(db, seller).number == 1


def test_corrections_go_on_the_next_invoice_as_negative_lines(db, seller, voucher):
    event = factories.service_event(db, voucher, service_date=dt.date(2026, 9, 5), units=300)
    september = factories.monthly_invoice(db, seller, period=dt.date(2026, 9, 1))
    approve_invoice(db, invoice_id=september.id, actor=SYSTEM)
    correction, _ = correct_redemption(db, provider_id=seller.id, redemption_id=event.id,
                                       replacement=None, actor=SYSTEM)
    factories.service_event(db, voucher, service_date=dt.date(2026, 10, 5), units=100)
    october = factories.monthly_invoice(db, seller)
    assert october.number == 2
    assert [line.units for line in october.lines] == [100, -300]
    assert october.lines[1].redemption_id == correction.id
    assert october.voucher_total_cents == 3200 - 9600
    assert october.client_total_cents == 700 - 2100


def test_corrections_alone_can_be_invoiced(db, seller, voucher):
    event = factories.service_event(db, voucher, service_date=dt.date(2026, 9, 5))
    september = factories.monthly_invoice(db, seller, period=dt.date(2026, 9, 1))
    approve_invoice(db, invoice_id=september.id, actor=SYSTEM)
    correct_redemption(db, provider_id=seller.id, redemption_id=event.id, replacement=None,
                       actor=SYSTEM)
    october = factories.monthly_invoice(db, seller)
    assert october.line_count == 1 and october.voucher_total_cents == -3200


def test_rejection_returns_the_events_and_the_month_is_invoiced_again(db, seller, voucher,
                                                                      outbox):
    provider_user = factories.user(db, role=Role.PROVIDER, provider_id=seller.id,
                                   email="laskutus@example.fi")
    event = factories.service_event(db, voucher, service_date=dt.date(2026, 10, 5))
    invoice = factories.monthly_invoice(db, seller)
    with pytest.raises(ValidationFailed):
        reject_invoice(db, invoice_id=invoice.id, reason="  ", actor=SYSTEM)
    reject_invoice(db, invoice_id=invoice.id, reason="Väärä tuntimäärä 5.10.", actor=SYSTEM,
                   user_id=provider_user.id)
    assert invoice.status == InvoiceStatus.REJECTED
    assert invoice.rejection_reason == "Väärä tuntimäärä 5.10."
    db.expire(event)
    assert event.status == RedemptionStatus.RECORDED
    with pytest.raises(InvoiceAlreadyDecided):
        approve_invoice(db, invoice_id=invoice.id, actor=SYSTEM)
    void_redemption(db, provider_id=seller.id, redemption_id=event.id, actor=SYSTEM)
    factories.service_event(db, voucher, service_date=dt.date(2026, 10, 5), units=100)
    again = factories.monthly_invoice(db, seller)
    assert again.number == 2 and again.line_count == 1
    approve_invoice(db, invoice_id=again.id, actor=SYSTEM)
    assert again.status == InvoiceStatus.APPROVED and again.decided_at is not None
    mails = outbox(to="laskutus@example.fi")
    assert [m.template for m in mails] == ["invoicing/rejected", "invoicing/approved"]
    assert "Väärä tuntimäärä 5.10." in mails[0].body_text


def test_the_invoice_pdf(db, seller, voucher):
    factories.service_event(db, voucher, service_date=dt.date(2026, 10, 5))
    pdf = invoice_pdf(factories.monthly_invoice(db, seller), "fi")
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


@pytest.mark.postgres_only
def test_parallel_invoices_take_each_event_once_and_numbers_have_no_gaps(app, db,
                                                                         database_url):
    sellers = []
    for _i in range(4):
        seller = factories.provider(db, services={factories.service_type(db): 3900})
        voucher = factories.voucher(db, service=factories.service_type(db),
                                    assigned_to=seller, valid_from=dt.date(2026, 10, 1))
        factories.service_event(db, voucher, service_date=dt.date(2026, 10, 5))
        sellers.append(seller.id)
    db.commit()

    def work(session, i):
        create_invoice(session, provider_id=sellers[i % 4], period=OCTOBER, actor=SYSTEM)

    outcomes = run_in_parallel(database_url, work, 12, app=app)
    assert outcomes == {"ok": 4, "NothingToInvoice": 8}
    numbers = db.execute(sa.select(Invoice.number).order_by(Invoice.number)).scalars().all()
    assert numbers == [1, 2, 3, 4]
    assert db.execute(sa.select(sa.func.count()).select_from(Redemption).where(
        Redemption.status == RedemptionStatus.INVOICED)).scalar() == 4
