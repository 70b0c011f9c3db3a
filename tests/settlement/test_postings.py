"""The posting file of a payment batch: every line on the paying municipality's dimensions,
balanced per municipality and in total, corrections credited, the same bytes on every
download (page and CLI), settlement refused without dimensions, and the reconciliation's check
that the postings equal the payments and the spending."""

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa

from tests import factories
from tests.settlement.conftest import events, voucher_for
from voucher.accounting import dimensions
from voucher.accounting.models import PostingFile
from voucher.audit.services import Actor
from voucher.invoicing.models import InvoiceStatus
from voucher.redemptions.corrections import correct_redemption
from voucher.settlement.models import PaymentBatch
from voucher.settlement.reconciliation import find_differences

ACTOR = Actor.system("test")


@pytest.fixture
def batch(db, world, settle):
    """Aurinko: Ylivieska 1,5 h and Nivala 1 h at 32 €; Kuura: Ylivieska 2,5 h at 30 €."""
    first = voucher_for(db, world, world.aurinko)
    second = voucher_for(db, world, world.aurinko, home=world.nivala)
    third = voucher_for(db, world, world.kuura)
    factories.invoice(db, world.aurinko, events(db, first, (2, 150)) + events(db, second, (3, 100)))
    factories.invoice(db, world.kuura, events(db, third, (4, 250)))
    return settle().batch


def _lines(posting: PostingFile) -> list[dict]:
    return json.loads(posting.json_content)["lines"]


def test_every_line_is_posted_to_its_municipalitys_dimensions_and_balances(db, world, batch):
    posting = db.get(PostingFile, batch.id)
    document = json.loads(posting.json_content)
    assert document["format"] == "voucher-posting-file" and document["version"] == 1
    assert document["batch"]["posting_date"] == "2026-11-24"
    assert document["batch"]["total_cents"] == batch.total_cents == 15500
    lines = document["lines"]
    summary = [(x["kind"], x["municipality"], x["service"], x["account"], x["cost_centre"],
                x["debit_cents"], x["credit_cents"]) for x in lines]
    assert summary == [
        ("voucher_share", "535", "HOME_CARE", "4360", "535-HOME_CAR", 3200, 0),
        ("bank", "535", None, "1910", None, 0, 3200),
        ("voucher_share", "977", "HOME_CARE", "4360", "977-HOME_CAR", 4800, 0),
        ("bank", "977", None, "1910", None, 0, 4800),
        ("voucher_share", "977", "HOME_CARE", "4360", "977-HOME_CAR", 7500, 0),
        ("bank", "977", None, "1910", None, 0, 7500)]
    assert [x["line"] for x in lines] == list(range(1, 7))
    aurinko = [x for x in lines if x["provider_name"] == "Hoiva Aurinko Oy"]
    assert {x["supplier_number"] for x in aurinko} == {
        dimensions.supplier_numbers_in_force(db, dt.date(2026, 11, 24))[world.aurinko.id]}
    assert {x["provider_business_id"] for x in aurinko} == {world.aurinko.business_id}
    totals = document["totals"]
    assert totals["debit_cents"] == totals["credit_cents"] == 15500 == posting.total_cents
    assert totals["by_municipality"] == [
        {"municipality": "535", "debit_cents": 3200, "credit_cents": 3200},
        {"municipality": "977", "debit_cents": 12300, "credit_cents": 12300}]
    rows = list(csv.DictReader(io.StringIO(posting.csv_content.decode("utf-8"))))
    assert [(r["kind"], r["municipality"], r["debit"], r["credit"]) for r in rows][:2] == [
        ("voucher_share", "535", "32.00", "0.00"), ("bank", "535", "0.00", "32.00")]
    assert find_differences(db) == []


