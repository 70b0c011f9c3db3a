"""Form building blocks shared by every domain: money, units, dates, and errors from services."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, DateInput, ListWidget

from voucher.errors import DomainError, ValidationFailed
from voucher.money import format_cents, format_units, parse_cents, parse_units
from voucher.text import RefusedCharacter, clean_text


def _cleaner(multiline: bool):
    def clean(value):
        """NFC, plain whitespace; a control character is the field's error (``voucher.text``)."""
        try:
            return clean_text(value, multiline=multiline)
        except RefusedCharacter as exc:
            raise ValueError(str(exc)) from exc

    return clean


_CLEAN_LINE, _CLEAN_LINES = _cleaner(False), _cleaner(True)


class BaseForm(FlaskForm):
    """A form whose errors can also come from a service (``add_errors``), and whose text
    fields are cleaned as every input is (``voucher.text.clean_text``): a control character
    becomes a translated error next to its field; passwords are left exactly as typed."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            filters = tuple(unbound_field.kwargs.get("filters", ()))
            if issubclass(field_class, StringField) and not issubclass(field_class,
                                                                      PasswordField):
                filters = (_CLEAN_LINES if issubclass(field_class, TextAreaField)
                           else _CLEAN_LINE, *filters)
            return unbound_field.bind(form=form, filters=filters, **options)

    def add_errors(self, exc: DomainError) -> None:
        """Put a service's refusal next to the field it concerns, or on top of the form."""
        if isinstance(exc, ValidationFailed):
            for name, message in exc.errors.items():
                self._add_error(name, message)
        else:
            self._add_error(exc.field, str(exc))

    def add_problems(self, problems: dict[str, str], message: str | None = None) -> None:
        """Show what is still missing next to each field, without refusing anything (the
        page says what was done; nothing is rolled back)."""
        for name, text in problems.items():
            self._add_error(name, text)
        if message:
            self.form_errors.append(message)

    def _add_error(self, name: str | None, message: str) -> None:
        field = getattr(self, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            if not isinstance(field.errors, list):
                field.errors = list(field.errors)
            field.errors.append(message)
        else:
            self.form_errors.append(message)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or bool(self.form_errors)


class MoneyField(StringField):
    """Euros typed as text ("35,50"), held as integer cents in ``data``."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, int):
            return format_cents(self.data, "fi").replace("\u00a0€", "").replace(" €", "")
        return ""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_cents(valuelist[0])
            except ValueError as exc:
                raise ValueError(str(_l("Enter an amount in euros, e.g. 35,50."))) from exc


class UnitsField(StringField):
    """A number of units typed as text ("1,5"), held as integer hundredths in ``data``."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, int):
            return format_units(self.data, "fi")
        return ""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_units(valuelist[0])
            except ValueError as exc:
                raise ValueError(str(_l("Enter a number, e.g. 2 or 1,5."))) from exc


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes in a fieldset (macros/forms.html renders it)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def positive(message=None):
    """Validator: the (cents or units) value is greater than zero."""

    def check(_form, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError(message or _l("Enter a number greater than zero."))

    return check


class DayField(StringField):
    """A date from a date input (2026-11-24) or typed as Finns write it (24.11.2026); empty is
    None (a required date says so with a DataRequired-style validator of its own)."""

    widget = DateInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if isinstance(self.data, dt.date) else ""

    def process_formdata(self, valuelist):
        self.data = None
        text = valuelist[0].strip() if valuelist else ""
        if not text:
            return
        for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                self.data = dt.datetime.strptime(text, pattern).date()
                return
            except ValueError:
                continue
        raise ValueError(str(_l("Enter a date, e.g. 24.11.2026.")))
