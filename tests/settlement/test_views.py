"""The settlement pages: preview, run, batch, payment file, sent and confirmed; admins only."""

import io
import re

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import csrf_token_from, post_form
from tests.settlement.conftest import events, voucher_for
from voucher import clock
from voucher.accounts.models import Role
from voucher.audit.models import AuditEvent
from voucher.demo import bank_files
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.settlement.models import BatchStatus, PaymentBatch
from voucher.settlement.sepa import validate_payment_file


@pytest.fixture
def approved(db, world):
    """Two approved invoices of Aurinko (Ylivieska and Nivala) and one of Kuura."""
    first = voucher_for(db, world, world.aurinko)
    second = voucher_for(db, world, world.aurinko, home=world.nivala)
    third = voucher_for(db, world, world.kuura)
    factories.invoice(db, world.aurinko, events(db, first, (2, 150)))
    factories.invoice(db, world.aurinko, events(db, second, (3, 100)))
    factories.invoice(db, world.kuura, events(db, third, (4, 250)))
    factories.user(db, role=Role.ADMIN, email="boss@example.fi")
    db.commit()
    return world


def _text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True)).replace("\xa0", " ")


def test_the_preview_shows_payments_and_the_budgets_spending_to_the_cent(client, auth, approved):
    auth.login("boss@example.fi", factories.PASSWORD)
    page = _text(client.get("/admin/settlement/"))
    assert "Hoiva Aurinko Oy" in page and "Kuura Oy" in page
    assert "80,00 €" in page  # Aurinko: 1,5 h + 1 h at 32 €
    assert "75,00 €" in page  # Kuura: 2,5 h at 30 €
    assert "123,00 €" in page  # Ylivieska: 48 € + 75 €
    assert "Suorita tilitys: maksa 3 laskua, 155,00 €" in page


def test_the_admin_runs_settlement_and_the_batch_page_shows_it(client, auth, approved, db):
    auth.login("boss@example.fi", factories.PASSWORD)
    response = post_form(client, "/admin/settlement/run", {"up_to": ""},
                         form_page="/admin/settlement/")
    assert response.status_code == 303
    batch = db.execute(sa.select(PaymentBatch)).scalar_one()
    assert response.headers["Location"].endswith(f"/admin/settlement/batches/{batch.id}")

    page = _text(client.get(response.headers["Location"]))
    assert "Tilitetty: 2 maksua, 155,00 € yhteensä." in page
    assert "FI2112345600000785" in page and "155,00 €" in page
    assert "Ylivieska" in page and "123,00 €" in page and "Nivala" in page and "32,00 €" in page

    download = client.get(f"/admin/settlement/batches/{batch.id}/pain001.xml")
    assert download.status_code == 200 and download.mimetype == "application/xml"
    assert f'filename="{batch.message_id}.xml"' in download.headers["Content-Disposition"]
    validate_payment_file(download.get_data())
    db.commit()
    assert db.execute(sa.select(sa.func.count()).where(
        AuditEvent.action == "payment_batch.downloaded")).scalar() == 1


def test_a_batch_is_marked_sent_once_and_confirmed_only_by_the_bank(client, auth, approved, db):
    auth.login("boss@example.fi", factories.PASSWORD)
    post_form(client, "/admin/settlement/run", {}, form_page="/admin/settlement/")
    batch = db.execute(sa.select(PaymentBatch)).scalar_one()
    page = f"/admin/settlement/batches/{batch.id}"

    post_form(client, f"{page}/sent", {}, form_page=page)
    sent_twice = post_form(client, f"{page}/sent", {}, form_page=page, follow_redirects=True)
    assert "Maksuerä on jo lähetetty pankkiin." in _text(sent_twice)
    # No click confirms a batch: the bank does, with its file.
    assert post_form(client, f"{page}/confirmed", {}, form_page=page).status_code == 404
    assert "Merkitse pankin vahvistamaksi" not in _text(client.get(page))

    sent = bank_files.read_payment_file(batch.sepa_xml)
    content = bank_files.debit_notification(
        sent, message_id="CAMT-1", created_at=clock.now(), booked_on=clock.today(),
        debited=[t.end_to_end_id for t in sent.transfers])
    response = client.post("/admin/settlement/bank-files", data={
        "csrf_token": csrf_token_from(client.get("/admin/settlement/")),
        "file": (io.BytesIO(content), "camt054.xml")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "Pankin tiedosto luettiin" in _text(response)

    db.commit()
    db.refresh(batch)
    assert batch.status == BatchStatus.CONFIRMED and batch.sent_at and batch.confirmed_at
    assert batch.confirmed_by_user_id is None
    actions = [a for (a,) in db.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id))]
    assert actions[-2:] == ["payment_batch.confirmed", "bank_file.imported"]


def test_nothing_to_pay_is_said_plainly(client, auth, db, world):
    factories.user(db, role=Role.ADMIN, email="boss@example.fi")
    db.commit()
    auth.login("boss@example.fi", factories.PASSWORD)
    assert "Yhtään hyväksyttyä laskua ei voi nyt maksaa." in _text(client.get(
        "/admin/settlement/"))
    response = post_form(client, "/admin/settlement/run", {}, form_page="/admin/settlement/",
                         follow_redirects=True)
    assert "Mitään ei maksettu" in _text(response)


def test_a_bad_date_is_explained_and_nothing_is_paid(client, auth, approved, db):
    auth.login("boss@example.fi", factories.PASSWORD)
    preview = client.get("/admin/settlement/?up_to=31.13.2026")
    assert preview.status_code == 422
    assert "Anna päivämäärä, esim. 24.11.2026." in _text(preview)
    response = post_form(client, "/admin/settlement/run", {"up_to": "huomenna"},
                         form_page="/admin/settlement/", follow_redirects=True)
    assert "Anna päivämäärä, esim. 24.11.2026." in _text(response)
    db.commit()
    assert db.execute(sa.select(Invoice.status)).scalars().all() == [InvoiceStatus.APPROVED] * 3


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.PROVIDER])
def test_only_administrators_see_settlement(client, auth, db, world, role):
    extra = {"provider_id": world.aurinko.id} if role == Role.PROVIDER else {}
    factories.user(db, role=role, email="someone@example.fi", **extra)
    db.commit()
    auth.login("someone@example.fi", factories.PASSWORD)
    assert client.get("/admin/settlement/").status_code == 403
    token = csrf_token_from(client.get("/"))
    assert client.post("/admin/settlement/run", data={"csrf_token": token}).status_code == 403


def test_an_unknown_batch_is_not_found(client, auth, db):
    factories.user(db, role=Role.ADMIN, email="boss@example.fi")
    db.commit()
    auth.login("boss@example.fi", factories.PASSWORD)
    assert client.get("/admin/settlement/batches/99").status_code == 404
    assert client.get("/admin/settlement/batches/99/pain001.xml").status_code == 404
