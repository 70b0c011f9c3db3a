"""Forms of requests for review and their decisions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from voucher.forms import BaseForm, DayField
from voucher.reviews.models import ReviewOutcome
from voucher.reviews.services import MAX_TEXT


class RequestForm(BaseForm):
    request_text = TextAreaField(
        _l("What should be changed in the decision, and why?"),
        validators=[InputRequired(_l("Write what you want changed in the decision and why.")),
                    Length(max=MAX_TEXT)],
        description=_l("For example: the units are too few for my need, because …"))


class PaperRequestForm(RequestForm):
    received_on = DayField(_l("Day the request arrived"), validators=[
        InputRequired(_l("Enter the day the request arrived."))])


class ReviewDecisionForm(BaseForm):
    outcome = RadioField(_l("Decision"), choices=[
        SelectChoice(ReviewOutcome.UPHELD.value, _l("The decision stands")),
        SelectChoice(ReviewOutcome.CHANGED.value,
                     _l("The decision is changed (make the changed decision after this)")),
        SelectChoice(ReviewOutcome.DISMISSED.value,
                     _l("The request is not examined (for example, it came too late)"))],
        validators=[InputRequired(_l("Choose the decision."))])
    reasoning = TextAreaField(_l("Reasons"), validators=[
        InputRequired(_l("Write the reasons for the decision.")), Length(max=MAX_TEXT)],
        description=_l("The client reads these in the decision letter."))
