"""Forms of the voucher pages: the decision, answers, cancellation, activation, policy."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from voucher.clients.forms import CountField, within
from voucher.forms import BaseForm, DayField, MoneyField, UnitsField
from voucher.vouchers.models import Recurrence


class DecisionForm(BaseForm):
    service_type = SelectField(_l("Service"), coerce=int, validators=[
        DataRequired(_l("Choose a service."))])
    need_assessment = TextAreaField(_l("Need assessment"), validators=[
        DataRequired(_l("Write the need assessment.")), Length(max=10_000)],
        description=_l("What the client needs and why. The client sees this on the decision."))
    recurrence = RadioField(_l("How the units are granted"), choices=[
        SelectChoice(Recurrence.TOTAL.value,
                     _l("A number of units in all for the whole validity")),
        SelectChoice(Recurrence.MONTHLY.value,
                     _l("A number of units each calendar month (unused units do not carry "
                        "over)"))],
        default=Recurrence.TOTAL.value,
        validators=[DataRequired(_l("Choose how the units are granted."))])
    units = UnitsField(_l("Units"), validators=[InputRequired(_l("Enter the number of units."))],
                       description=_l("In all, or per month for a monthly voucher. Hours may "
                                      "have decimals, e.g. 1,5."))
    valid_from = DayField(_l("Valid from"), validators=[
        InputRequired(_l("Enter the first day of validity."))])
    valid_until = DayField(_l("Valid until"), validators=[
        InputRequired(_l("Enter the last day of validity."))])
    household_size = CountField(_l("Household size (persons)"), validators=[
        Optional(), within(1, 30, _l("Enter a number from 1 to 30."))],
        description=_l("Only for income-related services."))
    income = MoneyField(_l("Gross monthly income of the household (€)"), validators=[
        Optional(), within(0, message=_l("The income cannot be negative."))],
        description=_l("Only for income-related services."))
    raised_value = MoneyField(_l("Raised value per unit (€)"), validators=[Optional()],
                              description=_l("Only when the value must be raised for this "
                                             "client, for example because the self-share "
                                             "would endanger their livelihood."))
    raise_reason = TextAreaField(_l("Reason for raising the value"), validators=[
        Optional(), Length(max=5000)])


class ReasonForm(BaseForm):
    """A cancellation, a rejection of a decision or a provider's decline: a reason."""

    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Write the reason.")), Length(max=2000)])


class RefusalForm(BaseForm):
    """A case manager records the client's refusal received on paper or by phone."""

    refused_on = DayField(_l("Day the client refused"), validators=[
        InputRequired(_l("Enter the day the client refused."))],
        description=_l("The day the refusal was received, e.g. 2.12.2026."))


class PostedForm(BaseForm):
    """The post room marks the letters of a printed batch as posted."""

    posted_on = DayField(_l("Posted on"), validators=[
        InputRequired(_l("Enter the day the letters were posted."))])


class ActivationForm(BaseForm):
    code = StringField(_l("Voucher code"), validators=[
        DataRequired(_l("Enter the voucher code.")), Length(max=40)],
        description=_l("On the decision letter, e.g. 7KQX-M2RT-9HCW-PV4N-ZD3E."),
        render_kw={"autocomplete": "off", "spellcheck": "false"})
    confirmation_code = StringField(_l("Confirmation code"), validators=[
        DataRequired(_l("Enter the confirmation code.")), Length(max=20)],
        description=_l("The six characters next to the voucher code."),
        render_kw={"autocomplete": "off", "spellcheck": "false"})


class PolicyForm(BaseForm):
    threshold = MoneyField(_l("Second approval needed above (€)"), validators=[
        InputRequired(_l("Enter an amount.")),
        within(0, message=_l("The amount cannot be negative."))],
        description=_l("A decision whose total value (units × value per unit) is above this "
                       "needs a second case manager's approval."))
