"""Budget forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import InputRequired

from voucher.clients.forms import CountField, within
from voucher.forms import BaseForm, MoneyField


class BudgetAmountForm(BaseForm):
    amount = MoneyField(_l("Amount (€)"), validators=[
        InputRequired(_l("Enter the amount.")),
        within(0, message=_l("The amount cannot be negative."))])


class NewBudgetForm(BudgetAmountForm):
    municipality = SelectField(_l("Municipality"), coerce=int)
    service_type = SelectField(_l("Service"), coerce=int)
    year = CountField(_l("Year"), validators=[
        InputRequired(_l("Enter the year.")),
        within(2000, 2100, _l("Enter a year, e.g. 2027."))])
