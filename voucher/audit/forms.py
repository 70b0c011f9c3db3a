"""The audit trail search form (GET, no CSRF: it changes nothing)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from voucher.forms import BaseForm


class AuditSearchForm(BaseForm):
    """Posted (with the CSRF token checked by CSRFProtect) and then shown as GET results."""

    class Meta:
        csrf = False

    actor = StringField(_l("Who acted (e-mail)"), validators=[Optional(), Length(max=254)])
    person = StringField(_l("Whom it concerns (personal identity code or client number)"),
                         validators=[Optional(), Length(max=20)])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=50)],
                              description=_l("e.g. voucher, client, provider, invoice"))
    object_id = StringField(_l("Object number"), validators=[Optional(), Length(max=64)])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=100)],
                         description=_l("e.g. voucher.issued or just voucher"))
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
