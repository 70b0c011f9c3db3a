"""Translated names of online-payment, refund and self-share states."""

from flask_babel import lazy_gettext as _l

from voucher.labels import register
from voucher.payments.models import OnlinePaymentStatus, RefundStatus
from voucher.redemptions.models import ClientShareStatus

register({
    OnlinePaymentStatus.PENDING: _l("Waiting for payment"),
    OnlinePaymentStatus.SUCCEEDED: _l("Paid"),
    OnlinePaymentStatus.FAILED: _l("Failed"),
})
register({
    ClientShareStatus.DUE: _l("Due"),
    ClientShareStatus.PAID_ONLINE: _l("Paid online"),
    ClientShareStatus.BILLED_BY_PROVIDER: _l("Billed by the provider"),
    ClientShareStatus.REFUNDED: _l("Refunded"),
})
register({
    RefundStatus.PENDING: _l("Refund waiting for confirmation"),
    RefundStatus.SUCCEEDED: _l("Refunded to the card"),
})
