"""Names of the authority's own accounts and of the dimensions."""

from flask_babel import lazy_gettext as _l

from voucher.accounting.models import AuthorityAccount
from voucher.labels import register

AUTHORITY_ACCOUNTS = {
    AuthorityAccount.BANK: _l("bank account of the payments"),
    AuthorityAccount.SELF_SHARES: _l("clearing account of self-shares paid online"),
}
register(AUTHORITY_ACCOUNTS)

DIMENSION_LABELS = {
    "account": _l("Ledger account"),
    "cost_centre": _l("Cost centre"),
    "project": _l("Project"),
    "internal_order": _l("Internal order"),
    "vat_code": _l("VAT code"),
}
