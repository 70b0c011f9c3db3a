"""A client's data export: its content, its audit trail, and who may download it."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa

from tests import factories
from tests.world import world  # noqa: F401  (the fixture)
from voucher.audit.models import AuditEvent
from voucher.feedback.services import give_feedback
from voucher.mail.services import queue_email
from voucher.privacy.export import FORMAT, FORMAT_VERSION

PASSWORD = factories.PASSWORD


@pytest.fixture
def history(db, world):  # noqa: F811
    """World's client Aino with a used voucher (an invoiced event, feedback, a letter), and a
    second client of the same municipality whose data must never show in Aino's export."""
    voucher = factories.voucher(db, holder=world.client, service=world.fixed,
                                assigned_to=world.provider, unit_value_cents=2500,
                                creator=world.case_manager)
    event = factories.service_event(db, voucher, service_date=dt.date(2026, 11, 2), units=200)
    event.note = "Ikkunat pestiin"
    factories.invoice(db, world.provider, [event], period=dt.date(2026, 11, 1))
    give_feedback(db, client_id=world.client.id, redemption_id=event.id, score=9,
                  comment="Mukava siivooja", actor=world.actor(world.client_user))
    queue_email(db, to=world.client.email, template="accounts/password_reset",
                language="fi", user=world.client_user,
                link="http://voucher.test/password-reset/SECRET-TOKEN-123", hours=2)
    other = factories.client(db, home=world.home, first_name="Ville", last_name="Toinen")
    other_voucher = factories.voucher(db, holder=other, service=world.fixed,
                                      assigned_to=world.provider, unit_value_cents=2500)
    factories.service_event(db, other_voucher, service_date=dt.date(2026, 11, 3), units=700)
    db.commit()
    return voucher, event, other


