"""What a complete application has: the published requirements, checked all at once on
submission so that the provider sees every missing item in one go."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher import clock
from voucher.i18n import localized
from voucher.providers.models import DocumentKind, Provider, ServiceStatus
from voucher.providers.pricing import pending_price

REQUIRED_DETAILS = {
    "legal_name": _l("Enter the company's legal name."),
    "street_address": _l("Enter the street address."),
    "postal_code": _l("Enter the postal code."),
    "city": _l("Enter the city."),
    "contact_person": _l("Enter the contact person."),
    "email": _l("Enter the e-mail address."),
    "phone": _l("Enter the phone number."),
    "iban": _l("Enter the bank account (IBAN) to which payments are made."),
    "bic": _l("Enter the BIC of the bank."),
    "in_prepayment_register": _l("The company must be in the prepayment register: confirm it."),
    "in_trade_register": _l("The company must be in the trade register: confirm it."),
    "insurer": _l("Enter the insurance company of the liability insurance."),
    "insurance_policy_number": _l("Enter the number of the insurance policy."),
    "insurance_valid_until": _l("Enter the date until which the insurance is valid."),
}
REQUIRED_DOCUMENTS = {
    DocumentKind.SELF_MONITORING_PLAN: _l("Upload the self-monitoring plan as a PDF."),
    DocumentKind.INSURANCE_CERTIFICATE: _l("Upload the liability insurance certificate as a PDF."),
}
#: Services the provider offers or applies for (not rejected or withdrawn).
OFFERED = (ServiceStatus.DRAFT, ServiceStatus.SUBMITTED, ServiceStatus.CHANGES_REQUESTED,
           ServiceStatus.APPROVED)


def current_documents(provider: Provider) -> list:
    """The documents in force: uploaded and not removed or replaced."""
    return [document for document in provider.documents if document.removed_at is None]


def missing_items(session: Session, provider: Provider) -> dict[str, str]:
    """Every requirement the application does not yet meet, keyed by the form field (or the
    page: ``sites``, ``services``, ``document_<kind>``) where it is fixed."""
    missing = {name: str(message) for name, message in REQUIRED_DETAILS.items()
               if not getattr(provider, name)}
    if provider.insurance_valid_until and provider.insurance_valid_until < clock.today():
        missing["insurance_valid_until"] = str(_l(
            "The insurance has expired. Enter the end date of the current insurance period."))
    if not provider.municipalities:
        missing["municipalities"] = str(_l(
            "Choose at least one municipality where you provide services."))
    if not provider.languages:
        missing["languages"] = str(_l("Choose at least one language you serve clients in."))
    offered = [offer for offer in provider.services if offer.status in OFFERED]
    if not offered:
        missing["services"] = str(_l("Choose at least one service you offer."))
    for offer in offered:
        name = localized(offer.service_type, "name")
        key = f"service_{offer.service_type_id}"
        if offer.status in (ServiceStatus.DRAFT, ServiceStatus.CHANGES_REQUESTED):
            if pending_price(session, offer) is None:
                missing[f"{key}_price"] = str(_l("Enter your unit price of %(service)s.",
                                                 service=name))
            if not offer.description:
                missing[f"{key}_description"] = str(_l(
                    "Describe how you provide %(service)s.", service=name))
            if not offer.criteria_confirmed:
                missing[f"{key}_criteria"] = str(_l(
                    "Confirm that you meet the approval criteria of %(service)s.", service=name))
        if offer.service_type.requires_soteri:
            if not provider.soteri_registered:
                missing["soteri_registered"] = str(_l(
                    "%(service)s requires registration in Soteri: confirm the registration.",
                    service=name))
            if not provider.soteri_registration_number:
                missing["soteri_registration_number"] = str(_l(
                    "Enter the Soteri registration number."))
        if offer.service_type.for_children and not provider.criminal_record_checks:
            missing["criminal_record_checks"] = str(_l(
                "%(service)s is a service to children: confirm that the criminal records of "
                "your staff have been checked.", service=name))
    if not provider.sites:
        missing["sites"] = str(_l("Add at least one office or other site."))
    kinds = {document.kind for document in current_documents(provider)}
    for kind, message in REQUIRED_DOCUMENTS.items():
        if kind not in kinds:
            missing[f"document_{kind.value}"] = str(message)
    return missing
