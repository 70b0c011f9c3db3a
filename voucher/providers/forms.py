"""Forms of the provider's application, its sites and documents, and of the review."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from stdnum import iban
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    Regexp,
)

from voucher.forms import BaseForm, DayField, MoneyField, MultiCheckboxField, positive
from voucher.i18n import LANGUAGES, localized
from voucher.labels import label
from voucher.providers.application import DETAIL_FIELDS, OfferInput
from voucher.providers.bank_accounts import pending_change
from voucher.providers.completeness import OFFERED
from voucher.providers.labels import language_name
from voucher.providers.models import DocumentKind
from voucher.providers.pricing import pending_price

_POSTAL_CODE = Regexp(r"^(\d{5})?$", message=_l("A postal code has five digits, e.g. 84100."))


def _email_if_given(form, field):
    if field.data:
        Email(_l("Enter an e-mail address in the form name@example.fi."))(form, field)


class RegistrationForm(BaseForm):
    business_id = StringField(_l("Business ID"), validators=[
        DataRequired(_l("Enter the company's business ID.")), Length(max=20)],
        description=_l("Y-tunnus, e.g. 1234567-1."), render_kw={"autocomplete": "off"})
    legal_name = StringField(_l("Company name"), validators=[
        DataRequired(_l("Enter the company's name.")), Length(max=200)],
        description=_l("The name in the trade register."),
        render_kw={"autocomplete": "organization"})
    contact_person = StringField(_l("Your name"), validators=[
        DataRequired(_l("Enter your name.")), Length(max=200)],
        render_kw={"autocomplete": "name"})
    email = EmailField(_l("E-mail address"), validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Email(_l("Enter an e-mail address in the form name@example.fi.")), Length(max=254)],
        description=_l("You log in with this address, and decisions are sent to it."),
        render_kw={"autocomplete": "email"})
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter a password."))],
        description=_l("At least 12 characters. A few words in a row make a good password."),
        render_kw={"autocomplete": "new-password"})
    confirm_password = PasswordField(_l("Password again"), validators=[
        DataRequired(_l("Enter the password again.")),
        EqualTo("password", _l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"})


class ApplicationForm(BaseForm):
    """Company, registers, insurance, area and languages; the services are added per type by
    ``application_form_class``. Nothing is required for a draft: completeness is checked on
    submission, formats always."""

    legal_name = StringField(_l("Company name"), validators=[Length(max=200)])
    marketing_name = StringField(_l("Marketing name"), validators=[Optional(), Length(max=200)],
                                 description=_l("The name clients know you by, if different."))
    street_address = StringField(_l("Street address"), validators=[Length(max=200)],
                                 render_kw={"autocomplete": "street-address"})
    postal_code = StringField(_l("Postal code"), validators=[_POSTAL_CODE],
                              render_kw={"autocomplete": "postal-code", "inputmode": "numeric"})
    city = StringField(_l("City"), validators=[Length(max=100)],
                       render_kw={"autocomplete": "address-level2"})
    contact_person = StringField(_l("Contact person"), validators=[Length(max=200)])
    email = EmailField(_l("E-mail address"), validators=[_email_if_given, Length(max=254)],
                       description=_l("Shown in the public register."))
    phone = TelField(_l("Phone"), validators=[Length(max=40)],
                     description=_l("Shown in the public register."))
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)])
    iban = StringField(_l("Bank account (IBAN)"), validators=[Length(max=42)],
                       description=_l("Vouchers are paid to this account."))
    bic = StringField(_l("BIC"), validators=[Length(max=11)])
    in_prepayment_register = BooleanField(_l("The company is in the prepayment register"))
    in_trade_register = BooleanField(_l("The company is in the trade register"))
    soteri_registered = BooleanField(
        _l("The company is registered in Soteri, the national register of social and health "
           "care providers"))
    soteri_registration_number = StringField(_l("Soteri registration number"),
                                             validators=[Length(max=50)])
    criminal_record_checks = BooleanField(
        _l("The criminal records of our staff working with children have been checked"))
    insurer = StringField(_l("Insurance company"), validators=[Length(max=200)])
    insurance_policy_number = StringField(_l("Policy number"), validators=[Length(max=100)])
    insurance_valid_until = DayField(_l("Insurance valid until"))
    municipalities = MultiCheckboxField(_l("Service area"), coerce=int,
                                        description=_l("The municipalities where you serve "
                                                       "clients."))
    languages = MultiCheckboxField(_l("Service languages"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages.choices = [(code, language_name(code)) for code in LANGUAGES]


def application_form_class(service_types) -> type[ApplicationForm]:
    """The application form with four fields per service type: offered, unit price,
    description, criteria confirmed."""
    fields = {}
    for service_type in service_types:
        name = localized(service_type, "name")
        key = f"service_{service_type.id}"
        fields[f"{key}_offered"] = BooleanField(_("We offer %(service)s", service=name))
        fields[f"{key}_price"] = MoneyField(
            _("%(service)s: unit price in euros per %(unit)s", service=name,
              unit=label(service_type.unit)),
            validators=[positive(_l("Enter a price greater than zero."))],
            render_kw={"inputmode": "decimal"})
        fields[f"{key}_description"] = TextAreaField(
            _("%(service)s: description of your service", service=name),
            validators=[Length(max=5000)],
            description=_l("What the service includes, when you are available and how "
                           "clients reach you. Shown in the public register."))
        fields[f"{key}_criteria"] = BooleanField(
            _("%(service)s: we meet the approval criteria above", service=name))
    return type("ApplicationFormWithServices", (ApplicationForm,), fields)


def application_data(session, provider) -> dict:
    """The saved application as form data."""
    data = {name: getattr(provider, name) for name in DETAIL_FIELDS}
    change = pending_change(session, provider)
    if change is not None:  # the account the provider asked for, waiting for approval
        data["iban"], data["bic"] = change.iban, change.bic
    if data["iban"]:
        data["iban"] = iban.format(data["iban"])
    data["municipalities"] = [m.id for m in provider.municipalities]
    data["languages"] = provider.language_codes
    for offer in provider.services:
        key = f"service_{offer.service_type_id}"
        proposal = pending_price(session, offer)
        data[f"{key}_offered"] = offer.status in OFFERED
        data[f"{key}_price"] = proposal.unit_price_cents if proposal else \
            offer.current_price_cents
        data[f"{key}_description"] = offer.description
        data[f"{key}_criteria"] = offer.criteria_confirmed
    return data


def offers_from(form, service_types) -> list[OfferInput]:
    def value(service_type, suffix):
        return form[f"service_{service_type.id}_{suffix}"].data

    return [OfferInput(service_type_id=s.id, offered=bool(value(s, "offered")),
                       price_cents=value(s, "price"), description=value(s, "description") or "",
                       criteria_confirmed=bool(value(s, "criteria")))
            for s in service_types]


class SiteForm(BaseForm):
    name = StringField(_l("Name of the site"), validators=[
        DataRequired(_l("Enter a name for the site, e.g. Head office.")), Length(max=200)])
    street_address = StringField(_l("Street address"), validators=[
        DataRequired(_l("Enter the street address.")), Length(max=200)])
    postal_code = StringField(_l("Postal code"), validators=[
        DataRequired(_l("Enter the postal code.")), _POSTAL_CODE])
    city = StringField(_l("City"), validators=[
        DataRequired(_l("Enter the city.")), Length(max=100)])
    municipality = SelectField(_l("Municipality"), coerce=int,
                               description=_l("If the site is outside the member "
                                              "municipalities, choose “Elsewhere”."))


class DocumentForm(BaseForm):
    kind = SelectField(_l("Document"), choices=[], validate_choice=True)
    file = FileField(_l("PDF file"), validators=[FileRequired(_l("Choose a PDF file."))],
                     render_kw={"accept": "application/pdf,.pdf"})
    valid_until = DayField(_l("Valid until"), validators=[Optional()],
                           description=_l("For documents that expire, such as the insurance "
                                          "certificate: you will be reminded 30 days before."))

    def __init__(self, *args, max_megabytes: str = "10", **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(kind.value, label(kind)) for kind in DocumentKind]
        self.file.description = _("PDF only, at most %(mb)s MB.", mb=max_megabytes)


def review_form(items, **kwargs) -> BaseForm:
    """One decision and reason per service or price increase waiting, and a message."""
    fields = {"message": TextAreaField(
        _l("Message to the provider"), validators=[Optional(), Length(max=5000)],
        description=_l("Shown to the provider with the decision, e.g. what to change."))}
    choices = {}
    for item in items:
        name = localized(item.offer.service_type, "name")
        key = f"decision_{item.offer.id}"
        choices[key] = [("approve", _("Approve")), ("reject", _("Reject"))]
        if item.is_price_increase:
            heading = _("%(service)s: price increase", service=name)
        else:
            heading = _("%(service)s: decision", service=name)
            choices[key].append(("request_changes", _("Request changes")))
        fields[key] = RadioField(heading, validators=[
            InputRequired(_("Choose a decision for %(service)s.", service=name))])
        fields[f"reason_{item.offer.id}"] = TextAreaField(
            _("%(service)s: reason", service=name), validators=[Length(max=5000)],
            description=_l("Required when you reject or request changes; the provider sees "
                           "it."))
    form = type("ReviewForm", (BaseForm,), fields)(**kwargs)
    for key, options in choices.items():
        form[key].choices = options
    return form


class ReasonForm(BaseForm):
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Give the reason: the provider sees it.")), Length(max=5000)])



class BankAccountDecisionForm(BaseForm):
    """Approve or reject a change of bank account; a rejection needs a reason."""

    reason = TextAreaField(_l("Reason or note"), validators=[Length(max=2000)],
                           description=_l("Required for a rejection. The provider's users "
                                          "see it."))
