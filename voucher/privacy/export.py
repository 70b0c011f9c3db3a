"""A client's data export for an access request: everything the service holds about one
client, gathered in one place, as JSON and as a PDF in the client's language.

Who may have it: a case manager of the client's municipality, an administrator, and the client
themself from their own page (the same content: it is their data, the decision letter they can
already open shows the whole identity code, and Finnish law gives them the right to know who has
viewed their data, so the audit events are included with the names of the staff who acted).
Every export is audited twice: the identity code shown (``client.identity_code_viewed`` with the
purpose ``data_export``) and the export itself (``client.data_exported``).

The JSON structure (``FORMAT``, ``FORMAT_VERSION``; money in euro cents, units in hundredths of
a unit, dates ISO 8601, moments UTC) is documented in ``EXPORT_SECTIONS``' order in the README.
A field is only ever added within a version; renaming or removing one means a new version.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import Role, User
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor, readable_data, record_event
from voucher.changes.models import VoucherChange
from voucher.clients.models import Client
from voucher.clients.services import client_account, client_for_staff, reveal_identity_code
from voucher.errors import NotFound
from voucher.feedback.models import Feedback
from voucher.i18n import format_date, format_datetime, localized
from voucher.invoicing.models import Invoice, InvoiceLine
from voucher.labels import label
from voucher.mail.models import OutboxMessage
from voucher.mail.services import without_one_time_links
from voucher.mandates.services import mandates_of_client
from voucher.money import format_cents, format_units
from voucher.pdf import PdfDocument
from voucher.providers.models import Provider
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.reviews.models import ReviewRequest
from voucher.vouchers.models import Voucher, VoucherAssignment

FORMAT = "voucher.client-data-export"
FORMAT_VERSION = 1
#: One-time links (password reset, invitation) in e-mails are secrets: never exported.
def client_for_export(session: Session, user: User, client_id: int) -> Client:
    """The client whose data ``user`` may export: an administrator any client, a case manager
    those of their municipalities, a client only themself. Others, and pseudonymised clients
    (nothing personal is left), are not found."""
    if user.role == Role.CASE_MANAGER:
        return client_for_staff(session, user, client_id)
    allowed = user.role == Role.ADMIN or (user.role == Role.CLIENT and
                                          user.client_id == client_id)
    found = session.get(Client, client_id) if allowed else None
    if found is None or found.is_pseudonymised:
        raise NotFound()
    return found


@dataclass
class ClientExport:
    """The gathered data: ``data`` with Python values (dates, enums); ``as_json()`` for the
    download, ``language`` for the PDF."""

    data: dict
    language: str

    def as_json(self) -> str:
        return json.dumps(self.data, default=_json_value, ensure_ascii=False, indent=2)


def _json_value(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"not exportable: {type(value).__name__}")


def export_client_data(session: Session, client: Client, *, actor: Actor, file_format: str,
                       authority: str) -> ClientExport:
    """Gather everything about ``client`` and audit the export."""
    identity_code = reveal_identity_code(session, client, actor=actor, purpose="data_export")
    record_event(session, actor, "client.data_exported", "client", client.id,
                 client_id=client.id, format=file_format)
    return ClientExport(gather_client_data(session, client, identity_code=identity_code,
                                           authority=authority), client.language)


def gather_client_data(session: Session, client: Client, *, identity_code: str,
                       authority: str) -> dict:
    """Everything about one client (see the module docstring for the rules)."""
    vouchers = session.execute(sa.select(Voucher).where(Voucher.client_id == client.id)
                               .order_by(Voucher.id)).scalars().all()
    voucher_ids = [v.id for v in vouchers]
    codes = {v.id: v.code for v in vouchers}
    assignments = session.execute(
        sa.select(VoucherAssignment).where(VoucherAssignment.voucher_id.in_(voucher_ids))
        .order_by(VoucherAssignment.id)).scalars().all()
    events = session.execute(
        sa.select(Redemption).where(Redemption.voucher_id.in_(voucher_ids))
        .order_by(Redemption.service_date, Redemption.id)).scalars().all()
    lines = session.execute(
        sa.select(InvoiceLine, Invoice).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.redemption_id.in_([e.id for e in events]))
        .order_by(InvoiceLine.id)).all()
    feedback = session.execute(sa.select(Feedback).where(Feedback.client_id == client.id)
                               .order_by(Feedback.id)).scalars().all()
    changes = session.execute(sa.select(VoucherChange).where(
        VoucherChange.voucher_id.in_(voucher_ids)).order_by(VoucherChange.id)).scalars().all()
    reviews = session.execute(sa.select(ReviewRequest).where(
        ReviewRequest.voucher_id.in_(voucher_ids)).order_by(ReviewRequest.id)).scalars().all()
    account = client_account(session, client.id)
    addresses = {a for a in (client.email, account.email if account else None) if a}
    messages = session.execute(
        sa.select(OutboxMessage).where(OutboxMessage.to_address.in_(addresses))
        .order_by(OutboxMessage.id)).scalars().all() if addresses else []
    audit = session.execute(sa.select(AuditEvent).where(AuditEvent.client_id == client.id)
                            .order_by(AuditEvent.id)).scalars().all()
    readable = readable_data(session, audit)
    provider_ids = {a.provider_id for a in assignments} | {e.provider_id for e in events} | {
        f.provider_id for f in feedback}
    providers = {p.id: p for p in session.execute(
        sa.select(Provider).where(Provider.id.in_(provider_ids))).scalars()}
    user_ids = {v.created_by_user_id for v in vouchers} | {
        v.approved_by_user_id for v in vouchers} | {e.actor_user_id for e in audit}
    users = {u.id: u for u in session.execute(
        sa.select(User).where(User.id.in_(user_ids - {None}))).scalars()}

    def provider(provider_id):
        found = providers.get(provider_id)
        return {"id": provider_id, "business_id": found.business_id if found else None,
                "name": found.name if found else None}

    def person(user_id):
        found = users.get(user_id)
        return None if found is None else {"user_id": found.id, "name": found.display_name,
                                           "role": found.role}

    lines_by_event: dict[int, list] = {}
    for line, invoice in lines:
        lines_by_event.setdefault(line.redemption_id, []).append({
            "invoice_number": invoice.number, "invoice_period": invoice.period,
            "invoice_status": invoice.status, "provider_name": invoice.provider_name,
            "units": line.units, "unit_price_cents": line.unit_price_cents,
            "voucher_pays_cents": line.voucher_pays_cents,
            "client_pays_cents": line.client_pays_cents})
    counted = [e for e in events if e.status != RedemptionStatus.VOID]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated_at": clock.now(),
        "controller": authority,
        "client": {
            "id": client.id,
            "identity_code": identity_code,
            "first_name": client.first_name,
            "last_name": client.last_name,
            "language": client.language,
            "home_municipality": {"code": client.municipality.code,
                                  "name_fi": client.municipality.name_fi,
                                  "name_sv": client.municipality.name_sv},
            "registered_at": client.created_at,
            "contact": {"email": client.email, "phone": client.phone,
                        "street_address": client.street_address,
                        "postal_code": client.postal_code, "city": client.city},
            "income": {"household_size": client.household_size,
                       "gross_monthly_income_cents": client.gross_monthly_income_cents},
        },
        "login_account": None if account is None else {
            "email": account.email, "role": account.role, "language": account.language,
            "active": account.is_active, "password_set": account.password_hash is not None,
            "two_factor_enabled": account.totp_enabled, "created_at": account.created_at,
            "last_login_at": account.last_login_at,
            "password_changed_at": account.password_changed_at,
            "locked_until": account.locked_until},
        "vouchers": [{
            "id": v.id, "code": v.code, "status": v.status,
            "service_type": {"code": v.service_type.code, "name_fi": v.service_type.name_fi,
                             "name_sv": v.service_type.name_sv,
                             "name_en": v.service_type.name_en, "unit": v.service_type.unit},
            "paying_municipality": {"code": v.municipality.code,
                                    "name_fi": v.municipality.name_fi,
                                    "name_sv": v.municipality.name_sv},
            "value_basis": v.value_basis, "unit_value_cents": v.unit_value_cents,
            "value_raise_reason": v.value_raise_reason, "calculation": v.calculation,
            "recurrence": v.recurrence, "units_per_period": v.units_per_period,
            "units_granted": v.units_granted, "units_used": v.units_used,
            "valid_from": v.valid_from, "valid_until": v.valid_until,
            "committed_cents": v.committed_cents,
            "decision": {"need_assessment": v.need_assessment,
                         "made_by": person(v.created_by_user_id),
                         "approved_by": person(v.approved_by_user_id),
                         "created_at": v.created_at, "issued_at": v.issued_at,
                         "cancelled_at": v.cancelled_at, "cancel_reason": v.cancel_reason,
                         "closed_at": v.closed_at},
            "periods": [{"starts_on": p.starts_on, "ends_on": p.ends_on,
                         "units_granted": p.units_granted, "units_used": p.units_used}
                        for p in v.periods],
            "provider_choices": [{
                "provider": provider(a.provider_id), "status": a.status,
                "chosen_via": a.chosen_via, "chosen_at": a.chosen_at,
                "responded_at": a.responded_at, "decline_reason": a.decline_reason,
                "ended_at": a.ended_at} for a in assignments if a.voucher_id == v.id],
            "decision_number": v.decision_number,
            "changes": [{
                "decision_number": c.decision_number, "changes": c.changes_decision_number,
                "status": c.status, "starts_on": c.starts_on, "reason": c.reason,
                "before": c.before, "after": c.after, "corrections": c.corrections,
                "proposed_by": person(c.proposed_by_user_id), "proposed_at": c.proposed_at,
                "decided_by": person(c.decided_by_user_id), "decided_at": c.decided_at,
                "rejection_reason": c.rejection_reason}
                for c in changes if c.voucher_id == v.id],
        } for v in vouchers],
        "service_events": [{
            "id": e.id, "voucher_id": e.voucher_id, "voucher_code": codes[e.voucher_id],
            "provider": provider(e.provider_id), "service_date": e.service_date,
            "units": e.units, "unit_price_cents": e.unit_price_cents,
            "unit_value_cents": e.unit_value_cents, "voucher_pays_cents": e.voucher_pays_cents,
            "client_pays_cents": e.client_pays_cents,
            "self_share_status": e.client_share_status, "status": e.status,
            "corrects_id": e.corrects_id, "caregiver_ref": e.caregiver_ref, "note": e.note,
            "source": e.source, "recorded_at": e.created_at, "voided_at": e.voided_at,
            "invoice_lines": lines_by_event.get(e.id, []),
        } for e in events],
        "totals": {"voucher_pays_cents": sum(e.voucher_pays_cents for e in counted),
                   "client_pays_cents": sum(e.client_pays_cents for e in counted)},
        "review_requests": [{
            "id": r.id, "voucher_code": codes[r.voucher_id], "channel": r.channel,
            "received_on": r.received_on, "request": r.request_text, "late": r.late,
            "outcome": r.outcome, "reasons": r.reasoning, "decision_number": r.decision_number,
            "decided_at": r.decided_at} for r in reviews],
        "feedback": [{"service_event_id": f.redemption_id, "provider": provider(f.provider_id),
                      "score": f.score, "comment": f.comment, "given_at": f.created_at}
                     for f in feedback],
        "mandates": [{"id": m.id, "representative": m.representative_name,
                      "representative_identity_code": m.representative_code_masked,
                      "basis": m.basis.value, "may_choose_provider": m.may_choose_provider,
                      "may_pay": m.may_pay, "may_give_feedback": m.may_give_feedback,
                      "valid_from": m.valid_from, "valid_until": m.valid_until,
                      "revoked_at": m.revoked_at}
                     for m in mandates_of_client(session, client.id)],
        "messages": [{"id": m.id, "to": m.to_address, "subject": m.subject,
                      "body": without_one_time_links(m.body_text), "language": m.language,
                      "template": m.template, "created_at": m.created_at,
                      "sent_at": m.sent_at} for m in messages],
        "audit_events": [{"id": e.id, "at": e.at, "action": e.action, "actor": e.actor,
                          "actor_user": person(e.actor_user_id),
                          "object_type": e.object_type, "object_id": e.object_id,
                          "data": readable[e.id]} for e in audit],
    }


# --- The PDF -------------------------------------------------------------------------------

def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def export_pdf(export: ClientExport) -> bytes:
    """The export as a document to read, with headings in the client's language."""
    with force_locale(export.language):
        return _render(export.data, export.language)


