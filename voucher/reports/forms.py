"""The reports' filters (GET forms: they only choose what is shown)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import DataRequired, ValidationError

from voucher.forms import BaseForm, DayField


class _Filters(BaseForm):
    class Meta:
        csrf = False


class YearFilterForm(_Filters):
    year = SelectField(_l("Year"), coerce=int)
    municipality = SelectField(_l("Municipality"), coerce=int, default=0)
    service = SelectField(_l("Service"), coerce=int, default=0)


class PeriodFilterForm(_Filters):
    starts_on = DayField(_l("From"), validators=[DataRequired(_l("Enter the first day."))])
    ends_on = DayField(_l("To"), validators=[DataRequired(_l("Enter the last day."))])

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The last day cannot be before the first day."))
