"""Front page: a landing page for visitors, a role's home page for everyone logged in."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from voucher import db
from voucher.access import public
from voucher.home.standing import standing_of
from voucher.vouchers.queries import ENDING_SOON_DAYS

bp = Blueprint("home", __name__)


@bp.get("/")
@public
def index():
    if not current_user.is_authenticated:
        return render_template("home/landing.html")
    return render_template(f"home/{current_user.role.value}.html",
                           standing=standing_of(db.session(), current_user),
                           ending_soon_days=ENDING_SOON_DAYS)


@bp.get("/accessibility")
@public
def accessibility():
    return render_template("home/accessibility.html")
