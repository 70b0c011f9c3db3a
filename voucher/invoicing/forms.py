"""Forms of invoicing: create a month's invoice, reject an invoice."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from voucher.forms import BaseForm


class CreateInvoiceForm(BaseForm):
    #: YYYY-MM
    period = HiddenField(validators=[DataRequired()])


class RejectForm(BaseForm):
    reason = TextAreaField(
        _l("Reason for rejection"),
        validators=[DataRequired(_l("Tell the provider why the invoice is rejected.")),
                    Length(max=2000)],
        description=_l("The provider sees this. Say what to fix, e.g. which events are wrong."))