def export_title(data: dict) -> str:
    client = data["client"]
    return _("Personal data of %(name)s", name=f"{client['first_name']} {client['last_name']}")


def _render(data: dict, language: str) -> bytes:
    client = data["client"]
    document = PdfDocument(export_title(data), language=language, author=data["controller"])
    document.heading(export_title(data))
    document.paragraph(_("Everything the service voucher system of %(authority)s holds about the "
                         "client on %(date)s. The same data is in the JSON file of the export.",
                         authority=data["controller"],
                         date=format_datetime(data["generated_at"], language)))
    municipality = client["home_municipality"]
    contact = client["contact"]
    document.heading(_("Identity and contact details"), level=2)
    document.facts([
        (_("Client number"), str(client["id"])),
        (_("Name"), f"{client['first_name']} {client['last_name']}"),
        (_("Personal identity code"), client["identity_code"]),
        (_("Home municipality"),
         municipality["name_sv"] if language == "sv" else municipality["name_fi"]),
        (_("Language"), client["language"]),
        (_("Registered"), format_date(client["registered_at"], language)),
        (_("E-mail address"), contact["email"] or _("none")),
        (_("Phone number"), contact["phone"] or _("none")),
        (_("Address"), ", ".join(filter(None, (
            contact["street_address"],
            " ".join(filter(None, (contact["postal_code"], contact["city"])))))) or _("none")),
    ])
    income = client["income"]
    document.heading(_("Income"), level=2)
    document.facts([
        (_("Household size (persons)"),
         str(income["household_size"]) if income["household_size"] else _("not given")),
        (_("Gross monthly income of the household"),
         format_cents(income["gross_monthly_income_cents"], language)
         if income["gross_monthly_income_cents"] is not None else _("not given")),
    ])
    document.heading(_("Login"), level=2)
    account = data["login_account"]
    if account is None:
        document.paragraph(_("No login."))
    else:
        document.facts([
            (_("E-mail address"), account["email"]),
            (_("In use"), _yes_no(account["active"] and account["password_set"])),
            (_("Two-factor authentication"), _yes_no(account["two_factor_enabled"])),
            (_("Last login"), format_datetime(account["last_login_at"], language) or "–"),
        ])
    document.heading(_("Vouchers and decisions"), level=2)
    if not data["vouchers"]:
        document.paragraph(_("No vouchers."))
    for voucher in data["vouchers"]:
        service = localized(_Named(voucher["service_type"]), "name", language)
        document.heading(f"{service} – {voucher['code']}", level=3)
        decision = voucher["decision"]
        paying = voucher["paying_municipality"]
        facts = [
            (_("State"), label(voucher["status"])),
            (_("Paying municipality"),
             paying["name_sv"] if language == "sv" else paying["name_fi"]),
            (_("Value per unit"), f"{format_cents(voucher['unit_value_cents'], language)} "
                                  f"({label(voucher['value_basis'])})"),
            (_("Units granted"), format_units(voucher["units_granted"], language)),
            (_("Units used"), format_units(voucher["units_used"], language)),
            (_("Validity"), f"{format_date(voucher['valid_from'], language)} – "
                            f"{format_date(voucher['valid_until'], language)}"),
            (_("Decision date"), format_date(decision["issued_at"], language) or "–"),
            (_("Decision made by"), (decision["made_by"] or {}).get("name", "")),
        ]
        if decision["approved_by"]:
            facts.append((_("Approved by"), decision["approved_by"]["name"]))
        if voucher["value_raise_reason"]:
            facts.append((_("Reason for raising the value"), voucher["value_raise_reason"]))
        if decision["cancelled_at"]:
            facts.append((_("Cancelled"), f"{format_date(decision['cancelled_at'], language)}: "
                                          f"{decision['cancel_reason'] or ''}"))
        document.facts(facts)
        document.paragraph(f"{_('Need assessment')}: {decision['need_assessment']}")
        if voucher["provider_choices"]:
            document.table(
                [_("Provider"), _("State"), _("Chosen"), _("Answered")],
                [[_short(c["provider"]["name"], 40), label(c["status"]),
                  format_date(c["chosen_at"], language),
                  format_date(c["responded_at"], language)] for c in voucher["provider_choices"]],
                widths=[70, 40, 30, 30])
    document.heading(_("Service events"), level=2)
    if not data["service_events"]:
        document.paragraph(_("No service events."))
    else:
        document.table(
            [_("Date"), _("Provider"), _("Units"), _("Voucher pays"), _("Self-share"),
             _("State"), _("Invoice")],
            [[format_date(e["service_date"], language), _short(e["provider"]["name"], 24),
              format_units(e["units"], language), format_cents(e["voucher_pays_cents"], language),
              format_cents(e["client_pays_cents"], language), label(e["status"]),
              ", ".join(str(line["invoice_number"]) for line in e["invoice_lines"])]
             for e in data["service_events"]],
            widths=[22, 46, 16, 24, 22, 22, 18], right_aligned={2, 3, 4})
        totals = data["totals"]
        document.facts([(_("The voucher paid in all"),
                         format_cents(totals["voucher_pays_cents"], language)),
                        (_("Self-shares in all"),
                         format_cents(totals["client_pays_cents"], language))])
    document.heading(_("Requests for review"), level=2)
    if not data["review_requests"]:
        document.paragraph(_("No requests for review."))
    for item in data["review_requests"]:
        decided = (f" – {label(item['outcome'])} ({item['decision_number']})"
                   if item["outcome"] else "")
        document.paragraph(f"{format_date(item['received_on'], language)}: "
                           f"{item['request']}{decided}")
    document.heading(_("Feedback"), level=2)
    if not data["feedback"]:
        document.paragraph(_("No feedback."))
    for item in data["feedback"]:
        document.paragraph(f"{format_date(item['given_at'], language)}, "
                           f"{item['provider']['name']}: {item['score']}/10"
                           + (f" – {item['comment']}" if item["comment"] else ""))
    document.heading(_("Who may act for the client"), level=2)
    if not data.get("mandates"):
        document.paragraph(_("No mandates."))
    for item in data.get("mandates", []):
        ended = f", {_('Revoked')}" if item["revoked_at"] else ""
        document.paragraph(f"{item['representative']} ({item['representative_identity_code']}):"
                           f" {format_date(item['valid_from'], language)} – "
                           f"{format_date(item['valid_until'], language)}{ended}")
    document.heading(_("E-mails sent to the client"), level=2)
    if not data["messages"]:
        document.paragraph(_("No e-mails."))
    for message in data["messages"]:
        document.heading(message["subject"], level=3)
        document.paragraph(f"{format_datetime(message['created_at'], language)}, "
                           f"{message['to']}\n\n{message['body']}")
    document.heading(_("Who has handled the client's data"), level=2)
    document.table(
        [_("Time"), _("Who"), _("Action"), _("Object")],
        [[format_datetime(e["at"], language),
          _short(e["actor_user"]["name"] if e["actor_user"] else e["actor"], 34),
          _short(e["action"], 34), _short(f"{e['object_type']} {e['object_id']}", 24)]
         for e in data["audit_events"]],
        widths=[38, 52, 50, 30])
    return document.output()


class _Named:
    """Lets ``localized`` read a name dict like a model (``name_fi``, ``name_sv`` …)."""

    def __init__(self, names: dict):
        self.__dict__.update(names)


def _short(text: str | None, length: int) -> str:
    text = text or ""
    return text if len(text) <= length else text[:length - 1] + "…"
