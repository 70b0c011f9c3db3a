"""The settlement run's form (which approved invoices to pay) and the bank file upload."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms.validators import Optional

from voucher.forms import BaseForm, DayField


class SettlementForm(BaseForm):
    up_to = DayField(_l("Invoices approved on or before"), validators=[Optional()],
                     description=_l("Leave empty to pay every approved invoice."))


class PreviewForm(SettlementForm):
    """The same choice as a GET form (no CSRF): it only changes what the preview shows."""

    class Meta:
        csrf = False


class BankFileForm(BaseForm):
    """A bank file to import: a pain.002 status report or a camt.054 debit notification."""

    file = FileField(_l("Bank file (XML)"),
                     validators=[FileRequired(_l("Choose the bank's file."))],
                     description=_l("The bank's pain.002 status report or camt.054 debit "
                                    "notification. A file imported before changes nothing."),
                     render_kw={"accept": ".xml,application/xml,text/xml"})
