"""The case manager's form for recording a mandate."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from voucher.forms import BaseForm, DayField
from voucher.mandates.models import MandateBasis


class MandateForm(BaseForm):
    representative_name = StringField(_l("Representative's name"), validators=[
        DataRequired(_l("Enter the representative's name.")), Length(max=200)],
        render_kw={"autocomplete": "off"})
    representative_code = StringField(_l("Representative's personal identity code"), validators=[
        DataRequired(_l("Enter the representative's personal identity code."))],
        description=_l("The representative logs in with strong identification; this code is "
                       "how the service knows them."), render_kw={"autocomplete": "off"})
    basis = RadioField(_l("Basis"), choices=[
        SelectChoice(MandateBasis.GUARDIAN.value, _l("Guardian appointed by the court")),
        SelectChoice(MandateBasis.CONSENT.value, _l("Relative or other person with the "
                                                    "client's consent"))],
        validators=[DataRequired(_l("Choose the basis."))])
    may_choose_provider = BooleanField(_l("May choose a provider"))
    may_pay = BooleanField(_l("May pay self-shares"))
    may_give_feedback = BooleanField(_l("May give feedback"))
    representative_email = EmailField(_l("Representative's e-mail address"), validators=[
        Optional(), Email(_l("Enter an e-mail address in the form name@example.fi.")),
        Length(max=254)], render_kw={"autocomplete": "off"})
    notices_to_representative = BooleanField(
        _l("The client wants their notices sent to the representative"))
    valid_from = DayField(_l("Valid from"), validators=[
        InputRequired(_l("Enter the first day of validity."))])
    valid_until = DayField(_l("Valid until"), validators=[
        InputRequired(_l("Enter the last day of validity."))])
