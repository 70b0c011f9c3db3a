"""A provider whose data cannot be written into the payment file is held with a reason; the
others are paid. The data was stored before input was cleaned (straight into the database)."""

import re

import sqlalchemy as sa

from tests import factories
from tests.conftest import post_form
from tests.settlement.conftest import events, voucher_for
from voucher.accounts.models import Role
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.settlement.models import PaymentBatch
from voucher.settlement.sepa import validate_payment_file


def _legacy_name(db, provider, name):
    """Write the name past every input boundary, as rows written before the cleaning."""
    db.execute(sa.update(provider.__class__).where(provider.__class__.id == provider.id)
               .values(legal_name=name))
    db.expire(provider)


def _invoices(db, world):
    aurinko = factories.invoice(db, world.aurinko, events(db, voucher_for(
        db, world, world.aurinko), (2, 100)))
    kuura = factories.invoice(db, world.kuura, events(db, voucher_for(
        db, world, world.kuura), (3, 200)))
    return aurinko, kuura


def test_a_control_character_in_a_name_holds_that_provider_and_pays_the_others(
        db, world, settle):
    _legacy_name(db, world.aurinko, "Hoiva\x07 Aurinko Oy")  # on its invoices too
    aurinko, kuura = _invoices(db, world)
    result = settle()
    assert [p.provider_id for p in result.batch.payments] == [world.kuura.id]
    validate_payment_file(result.batch.sepa_xml)
    [held] = result.held
    assert (held.invoice_id, held.reason) == (aurinko.id, "unwritable_name")
    assert "U+0007" in held.message()
    db.rollback()
    assert db.get(Invoice, aurinko.id).status == InvoiceStatus.APPROVED
    assert db.get(Invoice, kuura.id).status == InvoiceStatus.PAID


def test_a_payment_the_file_builder_refuses_is_held_and_the_others_paid(db, world, settle):
    _legacy_name(db, world.aurinko, "☃")  # nothing of it survives the SEPA character set
    aurinko, _kuura = _invoices(db, world)
    result = settle()
    assert [p.provider_id for p in result.batch.payments] == [world.kuura.id]
    [held] = result.held
    assert (held.invoice_id, held.reason) == (aurinko.id, "payment_file_rejected")
    assert "Nm" in held.message()
    assert result.batch.held_invoices[0]["reason"] == "payment_file_rejected"


def test_the_settlement_page_and_the_cli_show_the_reason_instead_of_failing(
        app, client, auth, db, world):
    _legacy_name(db, world.aurinko, "Hoiva\x1b Aurinko Oy")
    _invoices(db, world)
    factories.user(db, role=Role.ADMIN, email="boss@example.fi")
    db.commit()
    auth.login("boss@example.fi", factories.PASSWORD)
    page = client.get("/admin/settlement/")
    assert page.status_code == 200
    assert "U+001B" in re.sub(r"\s+", " ", page.get_data(as_text=True))
    response = post_form(client, "/admin/settlement/run", {}, form_page="/admin/settlement/")
    assert response.status_code == 303
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(PaymentBatch)).scalar() == 1
    _legacy_name(db, world.kuura, "Kuura\x1f Oy")
    factories.invoice(db, world.kuura, events(db, voucher_for(db, world, world.kuura), (4, 100)))
    db.commit()
    result = app.test_cli_runner().invoke(args=["settlement", "run"])
    assert result.exit_code == 0, result.output
    assert "U+001F" in result.output


def test_the_repair_command_removes_the_character_and_the_next_run_pays(app, db, world, settle):
    from voucher.audit.models import AuditEvent

    _legacy_name(db, world.aurinko, "Hoiva\x07 Aurinko\u00a0Oy")
    _invoices(db, world)
    assert [h.reason for h in settle().held] == ["unwritable_name"]
    dry = app.test_cli_runner().invoke(args=["providers", "clean-text", "--dry-run"])
    assert dry.exit_code == 0 and "would repair 1 providers" in dry.output
    result = app.test_cli_runner().invoke(args=["providers", "clean-text"])
    assert result.exit_code == 0, result.output
    assert f"provider {world.aurinko.id}: legal_name" in result.output
    db.rollback()
    assert db.get(world.aurinko.__class__, world.aurinko.id).legal_name == "Hoiva Aurinko Oy"
    [event] = db.execute(sa.select(AuditEvent).where(
        AuditEvent.action == "provider.text_repaired")).scalars()
    assert event.data["fields"] == ["legal_name"]
    again = settle()
    assert again.held == [] and [p.creditor_name for p in again.batch.payments] == [
        "Hoiva Aurinko Oy"]
    assert "repaired 0 providers" in app.test_cli_runner().invoke(
        args=["providers", "clean-text"]).output
