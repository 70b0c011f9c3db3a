"""Forms of the provider's service events: record, correct, upload."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from voucher.forms import BaseForm, MoneyField, UnitsField, positive
from voucher.labels import label
from voucher.redemptions.models import RedemptionStatus
from voucher.redemptions.services import EventInput


class EventForm(BaseForm):
    """A service event. Field names match the API's, so that a service's errors land on the
    right field."""

    service_date = DateField(
        _l("Service date"), format=["%Y-%m-%d", "%d.%m.%Y"],
        invalid_value_message=_l("Enter the date as 31.10.2026 or 2026-10-31."),
        validators=[InputRequired(_l("Enter the date the service was delivered."))])
    units = UnitsField(_l("Units"), validators=[
        InputRequired(_l("Enter the number of units delivered.")), positive()])
    unit_price_cents = MoneyField(_l("Unit price (€)"), validators=[Optional(), positive()],
                                  description=_l("Your approved price on the service date "
                                                 "is filled in; a lower price is allowed."))
    caregiver_ref = StringField(
        _l("Caregiver's staff number"), validators=[Optional(), Length(max=64)],
        description=_l("Your own staff number or code of the caregiver, e.g. HO-17 — never a "
                       "name. It shows clients how many different carers visit them."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    #: Made when the form is first shown and sent with every step: a second "save" of the
    #: same form (a double click, a reload) is recognised and records nothing.
    submission_key = HiddenField(validators=[Optional(), Length(max=64)])

    def event(self) -> EventInput:
        return EventInput(service_date=self.service_date.data, units=self.units.data,
                          unit_price_cents=self.unit_price_cents.data,
                          caregiver_ref=(self.caregiver_ref.data or "").strip() or None,
                          note=(self.note.data or "").strip() or None)


class CorrectionForm(EventForm):
    """The right figures of an invoiced event; nothing delivered means only the reversal."""

    delivered = SelectField(_l("Was the service delivered?"), choices=[
        SelectChoice("yes", _l("Yes, with the figures below")),
        SelectChoice("no", _l("No: only cancel the invoiced event")),
    ], default="yes")

    def validate(self, extra_validators=None) -> bool:
        if self.delivered.data == "no":
            for field in (self.service_date, self.units):
                field.validators = [Optional()]
        return super().validate(extra_validators)


class UploadForm(BaseForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose the CSV file."))],
                     render_kw={"accept": ".csv,text/csv"})
    record_repeats = BooleanField(_l("Record them anyway: they are new service events"))


class FilterForm(BaseForm):
    """The events list's filters (a GET form: no CSRF token). Unknown values mean "all"."""

    class Meta:
        csrf = False

    month = SelectField(_l("Month"), validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()])

    def offer_choices(self, today: dt.date, months: int = 13) -> None:
        """This month and the twelve before it; the event states by their names."""
        month, choices = today.replace(day=1), [SelectChoice("", _l("All months"))]
        for _i in range(months):
            choices.append(SelectChoice(f"{month:%Y-%m}", f"{month.month}/{month.year}"))
            month = (month - dt.timedelta(days=1)).replace(day=1)
        self.month.choices = choices
        self.status.choices = [SelectChoice("", _l("All states"))] + [
            SelectChoice(s.value, label(s)) for s in RedemptionStatus]

    def chosen_month(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and last day of the chosen month, or (None, None)."""
        if self.month.data not in {choice.value for choice in self.month.choices[1:]}:
            return None, None
        first = dt.date.fromisoformat(self.month.data + "-01")
        return first, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)

    def chosen_status(self) -> RedemptionStatus | None:
        values = {s.value for s in RedemptionStatus}
        return RedemptionStatus(self.status.data) if self.status.data in values else None
