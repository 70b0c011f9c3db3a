"""The form of a change of decision."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from voucher.changes.services import MAX_TEXT
from voucher.clients.forms import CountField, within
from voucher.forms import BaseForm, DayField, MoneyField, UnitsField


class ChangeForm(BaseForm):
    starts_on = DayField(_l("The change applies from"), validators=[
        InputRequired(_l("Give the day the change starts."))],
        description=_l("Today, or up to 12 months back: services recorded from that day on "
                       "are corrected to the new value."))
    units = UnitsField(_l("Units"), validators=[InputRequired(_l("Enter the number of units."))],
                       description=_l("In all, or per month for a monthly voucher."))
    valid_until = DayField(_l("Valid until"), validators=[
        InputRequired(_l("Enter the last day of validity."))])
    service_type = SelectField(_l("Service"), coerce=int)
    revalue = BooleanField(_l("Recalculate the value (for example, the income was revised or a "
                              "new value table applies)"))
    household_size = CountField(_l("Household size (persons)"), validators=[
        Optional(), within(1, 30, _l("Enter a number from 1 to 30."))],
        description=_l("Only for income-related services."))
    income = MoneyField(_l("Gross monthly income of the household (€)"), validators=[
        Optional(), within(0, message=_l("The income cannot be negative."))],
        description=_l("Only for income-related services."))
    raised_value = MoneyField(_l("Raised value per unit (€)"), validators=[Optional()])
    raise_reason = TextAreaField(_l("Reason for raising the value"), validators=[
        Optional(), Length(max=5000)])
    reason = TextAreaField(_l("Reasons for the change"), validators=[
        InputRequired(_l("Write the reasons for the change.")), Length(max=MAX_TEXT)],
        description=_l("The client reads these in the decision letter."))
