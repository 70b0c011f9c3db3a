"""The decision letter, in the client's language: one content for the HTML print view and the
PDF. It says what was granted (value, units, validity, the calculation), gives the voucher code
and confirmation code with a QR code, explains how to choose a provider and the self-share rule
(the self-share does not count toward the annual client-fee ceiling), and tells how to request
a review of the decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import segno
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session

from voucher import clock
from voucher.accounts.models import User
from voucher.i18n import format_date, localized
from voucher.labels import label
from voucher.money import format_cents, format_units, units_times_cents
from voucher.pdf import PdfDocument
from voucher.vouchers.choice import provider_options
from voucher.vouchers.models import (
    DecisionDelivery,
    DeliveryMethod,
    Recurrence,
    ValueBasis,
    Voucher,
)
from voucher.vouchers.value import calculation_steps

#: Days after sending when a decision is deemed received (Administrative Procedure Act
#: 434/2003, section 59): electronically on the third day, by post on the seventh.
RECEIVED_ELECTRONICALLY_AFTER = 3
RECEIVED_BY_POST_AFTER = 7
REVIEW_DAYS = 30


class AsDecided:
    """The voucher as an earlier decision made it (its terms from a change's ``before``), for
    the letter of a decision a change superseded; everything else is the voucher's."""

    _DATES = ("valid_from", "valid_until")

    def __init__(self, session: Session, voucher: Voucher, terms: dict, superseded_by: str,
                 superseded_from: dt.date):
        from voucher.catalogue.models import ServiceType

        self._voucher, self._terms = voucher, terms
        self.superseded_by, self.superseded_from = superseded_by, superseded_from
        self.service_type = session.get(ServiceType, terms["service_type_id"])
        self.value_basis = ValueBasis(terms["value_basis"])
        self.recurrence = Recurrence(terms["recurrence"])
        self.issued_at = dt.datetime.fromisoformat(terms["decided_at"]) \
            if terms.get("decided_at") else voucher.issued_at
        self.created_by_user_id = terms.get("made_by_user_id")
        self.approved_by_user_id = terms.get("approved_by_user_id")
        for key in ("unit_value_cents", "value_raise_reason", "calculation", "units_per_period",
                    "units_granted", "decision_number", "service_type_id"):
            setattr(self, key, terms[key])
        for key in self._DATES:
            setattr(self, key, dt.date.fromisoformat(terms[key]))

    @property
    def units_remaining(self) -> int:
        return self.units_granted - self._voucher.units_used

    def __getattr__(self, name):
        return getattr(self._voucher, name)


class DecisionHooks:
    """What the package of changes of decisions (``voucher.changes``, which builds on this one)
    lends the letters: the issuing decision as it was made once a change superseded it, and
    the letter of a change decision's delivery (the post room prints both kinds)."""

    def __init__(self):
        self.issuing_decision = lambda session, voucher: None
        self.change_letter = None


HOOKS = DecisionHooks()


@dataclass(frozen=True)
class DecisionSettings:
    """What the authority's letters cite, in the letter's language (the settings; an English
    letter uses the Finnish texts)."""

    delegation: str
    rules: str
    registry_address: str
    registry_hours: str

    @classmethod
    def from_config(cls, config, language: str) -> DecisionSettings:
        suffix = "_SV" if language == "sv" else ""
        return cls(config[f"DECISION_DELEGATION{suffix}"], config[f"VOUCHER_RULES{suffix}"],
                   config["REGISTRY_ADDRESS"], config[f"REGISTRY_HOURS{suffix}"])


@dataclass
class Letter:
    language: str
    title: str
    authority: str
    #: The confidentiality marking of a social-welfare decision, at the top.
    confidentiality: str
    recipient: list[str]
    facts: list[tuple[str, str]]
    need_heading: str
    need_assessment: str
    calculation_heading: str
    calculation: list[tuple[str, str]]
    codes_heading: str
    codes: list[tuple[str, str]]
    code: str
    #: (heading, paragraphs) after the codes.
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    footer: str = ""

    def qr_svg(self) -> Markup:
        """The voucher code as an inline SVG QR code (no script, no style: fits the CSP)."""
        svg = segno.make(self.code, error="m").svg_inline(scale=4)
        return Markup(svg.replace(  # noqa: S704 (segno's own markup, the code is our alphabet)
            "<svg ", f'<svg role="img" aria-label="{self.codes[0][0]}: {self.code}" ', 1))


def build_letter(session: Session, voucher: Voucher, *, identity_code: str, authority: str,
                 register_url: str | None, portal_url: str, config,
                 delivery: DecisionDelivery | None = None) -> Letter:
    """The letter's content in the client's language (``config``: the app's, for
    DecisionSettings; ``delivery``: how and when it was sent, for the review's dates)."""
    client = voucher.client
    language = client.language
    with force_locale(language):
        return _compose(session, voucher, client, language, identity_code, authority,
                        register_url, portal_url, DecisionSettings.from_config(config, language),
                        delivery)


def letter_for(session: Session, voucher: Voucher, *, actor) -> Letter:
    """The letter of an issued voucher as the app shows and prints it: the whole identity code
    revealed (and audited) for ``actor``, the app's settings, the delivery's dates."""
    from flask import current_app

    from voucher.clients.services import reveal_identity_code
    from voucher.mail.services import absolute_url
    from voucher.vouchers.delivery import delivery_of

    code = reveal_identity_code(session, voucher.client, actor=actor, purpose="decision_letter")
    register_url = absolute_url("register.search") \
        if "register.search" in current_app.view_functions else None
    voucher = HOOKS.issuing_decision(session, voucher) or voucher
    return build_letter(session, voucher, identity_code=code,
                        authority=current_app.config["AUTHORITY_NAME"],
                        register_url=register_url, portal_url=absolute_url("accounts.login"),
                        config=current_app.config, delivery=delivery_of(session, voucher.id))


def _compose(session, voucher, client, language, identity_code, authority, register_url,
             portal_url, settings: DecisionSettings, delivery) -> Letter:
    service = localized(voucher.service_type, "name", language)
    value = format_cents(voucher.unit_value_cents, language)
    unit = label(voucher.service_type.unit)
    total = units_times_cents(voucher.units_granted, voucher.unit_value_cents)
    validity = f"{format_date(voucher.valid_from, language)} – " \
               f"{format_date(voucher.valid_until, language)}"
    maker = session.get(User, voucher.created_by_user_id)
    approver = session.get(User, voucher.approved_by_user_id) \
        if voucher.approved_by_user_id else None
    if voucher.recurrence == Recurrence.MONTHLY:
        units_text = _("%(units)s each calendar month (%(unit)s)",
                       units=format_units(voucher.units_per_period, language), unit=unit)
    else:
        units_text = _("%(units)s in all (%(unit)s)",
                       units=format_units(voucher.units_per_period, language), unit=unit)
    facts = [
        (_("Decision number"), voucher.decision_number or ""),
        (_("Client"), client.full_name),
        (_("Personal identity code"), identity_code),
        (_("Service"), service),
        (_("Value per unit"), f"{value} ({label(voucher.value_basis)})"),
        (_("Units"), units_text),
        (_("Total value"), format_cents(total, language)),
        (_("Validity"), validity),
        (_("Decision date"), format_date(voucher.issued_at, language)),
        (_("Decision made by"), _("%(name)s, case manager, under %(delegation)s",
                                  name=maker.display_name, delegation=settings.delegation)
         if maker else ""),
    ]
    if approver is not None:
        facts.append((_("Approved by"), approver.display_name))
    superseded = isinstance(voucher, AsDecided)
    if superseded:
        facts.insert(1, (_("Superseded"), _(
            "by decision %(number)s from %(day)s", number=voucher.superseded_by,
            day=format_date(voucher.superseded_from, language))))
    calculation = calculation_steps(voucher.calculation, language)
    if voucher.value_raise_reason:
        calculation.append((_("Reason for raising the value"), voucher.value_raise_reason))
    sections = [
        (_("How to choose a provider"), _choosing(register_url, portal_url)),
        (_("Your self-share"), _self_share(voucher, value) + (
            [] if superseded else _estimate(session, voucher, language))),
        (_("Validity and units"), _validity(voucher, validity)),
        (_("Requesting a review"), _review(authority, maker, settings, voucher.issued_at,
                                           delivery, language)),
    ]
    return Letter(
        language=language,
        title=_("Decision on a service voucher: %(service)s", service=service),
        authority=authority,
        confidentiality=_("Confidential: Act on the Openness of Government Activities "
                          "(621/1999), section 24(1)(25); Act on the Status and Rights of "
                          "Social Welfare Clients (812/2000), section 14"),
        recipient=[line for line in (client.full_name, client.street_address,
                                     " ".join(filter(None, (client.postal_code, client.city))))
                   if line],
        facts=facts, need_heading=_("Need assessment"), need_assessment=voucher.need_assessment,
        calculation_heading=_("How the value was calculated"), calculation=calculation,
        codes_heading=_("Your electronic service voucher"),
        codes=[(_("Voucher code"), voucher.code),
               (_("Confirmation code"), voucher.confirmation_code)],
        code=voucher.code, sections=sections,
        footer=_("Provisions applied: Act on Service Vouchers in Social and Health Care "
                 "(569/2009), sections 4–8; Administrative Procedure Act (434/2003); %(rules)s. "
                 "The decision was made electronically and is valid without a signature.",
                 rules=settings.rules),
    )


def _choosing(register_url: str | None, portal_url: str) -> list[str]:
    paragraphs = []
    if register_url:
        paragraphs.append(_("Choose a provider from the register of approved providers at "
                            "%(url)s. It shows each provider's price.", url=register_url))
    paragraphs += [
        _("If you have a login, log in at %(url)s: there you can compare the providers by your "
          "own self-share and choose one. The provider then confirms that it takes you as a "
          "client.", url=portal_url),
        _("You can also give this letter to the provider you have chosen. The provider takes "
          "the voucher into use with the voucher code and the confirmation code above; that "
          "counts as your choice. Keep the codes safe and give them only to the provider you "
          "have chosen."),
        _("You can later change provider for the units you have left."),
    ]
    return paragraphs


def _self_share(voucher: Voucher, value: str) -> list[str]:
    if voucher.value_basis == ValueBasis.FREE_FOR_CLIENT:
        return [_("This service is free for you. The voucher pays the provider's approved price "
                  "up to %(value)s per unit, and you pay no self-share.", value=value)]
    return [
        _("The voucher pays at most %(value)s per unit. If the provider's price is higher, you "
          "pay the difference to the provider yourself: that is your self-share. If the price "
          "is %(value)s or less, you pay nothing.", value=value),
        _("The self-share does not count toward the annual ceiling of client fees "
          "(asiakasmaksukatto)."),
        _("You have the right to refuse the service voucher. The municipality then arranges "
          "the service in another way."),
    ]


def _estimate(session: Session, voucher: Voucher, language: str) -> list[str]:
    """The self-share with the approved provider that leaves the client least to pay (the
    client's provider choice, cheapest first), when there is one."""
    options = provider_options(session, voucher, sort="self_share", language=None)
    if not options or voucher.value_basis == ValueBasis.FREE_FOR_CLIENT:
        return []
    cheapest = options[0]
    return [_("An estimate on %(day)s: with the approved provider of the lowest price in your "
              "municipality, %(provider)s (%(price)s per unit), your self-share would be "
              "%(share)s per unit, %(total)s for all your units. Prices can change.",
              day=format_date(clock.today(), language), provider=cheapest.provider.name,
              price=format_cents(cheapest.unit_price_cents, language),
              share=format_cents(cheapest.self_share_per_unit_cents, language),
              total=format_cents(cheapest.self_share_total_cents, language))]


def _validity(voucher: Voucher, validity: str) -> list[str]:
    if voucher.recurrence == Recurrence.MONTHLY:
        return [_("The voucher is valid %(validity)s. You get the units anew each calendar "
                  "month; units not used in a month do not carry over to the next.",
                  validity=validity)]
    return [_("The voucher is valid %(validity)s. Units not used by then expire.",
              validity=validity)]


def receipt_days(sent: dt.date) -> tuple[dt.date, dt.date]:
    """When a decision sent on ``sent`` is deemed received: electronically, by post."""
    return (sent + dt.timedelta(days=RECEIVED_ELECTRONICALLY_AFTER),
            sent + dt.timedelta(days=RECEIVED_BY_POST_AFTER))


def _review(authority: str, maker: User | None, settings: DecisionSettings,
            issued_at: dt.datetime | None, delivery: DecisionDelivery | None,
            language: str) -> list[str]:
    paragraphs = [
        _("If you are not satisfied with this decision, you may request a review "
          "(oikaisuvaatimus) in writing from %(authority)s. The decision cannot be appealed to "
          "a court before the review.", authority=authority),
        _("Make the request within %(days)d days of receiving the decision. A decision sent "
          "electronically is deemed received on the third day after it was sent, and a "
          "decision sent by post on the seventh day, unless shown otherwise.",
          days=REVIEW_DAYS),
    ]
    if delivery is not None and delivery.received_on is not None:
        dates = {"sent": format_date(delivery.sent_on, language),
                 "received": format_date(delivery.received_on, language),
                 "end": format_date(delivery.received_on + dt.timedelta(days=REVIEW_DAYS),
                                    language)}
        paragraphs.append(
            _("This decision was sent electronically on %(sent)s. It is deemed received on "
              "%(received)s, and the time for a request for review ends on %(end)s.", **dates)
            if delivery.method == DeliveryMethod.ELECTRONIC else
            _("This decision was posted on %(sent)s. It is deemed received on %(received)s, "
              "and the time for a request for review ends on %(end)s.", **dates))
    elif delivery is None and issued_at is not None:
        # A decision made before deliveries were recorded: both ways, from its day.
        electronic, posted = receipt_days(clock.local(issued_at).date())
        paragraphs.append(_(
            "This decision was sent on %(sent)s: sent electronically it is deemed received on "
            "%(electronic)s and the time for a review ends on %(electronic_end)s; sent by "
            "post it is deemed received on %(posted)s and the time ends on %(posted_end)s.",
            sent=format_date(clock.local(issued_at).date(), language),
            electronic=format_date(electronic, language),
            electronic_end=format_date(electronic + dt.timedelta(days=REVIEW_DAYS), language),
            posted=format_date(posted, language),
            posted_end=format_date(posted + dt.timedelta(days=REVIEW_DAYS), language)))
    paragraphs += [
        _("Say which decision you want reviewed (its number), how you want it changed and why, "
          "and give your name and contact details. Sign the request and send it to the "
          "registry office of %(authority)s: %(address)s. The registry office is open "
          "%(hours)s.", authority=authority, address=settings.registry_address,
          hours=settings.registry_hours),
    ]
    if maker is not None:
        paragraphs.append(_("Questions about the decision: your case manager %(name)s, "
                            "%(email)s.", name=maker.display_name, email=maker.email))
    return paragraphs


def delivery_letter(session: Session, delivery: DecisionDelivery, *, actor):
    """The letter a delivery carries: the voucher's decision, or a change decision's."""
    if delivery.voucher_change_id is None or HOOKS.change_letter is None:
        return letter_for(session, delivery.voucher, actor=actor)
    return HOOKS.change_letter(session, delivery.voucher_change_id, actor=actor)


def letter_pdf(letter: Letter) -> bytes:
    """The same letter as a PDF/A-2b (for the archive) with a QR code of the voucher code."""
    return letters_pdf([letter])


def letters_pdf(letters: list[Letter]) -> bytes:
    """Letters one after another, each from a new page: one, or the post room's batch."""
    first = letters[0]
    document = PdfDocument(first.title, language=first.language, author=first.authority,
                           archival=True)
    for n, letter in enumerate(letters):
        if n:
            document.new_page()
        _write(document, letter)
    return document.output()


def write_head(document: PdfDocument, letter) -> None:
    """What every decision letter opens with: the confidentiality marking, the authority,
    the address, the title and the facts (a voucher decision's or a review decision's)."""
    document.paragraph(letter.confidentiality)
    document.paragraph(letter.authority)
    document.paragraph("\n".join(letter.recipient))
    document.heading(letter.title)
    document.facts(letter.facts)


def write_sections(document: PdfDocument, sections: list[tuple[str, list[str]]]) -> None:
    for heading, paragraphs in sections:
        document.heading(heading, level=2)
        for paragraph in paragraphs:
            document.paragraph(paragraph)


def _write(document: PdfDocument, letter) -> None:
    if hasattr(letter, "write_to"):  # a letter of another kind (a change decision's)
        letter.write_to(document)
        return
    write_head(document, letter)
    document.heading(letter.need_heading, level=2)
    document.paragraph(letter.need_assessment)
    document.heading(letter.calculation_heading, level=2)
    for text, amount in letter.calculation:
        document.paragraph(f"{text}: {amount}" if amount else text)
    document.heading(letter.codes_heading, level=2)
    document.facts(letter.codes)
    document.qr(letter.code)
    write_sections(document, letter.sections)
    document.paragraph(letter.footer)
