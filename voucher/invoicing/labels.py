"""Translated names of invoice states."""

from flask_babel import lazy_gettext as _l

from voucher.invoicing.models import InvoiceStatus
from voucher.labels import register

register({
    InvoiceStatus.SUBMITTED: _l("Waiting for decision"),
    InvoiceStatus.APPROVED: _l("Approved"),
    InvoiceStatus.REJECTED: _l("Rejected"),
    InvoiceStatus.PAID: _l("Paid"),
})
