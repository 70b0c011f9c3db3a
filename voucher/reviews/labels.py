"""Names of the outcomes and channels of requests for review."""

from flask_babel import lazy_gettext as _l

from voucher.labels import register
from voucher.reviews.models import ReviewChannel, ReviewOutcome

register({
    ReviewOutcome.UPHELD: _l("the decision stands"),
    ReviewOutcome.CHANGED: _l("the decision is changed"),
    ReviewOutcome.DISMISSED: _l("the request is not examined"),
    ReviewChannel.ONLINE: _l("online"),
    ReviewChannel.PAPER: _l("on paper"),
})
