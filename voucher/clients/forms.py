"""Forms for registering and editing clients."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from voucher.forms import BaseForm, MoneyField
from voucher.i18n import LANGUAGES


class CountField(IntegerField):
    """A whole number typed as text, with a translated message for anything else."""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = int(valuelist[0].strip())
            except ValueError as exc:
                raise ValueError(str(_l("Enter a whole number, e.g. 2."))) from exc


def within(minimum: int | None = None, maximum: int | None = None, message=None):
    """Validator: a number between the bounds; an empty or unreadable value is left to the
    field's own message."""

    def check(_form, field):
        if field.data is None:
            return
        if (minimum is not None and field.data < minimum) or \
                (maximum is not None and field.data > maximum):
            raise ValidationError(message)

    return check


def _optional_text(label, maximum: int, **kwargs):
    return StringField(label, validators=[Optional(), Length(max=maximum)], **kwargs)


class ClientForm(BaseForm):
    first_name = StringField(_l("First name"), validators=[
        DataRequired(_l("Enter the first name.")), Length(max=100)],
        render_kw={"autocomplete": "off"})
    last_name = StringField(_l("Last name"), validators=[
        DataRequired(_l("Enter the last name.")), Length(max=100)],
        render_kw={"autocomplete": "off"})
    municipality = SelectField(_l("Home municipality"), coerce=int, validators=[
        DataRequired(_l("Choose the home municipality."))],
        description=_l("Its budget pays for the client's vouchers."))
    language = RadioField(_l("Language of decisions and messages"),
                          choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
                          default="fi",
                          validators=[DataRequired(_l("Choose a language."))])
    email = EmailField(_l("E-mail address"), validators=[
        Optional(), Email(_l("Enter an e-mail address in the form name@example.fi.")),
        Length(max=254)], description=_l("Needed for a login and for notices by e-mail."),
        render_kw={"autocomplete": "off"})
    phone = _optional_text(_l("Phone number"), 40, render_kw={"autocomplete": "off"})
    street_address = _optional_text(_l("Street address"), 200)
    postal_code = _optional_text(_l("Postal code"), 10)
    city = _optional_text(_l("Post office"), 100)
    household_size = CountField(_l("Household size (persons)"), validators=[
        Optional(), within(1, 30, _l("Enter a number from 1 to 30."))],
        description=_l("Needed for income-related services."))
    income = MoneyField(_l("Gross monthly income of the household (€)"), validators=[
        Optional(), within(0, message=_l("The income cannot be negative."))],
        description=_l("Needed for income-related services."))


class RegisterClientForm(ClientForm):
    identity_code = StringField(_l("Personal identity code"), validators=[
        DataRequired(_l("Enter the personal identity code.")), Length(max=20)],
        description=_l("For example 131052-308T."), render_kw={"autocomplete": "off"})
    send_invitation = BooleanField(_l("Send the client a login invitation by e-mail"))


class ClientSearchForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or personal identity code"), validators=[Optional(),
                                                                      Length(max=100)])