def test_downloads_give_the_stored_bytes_every_time(app, client, auth, db, world, batch,
                                                    tmp_path):
    admin = factories.user(db, email="finance@example.fi")
    db.commit()
    posting = db.get(PostingFile, batch.id)
    # A later change of the dimensions does not change a file already made.
    dimensions.set_service_dimensions(
        db, actor=ACTOR, municipality=world.ylivieska, service_type=world.home_care,
        valid_from=dt.date(2026, 11, 25), account="4999", cost_centre="X")
    db.commit()
    auth.login(admin.email, factories.PASSWORD)
    page = client.get(f"/admin/settlement/batches/{batch.id}").get_data(as_text=True)
    assert f"/admin/settlement/batches/{batch.id}/postings.csv" in page
    for file_format, stored in (("csv", posting.csv_content), ("json", posting.json_content)):
        first = client.get(f"/admin/settlement/batches/{batch.id}/postings.{file_format}")
        second = client.get(f"/admin/settlement/batches/{batch.id}/postings.{file_format}")
        assert first.status_code == 200 and first.data == second.data == stored
        assert f"postings-{batch.message_id}.{file_format}" in \
            first.headers["Content-Disposition"]
        output = tmp_path / f"postings.{file_format}"
        result = app.test_cli_runner().invoke(args=[
            "settlement", "posting-file", str(batch.id), "--format", file_format,
            "--output", str(output)])
        assert result.exit_code == 0, result.output
        assert output.read_bytes() == stored
    assert app.test_cli_runner().invoke(
        args=["settlement", "posting-file", "999"]).exit_code == 1


def test_a_correction_is_credited_to_the_dimensions_it_was_spent_on(db, world, settle):
    voucher = voucher_for(db, world, world.aurinko)
    first = events(db, voucher, (2, 100), (9, 100))
    factories.invoice(db, world.aurinko, first)
    settle()
    correct_redemption(db, provider_id=world.aurinko.id, redemption_id=first[0].id,
                       replacement=None, actor=ACTOR)
    db.commit()
    later = events(db, voucher, (16, 200))
    from voucher.invoicing.services import approve_invoice, create_invoice

    with_clock = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)
    from voucher import clock

    with clock.frozen_at(with_clock):
        invoice = create_invoice(db, provider_id=world.aurinko.id,
                                 period=dt.date(2026, 11, 1), actor=ACTOR)
        approve_invoice(db, invoice_id=invoice.id, actor=ACTOR)
        db.commit()
        assert invoice.status == InvoiceStatus.APPROVED and later
        second = settle().batch
    lines = _lines(db.get(PostingFile, second.id))
    assert [(x["kind"], x["debit_cents"], x["credit_cents"]) for x in lines] == [
        ("voucher_share", 6400, 0), ("correction", 0, 3200), ("bank", 0, 3200)]
    assert lines[1]["account"] == lines[0]["account"] == "4360"
    assert find_differences(db) == []


def test_settlement_is_refused_naming_what_has_no_dimensions(app, db, world, settle):
    sievi = factories.municipality(db, "746", "Sievi", dimensions=False)
    voucher = voucher_for(db, world, world.aurinko, home=sievi)
    factories.invoice(db, world.aurinko, events(db, voucher, (2, 100)))
    db.commit()
    with app.test_request_context(headers={"Accept-Language": "en"}), \
            pytest.raises(dimensions.DimensionsMissing) as refused:
        settle()
    assert "Sievi – HOME_CARE en" in str(refused.value)
    assert "24 Nov 2026" in str(refused.value)
    db.rollback()
    assert db.execute(sa.select(PaymentBatch)).first() is None


@pytest.mark.unreconciled
def test_the_reconciliation_finds_a_posting_file_that_was_tampered_with(db, batch):
    posting = db.get(PostingFile, batch.id)
    document = json.loads(posting.json_content)
    document["lines"][0]["debit_cents"] += 100
    document["lines"][1]["credit_cents"] += 100
    posting.json_content = json.dumps(document).encode()
    db.commit()
    checks = {d.check for d in find_differences(db)}
    assert {"posting_file", "posting_payments", "posting_spend"} <= checks
    posting.json_content, posting.csv_content = posting.csv_content, posting.json_content
    db.commit()
    assert "posting_file" in {d.check for d in find_differences(db)}