def _login(auth, email):
    response = auth.login(email, password=PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


def _export(client, auth, world, suffix="json", user=None):  # noqa: F811
    _login(auth, (user or world.case_manager).email)
    return client.get(f"/clients/{world.client.id}/data-export.{suffix}")


def test_json_export_holds_everything_about_the_client_and_nothing_else(
        client, auth, db, world, history):  # noqa: F811
    voucher, event, other = history
    response = _export(client, auth, world)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert (data["format"], data["format_version"]) == (FORMAT, FORMAT_VERSION)
    person = data["client"]
    assert (person["first_name"], person["last_name"]) == ("Aino", "Virtanen")
    assert re.fullmatch(r"\d{6}-\d{3}[0-9A-Y]", person["identity_code"])
    assert person["income"] == {"household_size": 1, "gross_monthly_income_cents": 165_000}
    assert person["contact"]["email"] == world.client.email
    assert data["login_account"]["email"] == world.client_user.email
    assert "password_hash" not in json.dumps(data["login_account"])
    [exported_voucher] = data["vouchers"]
    assert exported_voucher["code"] == voucher.code
    assert exported_voucher["decision"]["need_assessment"] == "Test need."
    assert exported_voucher["decision"]["made_by"]["name"] == "Kaisa Palveluohjaaja"
    assert exported_voucher["provider_choices"][0]["provider"]["name"] == \
        "Hoivapalvelu Aurinko Oy"
    [exported_event] = data["service_events"]
    assert exported_event["id"] == event.id
    assert (exported_event["units"], exported_event["unit_price_cents"],
            exported_event["voucher_pays_cents"], exported_event["client_pays_cents"]) == \
        (200, 3300, 5000, 1600)
    assert exported_event["self_share_status"] == "due"
    assert exported_event["note"] == "Ikkunat pestiin"
    [line] = exported_event["invoice_lines"]
    assert (line["voucher_pays_cents"], line["invoice_status"]) == (5000, "approved")
    assert data["totals"] == {"voucher_pays_cents": 5000, "client_pays_cents": 1600}
    assert data["feedback"][0]["comment"] == "Mukava siivooja"
    [message] = data["messages"]
    assert "SECRET-TOKEN-123" not in message["body"]  # one-time links never leave
    assert "/password-reset/" in message["body"]
    actions = {e["action"] for e in data["audit_events"]}
    assert {"redemption.recorded", "feedback.given"} <= actions
    text = json.dumps(data)
    assert "Ville" not in text and "Toinen" not in text and other.email not in text
    assert "700" not in {str(e["units"]) for e in data["service_events"]}


def test_the_export_is_audited_without_the_identity_code(client, auth, db, world, history):  # noqa: F811
    _export(client, auth, world, "pdf")
    db.rollback()
    events = db.execute(sa.select(AuditEvent).where(AuditEvent.client_id == world.client.id)
                        .order_by(AuditEvent.id.desc()).limit(2)).scalars().all()
    assert {(e.action, e.actor_user_id) for e in events} == {
        ("client.data_exported", world.case_manager.id),
        ("client.identity_code_viewed", world.case_manager.id)}
    exported = next(e for e in events if e.action == "client.data_exported")
    assert exported.data == {"format": "pdf"}
    viewed = next(e for e in events if e.action == "client.identity_code_viewed")
    assert viewed.data == {"purpose": "data_export"}


def _pdf_title(pdf: bytes) -> str:
    """The document's title from its information dictionary (a literal or UTF-16 hex)."""
    match = re.search(rb"/Title\s*(<(?i:feff)[0-9A-Fa-f]*>|\((?:\\.|[^\\)])*\))", pdf)
    assert match, "the PDF has no title"
    raw = match.group(1)
    if raw.startswith(b"<"):
        return bytes.fromhex(raw[1:-1].decode()).decode("utf-16")
    return raw[1:-1].decode("latin-1")


@pytest.mark.parametrize(("language", "title"), [
    ("fi", "Henkilötiedot: Aino Virtanen"),
    ("sv", "Personuppgifter: Aino Virtanen"),
    ("en", "Personal data of Aino Virtanen"),
])
def test_pdf_export_is_in_the_clients_language(client, auth, db, world, history,  # noqa: F811
                                               language, title):
    world.client.language = language
    db.commit()
    response = _export(client, auth, world, "pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pdf = response.get_data()
    assert pdf.startswith(b"%PDF")
    assert _pdf_title(pdf) == title
    assert b"/Lang (" + language.encode() + b")" in pdf


def test_pdf_sections_are_translated(app, db, world, history):  # noqa: F811
    from voucher.privacy import export as export_module

    captured = []
    original = export_module.PdfDocument.heading

    def spy(self, text, level=1):
        captured.append(text)
        return original(self, text, level)

    export_module.PdfDocument.heading = spy
    try:
        data = export_module.gather_client_data(db, world.client, identity_code="010101-123N",
                                                authority="Kallio")
        export_module.export_pdf(export_module.ClientExport(data, "sv"))
    finally:
        export_module.PdfDocument.heading = original
    assert "Personuppgifter: Aino Virtanen" in captured
    assert "Servicehändelser" in captured
    assert "Servicesedlar och beslut" in captured


def test_admin_may_export_from_the_audit_search(client, auth, db, world, history):  # noqa: F811
    admin = factories.user(db, email="admin@example.fi")
    db.commit()
    _login(auth, admin.email)
    page = client.get(f"/admin/audit/?person={world.client.id}")
    assert f"/clients/{world.client.id}/data-export.pdf" in page.get_data(as_text=True)
    response = client.get(f"/clients/{world.client.id}/data-export.json")
    assert response.status_code == 200
    assert json.loads(response.get_data())["client"]["id"] == world.client.id


def test_the_case_managers_client_page_links_to_the_export(client, auth, world, history):  # noqa: F811
    _login(auth, world.case_manager.email)
    page = client.get(f"/clients/{world.client.id}").get_data(as_text=True)
    assert f"/clients/{world.client.id}/data-export.json" in page


def test_the_client_downloads_their_own_export(client, auth, db, world, history):  # noqa: F811
    _login(auth, world.client_user.email)
    page = client.get("/vouchers/mine").get_data(as_text=True)
    assert "/my-data/export.pdf" in page
    response = client.get("/my-data/export.json")
    assert response.status_code == 200
    data = json.loads(response.get_data())
    assert data["client"]["id"] == world.client.id
    assert client.get("/my-data/export.pdf").get_data().startswith(b"%PDF")
    assert client.get("/my-data/export.xml").status_code == 404
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "client.data_exported",
        AuditEvent.actor_user_id == world.client_user.id)).scalar_one() == 2


def test_a_client_cannot_export_someone_else(client, auth, world, history):  # noqa: F811
    _login(auth, world.client_user.email)
    assert client.get(f"/clients/{history[2].id}/data-export.json").status_code == 403


def test_another_municipalitys_case_manager_gets_404(client, auth, world, history):  # noqa: F811
    response = _export(client, auth, world, user=world.other_case_manager)
    assert response.status_code == 404


def test_a_provider_gets_403(client, auth, world, history):  # noqa: F811
    response = _export(client, auth, world, user=world.provider_user)
    assert response.status_code == 403
