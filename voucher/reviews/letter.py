"""The letter of a decision on a request for review, in the client's language: the decision
reviewed, the request, the outcome and its reasons, what follows, and the appeal to the
administrative court (Administrative Judicial Procedure Act 808/2019). A PDF/A-2b like every
decision letter."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _

from voucher.i18n import format_date, localized
from voucher.labels import label
from voucher.pdf import PdfDocument
from voucher.reviews.models import ReviewOutcome, ReviewRequest
from voucher.vouchers.letter import REVIEW_DAYS, DecisionSettings, write_head, write_sections


@dataclass
class ReviewLetter:
    language: str
    title: str
    confidentiality: str
    authority: str
    recipient: list[str]
    facts: list[tuple[str, str]]
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    footer: str = ""


def review_letter(request: ReviewRequest, *, config) -> ReviewLetter:
    voucher = request.voucher
    client = voucher.client
    language = client.language
    with force_locale(language):
        settings = DecisionSettings.from_config(config, language)
        court = config["ADMINISTRATIVE_COURT_SV" if language == "sv" else "ADMINISTRATIVE_COURT"]
        service = localized(voucher.service_type, "name", language)
        follows = {
            ReviewOutcome.UPHELD: _("The decision under review stays in force as it was made."),
            ReviewOutcome.CHANGED: _("The decision under review is changed as the reasons say. "
                                     "Your case manager makes the changed decision, and you "
                                     "get it as a letter of its own."),
            ReviewOutcome.DISMISSED: _("The request was not examined, for the reasons above. "
                                       "The decision under review stays in force."),
        }[request.outcome]
        return ReviewLetter(
            language=language,
            title=_("Decision on a request for review: %(service)s", service=service),
            confidentiality=_("Confidential: Act on the Openness of Government Activities "
                              "(621/1999), section 24(1)(25); Act on the Status and Rights of "
                              "Social Welfare Clients (812/2000), section 14"),
            authority=config["AUTHORITY_NAME"],
            recipient=[line for line in (client.full_name, client.street_address, " ".join(
                filter(None, (client.postal_code, client.city)))) if line],
            facts=[
                (_("Decision number"), request.decision_number or ""),
                (_("Decision date"), format_date(request.decided_at, language)),
                (_("Decision under review"),
                 request.decision_number_reviewed or voucher.decision_number or ""),
                (_("Request received"), format_date(request.received_on, language)),
                (_("Decision"), label(request.outcome)),
            ],
            sections=[
                (_("Your request"), [request.request_text]),
                (_("Reasons"), [request.reasoning or ""]),
                (_("What follows"), [follows]),
                (_("How to appeal"), [
                    _("You may appeal against this decision to %(court)s. Appeal within "
                      "%(days)d days of receiving this decision: a decision sent "
                      "electronically is deemed received on the third day after it was "
                      "sent, and one sent by post on the seventh day, unless shown "
                      "otherwise.", court=court, days=REVIEW_DAYS),
                    _("In the appeal, say which decision you appeal against (its number), how "
                      "you want it changed and why, and give your name and contact details. "
                      "Attach this decision. The appeal may also be sent to the court "
                      "electronically."),
                ]),
            ],
            footer=_("Provisions applied: Administrative Procedure Act (434/2003), chapter "
                     "7 a; Administrative Judicial Procedure Act (808/2019); Act on Service "
                     "Vouchers in Social and Health Care (569/2009); %(rules)s. The decision "
                     "was made electronically and is valid without a signature.",
                     rules=settings.rules),
        )


def review_letter_pdf(letter: ReviewLetter) -> bytes:
    document = PdfDocument(letter.title, language=letter.language, author=letter.authority,
                           archival=True)
    write_head(document, letter)
    write_sections(document, letter.sections)
    document.paragraph(letter.footer)
    return document.output()
