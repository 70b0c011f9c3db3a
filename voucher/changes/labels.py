"""Names of the states of a change of decision."""

from flask_babel import lazy_gettext as _l

from voucher.changes.models import ChangeStatus
from voucher.labels import register

register({
    ChangeStatus.PROPOSED: _l("waiting for approval"),
    ChangeStatus.APPROVED: _l("in force"),
    ChangeStatus.REJECTED: _l("rejected"),
    ChangeStatus.WITHDRAWN: _l("withdrawn"),
})
