"""The register's search form (GET: the search is in the address, so it can be shared)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SearchField, SelectField
from wtforms.validators import Length, ValidationError

from voucher.forms import BaseForm
from voucher.i18n import localized
from voucher.providers.labels import LANGUAGE_NAMES


def _known_choice(form, field):
    if field.data not in {value for value, _label in field.choices}:
        raise ValidationError(_("Choose one of the options."))


class SearchForm(BaseForm):
    class Meta:
        csrf = False

    service = SelectField(_l("Service"), default="", validate_choice=False,
                          validators=[_known_choice])
    municipality = SelectField(_l("Municipality"), default="", validate_choice=False,
                               validators=[_known_choice])
    language = SelectField(_l("Service language"), default="", validate_choice=False,
                           validators=[_known_choice])
    q = SearchField(_l("Name or word"), validators=[Length(max=100)],
                    description=_l("Part of the provider's name or of its service "
                                   "description."))
    sort = SelectField(_l("Order"), default="name", validate_choice=False,
                       validators=[_known_choice])

    def __init__(self, *args, service_types, municipalities, language_code: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.service.choices = [("", _("All services"))] + [
            (s.code, localized(s, "name")) for s in service_types]
        self.municipality.choices = [("", _("All municipalities"))] + [
            (m.code, m.name(language_code)) for m in municipalities]
        self.language.choices = [("", _("Any language"))] + [
            (code, str(name)) for code, name in LANGUAGE_NAMES.items()]
        self.sort.choices = [("name", _("Name")), ("price", _("Price, lowest first"))]
