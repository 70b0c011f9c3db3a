"""The second login step and setting up two-factor authentication."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from voucher import db
from voucher.access import logged_in, public
from voucher.accounts import services, two_factor
from voucher.accounts.forms import DisableTwoFactorForm, TotpForm
from voucher.accounts.models import Role, User
from voucher.errors import DomainError
from voucher.web import client_ip, current_actor, render_form, safe_next

bp = Blueprint("two_factor", __name__)
PENDING = "pending_two_factor"
SETUP_KEY = "two_factor_setup"  # the new key, shown to its owner until confirmed
PENDING_SECONDS = 300
#: Pages a staff member without two-factor authentication may open when it is required.
ALLOWED_BEFORE_SETUP = {"two_factor.setup", "accounts.logout", "language.switch", "static",
                        "health.healthz", "health.readyz"}


def begin_second_step(user: User, next_url: str | None) -> None:
    """Remember who passed the password step; the code step finishes the login."""
    session[PENDING] = {"user": user.id, "version": user.session_version,
                        "since": int(time.time()), "next": next_url}


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not pending or time.time() - pending["since"] > PENDING_SECONDS:
        return None
    user = db.session().get(User, pending["user"])
    if user is None or not user.is_active or user.session_version != pending["version"]:
        return None
    return user


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    from voucher.accounts.views import start_session

    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Log in again: the login took too long."), "info")
        return redirect(url_for("accounts.login"), code=303)
    form = TotpForm()
    if form.validate_on_submit():
        if two_factor.verify(db.session(), user, form.code.data):
            next_url = session.pop(PENDING)["next"]
            start_session(user)
            return redirect(safe_next(next_url, url_for("home.index")), code=303)
        # A wrong code counts like a wrong password for throttling.
        email, ip = user.email, client_ip()
        db.keep_despite_refusal(lambda unit: services.record_failed_login(
            unit, email=email, ip=ip, limits=services.login_limits(current_app.config)))
        form.add_errors(DomainError(_("The code is wrong or already used. Try the next code."),
                                    field="code"))
    return render_form("accounts/login_code.html", form)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@logged_in
def setup():
    if current_user.role not in (Role.ADMIN, Role.CASE_MANAGER):
        return redirect(url_for("home.index"))
    required = two_factor.required_for(current_user, current_app.config["REQUIRE_TOTP"])
    if current_user.totp_enabled:
        form = DisableTwoFactorForm()
        if not required and form.validate_on_submit():
            try:
                two_factor.disable(db.session(), current_user, password=form.password.data,
                                   actor=current_actor())
            except DomainError as exc:
                form.add_errors(exc)
            else:
                flash(_("Two-factor authentication is off."), "success")
                return redirect(url_for("two_factor.setup"), code=303)
        return render_form("accounts/two_factor_enabled.html", form, required=required)

    secret = session.get(SETUP_KEY) or two_factor.new_secret()
    session[SETUP_KEY] = secret
    form = TotpForm()
    if form.validate_on_submit():
        try:
            two_factor.enable(db.session(), current_user, secret=secret, code=form.code.data,
                              actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            session.pop(SETUP_KEY, None)
            flash(_("Two-factor authentication is on. From now on you log in with a code "
                    "from your app as well."), "success")
            return redirect(url_for("home.index"), code=303)
    uri = two_factor.provisioning_uri(current_user, secret, current_app.config["AUTHORITY_NAME"])
    return render_form("accounts/two_factor_setup.html", form, secret=secret,
                       qr_svg=two_factor.qr_svg(uri, _("QR code for the authenticator app")),
                       required=required)


def register_enforcement(app) -> None:
    """When two-factor authentication is required, staff set it up before anything else."""

    @app.before_request
    def _require_two_factor():
        if not app.config["REQUIRE_TOTP"] or not current_user.is_authenticated:
            return None
        if not current_user.is_staff or current_user.totp_enabled:
            return None
        if request.endpoint in ALLOWED_BEFORE_SETUP:
            return None
        return redirect(url_for("two_factor.setup"))
