"""Names of payment batch states and ledger entry reasons."""

from flask_babel import lazy_gettext as _l

import voucher.budgets.labels  # noqa: F401  (ledger entry kinds)
from voucher.labels import register
from voucher.settlement.models import BatchStatus, PaymentBankStatus

register({
    BatchStatus.CREATED: _l("created"),
    BatchStatus.SENT: _l("sent to the bank"),
    BatchStatus.CONFIRMED: _l("confirmed by the bank"),
})
register({
    PaymentBankStatus.AWAITING: _l("awaiting the bank's confirmation"),
    PaymentBankStatus.ACCEPTED: _l("accepted by the bank"),
    PaymentBankStatus.REJECTED: _l("rejected by the bank"),
    PaymentBankStatus.RETURNED: _l("returned"),
})

#: What a status in an imported bank file did (``bank_feedback``), as counted in a summary.
STATUS_EFFECTS = {
    "applied": _l("payment states changed"),
    "unchanged": _l("already known"),
    "final": _l("ignored: the payment had already failed"),
    "pending": _l("still being processed by the bank"),
    "unknown": _l("unknown end-to-end ids"),
    "amount_differs": _l("amounts that differ from the payment"),
}

#: Why the run wrote a ledger entry.
ENTRY_REASONS = {
    "settled": _l("settled service events"),
    "year_transfer": _l("moved between the voucher's years"),
    "rounding": _l("cents lost to rounding each event"),
    "unused": _l("unused commitment of a closed voucher"),
    "refused": _l("the client refused the voucher"),
}
