"""Forms of the accounting dimensions (the rules are checked by the services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from voucher.forms import BaseForm, DayField


def _code(label, description=None, required=False):
    validators = [Length(max=20, message=_l("At most 20 characters."))]
    if not required:
        validators.insert(0, Optional())
    return StringField(label, validators=validators, description=description)


class DimensionsForm(BaseForm):
    """Dimensions from a date on."""

    valid_from = DayField(_l("In force from"), validators=[
        DataRequired(_l("Enter the date from which the values apply."))])
    account = _code(_l("Ledger account"), required=True)
    cost_centre = _code(_l("Cost centre"), required=True)
    project = _code(_l("Project"))
    internal_order = _code(_l("Internal order"))
    vat_code = _code(_l("VAT code"), _l("Social services are exempt from VAT: the ERP's code "
                                        "of an exempt purchase."))


class AuthorityDimensionsForm(DimensionsForm):
    cost_centre = _code(_l("Cost centre"))
    vat_code = _code(_l("VAT code"))


class SupplierNumberForm(BaseForm):
    valid_from = DayField(_l("In force from"), validators=[
        DataRequired(_l("Enter the date from which the values apply."))])
    supplier_number = _code(_l("Supplier number"), required=True)
