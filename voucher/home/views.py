"""Front page: a landing page for visitors, a role's home page for everyone logged in."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from voucher import clock, db
from voucher.access import public
from voucher.home.standing import standing_of
from voucher.payments import stripe_client
from voucher.providers.expiry import REMINDER_DAYS
from voucher.vouchers.queries import ENDING_SOON_DAYS, NEARLY_USED_PERCENT

bp = Blueprint("home", __name__)


@bp.get("/")
@public
def index():
    if not current_user.is_authenticated:
        return render_template("home/landing.html")
    return render_template(f"home/{current_user.role.value}.html",
                           standing=standing_of(db.session(), current_user,
                                                pay_days=stripe_client.pay_days()),
                           online_payment=stripe_client.is_configured(),
                           today=clock.today(), ending_soon_days=ENDING_SOON_DAYS,
                           nearly_used_percent=NEARLY_USED_PERCENT,
                           reminder_days=REMINDER_DAYS)


@bp.get("/accessibility")
@public
def accessibility():
    return render_template("home/accessibility.html")
