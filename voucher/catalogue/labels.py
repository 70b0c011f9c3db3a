"""Names of units of service."""

from flask_babel import lazy_gettext as _l

from voucher.catalogue.models import Unit
from voucher.labels import register

register({
    Unit.HOUR: _l("hour"),
    Unit.VISIT: _l("visit"),
    Unit.DAY: _l("day"),
    Unit.MONTH: _l("month"),
})
