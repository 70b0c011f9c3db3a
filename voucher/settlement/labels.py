"""Names of payment batch states and ledger entry reasons."""

from flask_babel import lazy_gettext as _l

import voucher.budgets.labels  # noqa: F401  (ledger entry kinds)
from voucher.labels import register
from voucher.settlement.models import BatchStatus

register({
    BatchStatus.CREATED: _l("created"),
    BatchStatus.SENT: _l("sent to the bank"),
    BatchStatus.CONFIRMED: _l("confirmed paid"),
})

#: Why the run wrote a ledger entry.
ENTRY_REASONS = {
    "settled": _l("settled service events"),
    "year_transfer": _l("moved between the voucher's years"),
    "rounding": _l("cents lost to rounding each event"),
    "unused": _l("unused commitment of a closed voucher"),
    "refused": _l("the client refused the voucher"),
}
