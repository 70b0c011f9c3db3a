"""The settlement run's form: which approved invoices to pay."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import Optional

from voucher.forms import BaseForm, DayField


class SettlementForm(BaseForm):
    up_to = DayField(_l("Invoices approved on or before"), validators=[Optional()],
                     description=_l("Leave empty to pay every approved invoice."))


class PreviewForm(SettlementForm):
    """The same choice as a GET form (no CSRF): it only changes what the preview shows."""

    class Meta:
        csrf = False
