"""Names of roles."""

from flask_babel import lazy_gettext as _l

from voucher.accounts.models import Role
from voucher.labels import register

register({
    Role.ADMIN: _l("administrator"),
    Role.CASE_MANAGER: _l("case manager"),
    Role.PROVIDER: _l("service provider"),
    Role.CLIENT: _l("client"),
})
