"""Names of ledger entry kinds."""

from flask_babel import lazy_gettext as _l

from voucher.budgets.models import EntryKind
from voucher.labels import register

register({
    EntryKind.COMMIT: _l("commitment"),
    EntryKind.RELEASE: _l("release"),
    EntryKind.SPEND: _l("spending"),
})

#: Why an entry was made, as the ledger says it.
REASONS = {
    "issued": _l("voucher issued"),
    "cancelled": _l("voucher cancelled"),
    "expired": _l("voucher expired"),
    "settled": _l("settled"),
    "unused": _l("unused"),
    "year_transfer": _l("transfer between years"),
}
