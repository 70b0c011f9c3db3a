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

#: "39,00 € an hour": the price per unit as said aloud (the register's plain sentences).
PER_UNIT = {
    Unit.HOUR: _l("an hour"),
    Unit.VISIT: _l("a visit"),
    Unit.DAY: _l("a day"),
    Unit.MONTH: _l("a month"),
}


def per_unit(unit: Unit) -> str:
    return str(PER_UNIT[unit])
