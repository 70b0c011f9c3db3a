"""The second login step and setting up two-factor authentication."""

from __future__ import annotations

import datetime as dt

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

from voucher import clock, db
from voucher.access import logged_in, public
from voucher.accounts import sessions, throttling, two_factor
from voucher.accounts.forms import DisableTwoFactorForm, TotpForm
from voucher.accounts.models import User, UserSession
from voucher.errors import DomainError
from voucher.web import client_ip, current_actor, render_form, safe_next

bp = Blueprint("two_factor", __name__)
PENDING = "pending_two_factor"
SETUP_KEY = "two_factor_setup"  # the new key, shown to its owner until confirmed
PENDING_SECONDS = 300
#: Pages a user without two-factor authentication may open when it is required.
ALLOWED_BEFORE_SETUP = {"two_factor.setup", "accounts.logout", "language.switch", "static",
                        "health.healthz", "health.readyz"}


def begin_second_step(user: User, next_url: str | None) -> None:
    """Remember who passed the password step: a pending login on the server (its token in the
    cookie), which counts the wrong codes; the code step finishes the login."""
    token = sessions.open_session(db.session(), user, ip=client_ip(), awaiting_code=True)
    session[PENDING] = {"token": token, "version": user.session_version, "next": next_url}


def _pending_login() -> tuple[User, UserSession] | None:
    """The user and pending login of this browser, while it may still give a code."""
    pending = session.get(PENDING)
    if not pending or "token" not in pending:
        return None
    row = sessions.find(db.session(), pending["token"], awaiting_code=True)
    if row is None or clock.now() - row.created_at > dt.timedelta(seconds=PENDING_SECONDS):
        return None
    user = db.session().get(User, row.user_id)
    if user is None or not user.is_active or user.session_version != pending["version"]:
        return None
    return user, row


def _start_again(message: str, category: str = "info"):
    session.pop(PENDING, None)
    flash(message, category)
    return redirect(url_for("accounts.login"), code=303)


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    from voucher.accounts.views import start_session

    found = _pending_login()
    if found is None:
        return _start_again(_("Log in again: the login took too long."))
    user, pending = found
    limits = throttling.limits_from(current_app.config)
    form = TotpForm()
    if form.validate_on_submit():
        try:
            throttling.check_code_allowed(db.session(), user, limits=limits)
        except DomainError as exc:
            form.add_errors(exc)
            return render_form("accounts/login_code.html", form, status=429)
        if two_factor.verify(db.session(), user, form.code.data):
            finished = session.pop(PENDING)
            sessions.end(db.session(), finished["token"], "second_step_passed")
            start_session(user)
            return redirect(safe_next(finished["next"], url_for("home.index")), code=303)
        # A wrong code counts against this pending login and the account, although the
        # request is refused; enough of them end the pending login.
        pending_id, ip = pending.id, client_ip()
        db.keep_despite_refusal(lambda unit: throttling.record_failed_code(
            unit, pending_id=pending_id, ip=ip, limits=limits))
        if pending.failed_codes + 1 >= limits["max_code_failures"]:
            db.doom()
            return _start_again(_("Too many wrong codes. Log in again with your password."),
                                "error")
        form.add_errors(DomainError(_("The code is wrong or already used. Try the next code."),
                                    field="code"))
    return render_form("accounts/login_code.html", form)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@logged_in
def setup():
    from voucher.accounts.views import renew_identity

    if not two_factor.available_to(current_user):
        return redirect(url_for("home.index"))
    required = _required(current_app, current_user)
    keep = session.get(sessions.COOKIE_KEY)
    if current_user.totp_enabled:
        form = DisableTwoFactorForm()
        if not required and form.validate_on_submit():
            try:
                two_factor.disable(db.session(), current_user, password=form.password.data,
                                   actor=current_actor(), keep_session=keep)
            except DomainError as exc:
                form.add_errors(exc)
            else:
                renew_identity(current_user._get_current_object())
                flash(_("Two-factor authentication is off."), "success")
                return redirect(url_for("two_factor.setup"), code=303)
        return render_form("accounts/two_factor_enabled.html", form, required=required)

    secret = session.get(SETUP_KEY) or two_factor.new_secret()
    session[SETUP_KEY] = secret
    form = TotpForm()
    if form.validate_on_submit():
        try:
            two_factor.enable(db.session(), current_user, secret=secret, code=form.code.data,
                              actor=current_actor(), keep_session=keep)
        except DomainError as exc:
            form.add_errors(exc)
        else:
            session.pop(SETUP_KEY, None)
            renew_identity(current_user._get_current_object())
            flash(_("Two-factor authentication is on. From now on you log in with a code "
                    "from your app as well."), "success")
            return redirect(url_for("home.index"), code=303)
    uri = two_factor.provisioning_uri(current_user, secret, current_app.config["AUTHORITY_NAME"])
    return render_form("accounts/two_factor_setup.html", form, secret=secret,
                       qr_svg=two_factor.qr_svg(uri, _("QR code for the authenticator app")),
                       required=required)


def _required(app, user) -> bool:
    return two_factor.required_for(user, app.config["REQUIRE_TOTP"],
                                   app.config["REQUIRE_PROVIDER_TOTP"])


def register_enforcement(app) -> None:
    """When two-factor authentication is required (staff with VOUCHER_REQUIRE_TOTP, provider
    users with VOUCHER_REQUIRE_PROVIDER_TOTP), the user sets it up before anything else."""

    @app.before_request
    def _require_two_factor():
        if not (app.config["REQUIRE_TOTP"] or app.config["REQUIRE_PROVIDER_TOTP"]):
            return None
        if not current_user.is_authenticated or current_user.totp_enabled:
            return None
        if not _required(app, current_user):
            return None
        if request.endpoint in ALLOWED_BEFORE_SETUP:
            return None
        return redirect(url_for("two_factor.setup"))
