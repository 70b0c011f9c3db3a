"""The administrator's note when resolving an alert."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from voucher.forms import BaseForm


class ResolveForm(BaseForm):
    note = TextAreaField(_l("What was done"), validators=[
        DataRequired(message=_l("Say what was done about the alert.")), Length(max=1000)],
        description=_l("For example: refunded the client in the Stripe dashboard on 3.12."))
