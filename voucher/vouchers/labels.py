"""Names of voucher states, recurrences, value bases and assignment states."""

from flask_babel import lazy_gettext as _l

import voucher.catalogue.labels  # noqa: F401  (units)
from voucher.labels import register
from voucher.vouchers.models import AssignmentStatus, Recurrence, ValueBasis, VoucherStatus

register({
    VoucherStatus.DRAFT: _l("draft"),
    VoucherStatus.PENDING_APPROVAL: _l("waiting for approval"),
    VoucherStatus.ISSUED: _l("issued"),
    VoucherStatus.ASSIGNED: _l("in use"),
    VoucherStatus.EXHAUSTED: _l("used up"),
    VoucherStatus.EXPIRED: _l("expired"),
    VoucherStatus.CANCELLED: _l("cancelled"),
})
register({
    Recurrence.TOTAL: _l("in all for the whole validity"),
    Recurrence.MONTHLY: _l("each calendar month"),
})
register({
    ValueBasis.FIXED: _l("fixed value"),
    ValueBasis.INCOME_RELATED: _l("income-related value"),
    ValueBasis.FREE_FOR_CLIENT: _l("free for the client"),
})
register({
    AssignmentStatus.PROPOSED: _l("waiting for the provider's answer"),
    AssignmentStatus.ACCEPTED: _l("accepted"),
    AssignmentStatus.DECLINED: _l("declined"),
    AssignmentStatus.ENDED: _l("ended"),
})

#: CSS modifier of each state's badge.
STATUS_TONE = {
    VoucherStatus.DRAFT: "",
    VoucherStatus.PENDING_APPROVAL: "status--warn",
    VoucherStatus.ISSUED: "status--ok",
    VoucherStatus.ASSIGNED: "status--ok",
    VoucherStatus.EXHAUSTED: "",
    VoucherStatus.EXPIRED: "",
    VoucherStatus.CANCELLED: "status--bad",
}
