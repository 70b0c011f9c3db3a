"""Translated names of service-event states."""

from flask_babel import lazy_gettext as _l

from voucher.labels import register
from voucher.redemptions.models import RedemptionStatus

register({
    RedemptionStatus.RECORDED: _l("Recorded"),
    RedemptionStatus.INVOICED: _l("Invoiced"),
    RedemptionStatus.SETTLED: _l("Settled"),
    RedemptionStatus.VOID: _l("Voided"),
})
