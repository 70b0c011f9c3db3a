"""Forms of the service catalogue."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from voucher.catalogue.models import Unit
from voucher.forms import BaseForm, DayField, MoneyField
from voucher.labels import label


class ServiceTypeForm(BaseForm):
    """The published description of a service type (the code is fixed once created)."""

    name_fi = StringField(_l("Name in Finnish"), validators=[
        DataRequired(_l("Enter the name in Finnish.")), Length(max=200)])
    name_sv = StringField(_l("Name in Swedish"), validators=[
        DataRequired(_l("Enter the name in Swedish.")), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[
        DataRequired(_l("Enter the name in English.")), Length(max=200)])
    unit = SelectField(_l("Unit"), coerce=Unit)
    fractional_units = BooleanField(_l("Units may be fractional (e.g. 1.5 hours)"))
    income_related = BooleanField(_l("The voucher value depends on household income"))
    free_for_client = BooleanField(
        _l("Free for the client by law (the voucher pays the price up to the cap)"))
    requires_soteri = BooleanField(
        _l("Providers must be registered in Soteri, the register of social and health care "
           "providers"))
    for_children = BooleanField(
        _l("A service to children: providers confirm criminal-record checks of their staff"))
    is_active = BooleanField(_l("Open for applications and new vouchers"), default=True)
    description_fi = TextAreaField(_l("Description in Finnish"), validators=[Optional()])
    description_sv = TextAreaField(_l("Description in Swedish"), validators=[Optional()])
    description_en = TextAreaField(_l("Description in English"), validators=[Optional()])
    criteria_fi = TextAreaField(_l("Approval criteria in Finnish"), validators=[Optional()])
    criteria_sv = TextAreaField(_l("Approval criteria in Swedish"), validators=[Optional()])
    criteria_en = TextAreaField(_l("Approval criteria in English"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = [(unit, label(unit)) for unit in Unit]


class RateFields(BaseForm):
    """A voucher value and price cap from a date on."""

    valid_from = DayField(_l("In force from"), validators=[
        DataRequired(_l("Enter the date from which the value applies."))])
    unit_value = MoneyField(_l("Voucher value per unit (€)"), validators=[
        InputRequired(_l("Enter the voucher value in euros."))])
    price_cap = MoneyField(_l("Price cap per unit (€)"), validators=[Optional()],
                           description=_l("The highest unit price a provider can be approved "
                                          "with. Leave empty for no cap."))


class NewServiceTypeForm(ServiceTypeForm, RateFields):
    code = StringField(_l("Code"), validators=[
        DataRequired(_l("Enter a code.")),
        Regexp(r"^[A-Za-z][A-Za-z0-9_]{1,31}$",
               message=_l("Use 2–32 letters A–Z, digits and underscores, e.g. HOME_CARE."))],
        description=_l("A fixed identifier the API and reports use, e.g. HOME_CARE."))
