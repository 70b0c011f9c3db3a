"""The letter of a change decision (muutospäätös), in the client's language, a PDF/A-2b like
every decision letter: which decision it changes and from when, what changes (old and new), the
reasons, the new value's calculation, what happens to the services already recorded (the
corrections, the self-shares refunded and due), and the review instructions with the days this
decision is deemed received. It reuses the voucher letter's head and sections."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace

import sqlalchemy as sa
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from voucher.accounts.models import User
from voucher.catalogue.models import ServiceType
from voucher.changes.models import ChangeStatus, VoucherChange
from voucher.changes.terms import day
from voucher.i18n import format_date, localized
from voucher.labels import label
from voucher.money import format_cents, format_units, units_times_cents
from voucher.pdf import PdfDocument
from voucher.vouchers import letter as voucher_letter
from voucher.vouchers.letter import DecisionSettings, write_head, write_sections
from voucher.vouchers.models import Recurrence, ValueBasis
from voucher.vouchers.value import calculation_steps


@dataclass
class ChangeLetter:
    language: str
    title: str
    authority: str
    confidentiality: str
    recipient: list[str]
    facts: list[tuple[str, str]]
    #: (what, before, after)
    changes: list[tuple[str, str, str]]
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    calculation: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""

    def write_to(self, document: PdfDocument) -> None:
        write_head(document, self)
        document.heading(_changes_heading(self.language), level=2)
        document.facts([(what, f"{old} → {new}") for what, old, new in self.changes])
        write_sections(document, self.sections[:1])
        if self.calculation:
            with force_locale(self.language):
                document.heading(_("How the new value was calculated"), level=2)
            for text, amount in self.calculation:
                document.paragraph(f"{text}: {amount}" if amount else text)
        write_sections(document, self.sections[1:])
        document.paragraph(self.footer)


def _changes_heading(language: str) -> str:
    with force_locale(language):
        return _("What changes")


def _service(session: Session, terms: dict, language: str) -> str:
    return localized(session.get(ServiceType, terms["service_type_id"]), "name", language)


def _units(session: Session, terms: dict, language: str) -> str:
    unit = label(session.get(ServiceType, terms["service_type_id"]).unit)
    units = format_units(terms["units_per_period"], language)
    if terms["recurrence"] == Recurrence.MONTHLY.value:
        return _("%(units)s each calendar month (%(unit)s)", units=units, unit=unit)
    return _("%(units)s in all (%(unit)s)", units=units, unit=unit)


def _validity(terms: dict, language: str) -> str:
    return f"{format_date(day(terms['valid_from']), language)} – " \
           f"{format_date(day(terms['valid_until']), language)}"


def _total(terms: dict) -> int:
    return units_times_cents(terms["units_granted"], terms["unit_value_cents"])


def change_rows(session: Session, change: VoucherChange, language: str
                ) -> list[tuple[str, str, str]]:
    """What the change changes, as (what, before, after) in ``language``."""
    before, after = change.before, change.after
    rows = []
    if before["service_type_id"] != after["service_type_id"]:
        rows.append((_("Service"), _service(session, before, language),
                     _service(session, after, language)))
    if before["unit_value_cents"] != after["unit_value_cents"] or \
            before["value_basis"] != after["value_basis"]:
        rows.append((_("Value per unit"),
                     f"{format_cents(before['unit_value_cents'], language)} "
                     f"({label(ValueBasis(before['value_basis']))})",
                     f"{format_cents(after['unit_value_cents'], language)} "
                     f"({label(ValueBasis(after['value_basis']))})"))
    if before["units_per_period"] != after["units_per_period"]:
        rows.append((_("Units"), _units(session, before, language),
                     _units(session, after, language)))
    if before["valid_until"] != after["valid_until"]:
        rows.append((_("Validity"), _validity(before, language), _validity(after, language)))
    rows.append((_("Total value"), format_cents(_total(before), language),
                 format_cents(_total(after), language)))
    return rows


def superseded_by(session: Session, change: VoucherChange) -> VoucherChange | None:
    """The approved change that changed this change decision, if any."""
    return session.execute(sa.select(VoucherChange).where(
        VoucherChange.voucher_id == change.voucher_id,
        VoucherChange.status == ChangeStatus.APPROVED,
        VoucherChange.changes_decision_number == change.decision_number)).scalar_one_or_none()


def _corrections(change: VoucherChange, language: str) -> list[str]:
    done = change.corrections or {}
    if not done.get("events"):
        return []
    paragraphs = [ngettext(
        "The new value applies to the services already recorded from %(day)s: %(num)d "
        "service event was recalculated. For it the voucher pays the provider %(voucher)s in "
        "all, and your self-share changes by %(client)s. The provider gets the difference, "
        "or pays it back, with its next invoice.",
        "The new value applies to the services already recorded from %(day)s: %(num)d "
        "service events were recalculated. For them the voucher pays the provider %(voucher)s "
        "in all, and your self-shares change by %(client)s in all. The provider gets the "
        "difference, or pays it back, with its next invoice.", done["events"],
        day=format_date(change.starts_on, language),
        voucher=_signed(done.get("voucher_cents", 0), language),
        client=_signed(done.get("client_cents", 0), language))]
    if done.get("refunded_cents"):
        paragraphs.append(_(
            "Self-shares you paid online for those services, %(amount)s, are refunded to your "
            "card. The self-shares at the new value are due as usual: you can pay them in the "
            "service, or the provider bills you.",
            amount=format_cents(done["refunded_cents"], language)))
    return paragraphs


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _signed(cents: int, language: str) -> str:
    return ("+" if cents > 0 else "") + format_cents(cents, language)


def build_change_letter(session: Session, change: VoucherChange, *, identity_code: str,
                        authority: str, config, delivery=None) -> ChangeLetter:
    voucher = change.voucher
    client = voucher.client
    language = client.language
    with force_locale(language):
        settings = DecisionSettings.from_config(config, language)
        after = change.after
        maker = session.get(User, change.proposed_by_user_id)
        approver = session.get(User, change.decided_by_user_id) \
            if change.decided_by_user_id else None
        service = _service(session, after, language)
        facts = [
            (_("Decision number"), change.decision_number or _("not yet approved")),
            (_("Changes the decision"), _(
                "%(number)s of %(day)s", number=change.changes_decision_number,
                day=format_date(_moment(change.before.get("decided_at")), language))),
            (_("Client"), client.full_name),
            (_("Personal identity code"), identity_code),
            (_("Service"), service),
            (_("The change applies from"), format_date(change.starts_on, language)),
            (_("Decision date"), format_date(change.decided_at, language)
             if change.decided_at else ""),
            (_("Decision made by"), _("%(name)s, case manager, under %(delegation)s",
                                      name=maker.display_name, delegation=settings.delegation)
             if maker else ""),
        ]
        if approver is not None and change.status == ChangeStatus.APPROVED:
            facts.append((_("Approved by"), approver.display_name))
        later = superseded_by(session, change)
        if later is not None:
            facts.insert(1, (_("Superseded"), _(
                "by decision %(number)s from %(day)s", number=later.decision_number,
                day=format_date(later.starts_on, language))))
        value = format_cents(after["unit_value_cents"], language)
        terms = SimpleNamespace(value_basis=ValueBasis(after["value_basis"]),
                                recurrence=Recurrence(after["recurrence"]))
        calculation = []
        if change.before["calculation"] != after["calculation"]:
            calculation = calculation_steps(after["calculation"], language)
            if after.get("value_raise_reason"):
                calculation.append((_("Reason for raising the value"),
                                    after["value_raise_reason"]))
        sections = [(_("Reasons for the change"), [change.reason])]
        services = _corrections(change, language)
        if services:
            sections.append((_("Services already recorded"), services))
        sections += [
            (_("Your self-share"), voucher_letter._self_share(terms, value)[:2]),
            (_("Validity and units"), [
                *voucher_letter._validity(terms, _validity(after, language)),
                _("Your voucher code and confirmation code stay the same.")]),
            (_("Requesting a review"), voucher_letter._review(
                authority, maker, settings, change.decided_at, delivery, language)),
        ]
        return ChangeLetter(
            language=language,
            title=_("Decision to change a service voucher decision: %(service)s",
                    service=service),
            authority=authority,
            confidentiality=_("Confidential: Act on the Openness of Government Activities "
                              "(621/1999), section 24(1)(25); Act on the Status and Rights of "
                              "Social Welfare Clients (812/2000), section 14"),
            recipient=[line for line in (client.full_name, client.street_address, " ".join(
                filter(None, (client.postal_code, client.city)))) if line],
            facts=facts, changes=change_rows(session, change, language),
            calculation=calculation, sections=sections,
            footer=_("Provisions applied: Act on Service Vouchers in Social and Health Care "
                     "(569/2009), sections 4–8; Administrative Procedure Act (434/2003), "
                     "sections 44–45 and 50; %(rules)s. The decision was made electronically "
                     "and is valid without a signature.", rules=settings.rules))


def change_letter_for(session: Session, change_id: int | VoucherChange, *, actor
                      ) -> ChangeLetter:
    """The change decision's letter as the app shows and prints it (the identity code
    revealed and audited for ``actor``)."""
    from flask import current_app

    from voucher.clients.services import reveal_identity_code
    from voucher.vouchers.delivery import delivery_of

    change = change_id if isinstance(change_id, VoucherChange) \
        else session.get(VoucherChange, change_id)
    code = reveal_identity_code(session, change.voucher.client, actor=actor,
                                purpose="decision_letter")
    return build_change_letter(
        session, change, identity_code=code, authority=current_app.config["AUTHORITY_NAME"],
        config=current_app.config,
        delivery=delivery_of(session, change.voucher_id, change_id=change.id))


def issuing_decision(session: Session, voucher):
    """The issuing decision as it was made, once a change superseded it (for its letter)."""
    first = session.execute(
        sa.select(VoucherChange).where(VoucherChange.voucher_id == voucher.id,
                                       VoucherChange.status == ChangeStatus.APPROVED)
        .order_by(VoucherChange.decided_at, VoucherChange.id).limit(1)).scalar_one_or_none()
    if first is None:
        return None
    return voucher_letter.AsDecided(session, voucher, first.before, first.decision_number,
                                    first.starts_on)


def change_letter_pdf(letter: ChangeLetter) -> bytes:
    return voucher_letter.letters_pdf([letter])


voucher_letter.HOOKS.issuing_decision = issuing_decision
voucher_letter.HOOKS.change_letter = change_letter_for
