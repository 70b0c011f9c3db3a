"""Login, logout, password change, password reset and invitations."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from voucher import db
from voucher.access import logged_in, public
from voucher.accounts import services, sessions, throttling
from voucher.accounts.forms import ChangePasswordForm, LoginForm, ResetRequestForm, SetPasswordForm
from voucher.accounts.models import TokenPurpose
from voucher.accounts.two_factor_views import begin_second_step
from voucher.audit.services import Actor
from voucher.errors import DomainError
from voucher.web import client_ip, current_actor, render_form, safe_next

bp = Blueprint("accounts", __name__)
SESSION_TOKEN = sessions.COOKIE_KEY


def start_session(user) -> None:
    """Log the user in with a fresh session that keeps only the chosen language. The cookie
    carries the token of the session's row on the server (voucher/accounts/sessions.py)."""
    token = services.record_login(db.session(), user, Actor(
        user.id, f"user:{user.id}", client_ip(), g.get("request_id")))
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    # A permanent session ends after SESSION_TIMEOUT_MINUTES without requests: every request
    # renews it (SESSION_REFRESH_EACH_REQUEST), so the timeout is one of inactivity.
    session.permanent = True
    session[SESSION_TOKEN] = token
    login_user(user)


def renew_identity(user) -> None:
    """After the user's session version changed (a password or two-factor change ended every
    other session), keep this browser's session: its row stayed open."""
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email, ip = form.email.data, client_ip()
        limits = throttling.limits_from(current_app.config)
        try:
            user = services.authenticate(db.session(), email=email, password=form.password.data,
                                         ip=ip, limits=limits)
        except DomainError as exc:
            if isinstance(exc, services.InvalidCredentials):
                normalized = services.normalize_email(email)
                db.keep_despite_refusal(lambda unit: throttling.record_failed_login(
                    unit, email=normalized, ip=ip, limits=limits))
            form.add_errors(exc)
            return render_form("accounts/login.html", form,
                               status=429 if exc.status == 429 else 422)
        return _after_password(user, request.args.get("next"))
    return render_form("accounts/login.html", form)


def _after_password(user, next_url: str | None, message: str | None = None):
    """The password is proven (a login, or a new one set with a reset or invitation link): the
    second step when the user has two-factor authentication on, otherwise a session.
    ``message`` is flashed once logged in (the code step says what is still needed)."""
    if user.totp_enabled:
        language = session.get("language")
        session.clear()
        if language:
            session["language"] = language
        begin_second_step(user, next_url)
        if message:
            flash(_("Your password is set. Enter the code from your authenticator app to "
                    "finish logging in."), "success")
        return redirect(url_for("two_factor.login_code"), code=303)
    start_session(user)
    if message:
        flash(message, "success")
    return redirect(safe_next(next_url, url_for("home.index")), code=303)


@bp.post("/logout")
@logged_in
def logout():
    services.record_logout(db.session(), current_user, current_actor(),
                           token=session.get(SESSION_TOKEN))
    language = session.get("language")
    logout_user()
    session.clear()
    if language:
        session["language"] = language
    flash(_("You have logged out."), "success")
    return redirect(url_for("home.index"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@logged_in
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                db.session(), current_user, current_password=form.current_password.data,
                new_password=form.new_password.data,
                confirm_password=form.confirm_password.data, actor=current_actor(),
                keep_session=session.get(SESSION_TOKEN),
            )
        except DomainError as exc:
            form.add_errors(exc)
        else:
            # The session version changed: renew this session so that only it stays valid.
            renew_identity(current_user._get_current_object())
            flash(_("Your password has been changed. You were logged out everywhere else."),
                  "success")
            return redirect(url_for("home.index"), code=303)
    return render_form("accounts/change_password.html", form)


@bp.route("/password-reset", methods=["GET", "POST"])
@public
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(
            db.session(), email=form.email.data,
            hours=current_app.config["PASSWORD_RESET_HOURS"], ip=client_ip(),
            limits=services.link_limits_from(current_app.config),
        )
        return render_template("accounts/reset_sent.html", email=form.email.data)
    return render_form("accounts/reset_request.html", form)


def _set_password_page(token: str, purpose: TokenPurpose, template: str, done_message: str):
    try:
        services.find_valid_token(db.session(), token, purpose)
    except DomainError as exc:
        return render_template("accounts/link_invalid.html", message=str(exc)), exc.status
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(
                db.session(), token=token, new_password=form.new_password.data,
                confirm_password=form.confirm_password.data, purpose=purpose,
            )
        except DomainError as exc:
            form.add_errors(exc)
        else:
            return _after_password(user, None, done_message)
    return render_form(template, form)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    return _set_password_page(token, TokenPurpose.PASSWORD_RESET, "accounts/reset_password.html",
                              _("Your password has been changed and you are now logged in."))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    return _set_password_page(token, TokenPurpose.INVITATION, "accounts/accept_invitation.html",
                              _("Welcome! Your password is set and you are now logged in."))
