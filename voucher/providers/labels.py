"""Names of provider, service, price and document states, and of decisions."""

from flask_babel import lazy_gettext as _l

from voucher.labels import register
from voucher.providers.models import (
    BankAccountChangeStatus,
    DecisionAction,
    DocumentKind,
    PriceStatus,
    ProviderStatus,
    ServiceStatus,
)

# One call per enum: members of different StrEnums with the same value are equal as dict keys.
register({
    ProviderStatus.DRAFT: _l("draft"),
    ProviderStatus.SUBMITTED: _l("waiting for review"),
    ProviderStatus.CHANGES_REQUESTED: _l("changes requested"),
    ProviderStatus.APPROVED: _l("approved"),
    ProviderStatus.REJECTED: _l("rejected"),
    ProviderStatus.SUSPENDED: _l("suspended"),
    ProviderStatus.REVOKED: _l("approval revoked"),
})
register({
    ServiceStatus.DRAFT: _l("not yet submitted"),
    ServiceStatus.SUBMITTED: _l("waiting for review"),
    ServiceStatus.CHANGES_REQUESTED: _l("changes requested"),
    ServiceStatus.APPROVED: _l("approved"),
    ServiceStatus.REJECTED: _l("rejected"),
    ServiceStatus.WITHDRAWN: _l("withdrawn"),
})
register({
    PriceStatus.PENDING: _l("waiting for approval"),
    PriceStatus.APPROVED: _l("approved"),
    PriceStatus.REJECTED: _l("rejected"),
})
register({
    BankAccountChangeStatus.PENDING: _l("waiting for approval"),
    BankAccountChangeStatus.APPROVED: _l("approved"),
    BankAccountChangeStatus.REJECTED: _l("rejected"),
    BankAccountChangeStatus.WITHDRAWN: _l("withdrawn"),
})
register({
    DocumentKind.SELF_MONITORING_PLAN: _l("Self-monitoring plan"),
    DocumentKind.INSURANCE_CERTIFICATE: _l("Liability insurance certificate"),
    DocumentKind.TRADE_REGISTER_EXTRACT: _l("Trade register extract"),
    DocumentKind.PREPAYMENT_REGISTER_EXTRACT: _l("Prepayment register extract"),
    DocumentKind.SOTERI_EXTRACT: _l("Soteri register extract"),
    DocumentKind.OTHER: _l("Other document"),
})
register({
    DecisionAction.REGISTERED: _l("Account and draft application created"),
    DecisionAction.SUBMITTED: _l("Application submitted"),
    DecisionAction.CHANGES_REQUESTED: _l("Changes requested"),
    DecisionAction.APPROVED: _l("Provider approved"),
    DecisionAction.REJECTED: _l("Application rejected"),
    DecisionAction.SERVICE_APPROVED: _l("Service approved"),
    DecisionAction.SERVICE_REJECTED: _l("Service rejected"),
    DecisionAction.SERVICE_CHANGES_REQUESTED: _l("Changes requested to a service"),
    DecisionAction.PRICE_INCREASE_REQUESTED: _l("Price increase requested"),
    DecisionAction.PRICE_APPROVED: _l("Price increase approved"),
    DecisionAction.PRICE_REJECTED: _l("Price increase rejected"),
    DecisionAction.PRICE_DECREASED: _l("Price lowered"),
    DecisionAction.SUSPENDED: _l("Approval suspended"),
    DecisionAction.REINSTATED: _l("Suspension lifted"),
    DecisionAction.REVOKED: _l("Approval revoked"),
    DecisionAction.BANK_ACCOUNT_CHANGE_REQUESTED: _l("Change of bank account requested"),
    DecisionAction.BANK_ACCOUNT_CHANGE_APPROVED: _l("Change of bank account approved"),
    DecisionAction.BANK_ACCOUNT_CHANGE_REJECTED: _l("Change of bank account rejected"),
    DecisionAction.BANK_ACCOUNT_CHANGE_WITHDRAWN: _l("Change of bank account withdrawn"),
    DecisionAction.MESSAGE: _l("Message from the reviewer"),
})

#: Names of the service languages, in the reader's language.
LANGUAGE_NAMES = {"fi": _l("Finnish"), "sv": _l("Swedish"), "en": _l("English")}


def language_name(code: str) -> str:
    return str(LANGUAGE_NAMES.get(code, code))
