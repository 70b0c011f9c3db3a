"""A representative's session: logged in as the client's account, acting under one mandate
(``session["acting"]``, in the signed cookie). Every request to a login-only page checks the
mandate again: revoked or expired, the session ends at once (public pages and the token API
do not act as the client and are left alone). A representative may look at what the client sees, and
post only what the mandate's scope allows; the client's own account pages (password, the
mandates) are not theirs."""

from __future__ import annotations

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from voucher import db
from voucher.access import ANYONE, API_TOKEN, rule_of
from voucher.accounts import sessions
from voucher.errors import PermissionDenied
from voucher.mandates.models import MandateScope
from voucher.mandates.services import mandate_in_force

#: The session key of a representative's session.
ACTING = "acting"
#: The POSTs a mandate may allow, by the scope each needs.
SCOPED = {
    "vouchers.choose_provider": MandateScope.CHOOSE_PROVIDER,
    "payments.pay": MandateScope.PAY,
    "payments.confirm": MandateScope.PAY,
    "feedback.rate": MandateScope.FEEDBACK,
}
#: POSTs every representative may make.
ALWAYS = {"identification.logout", "accounts.logout"}
#: The client's own account: never a representative's.
CLIENT_ONLY = {"accounts.change_password", "two_factor.setup", "mandates.mine",
               "mandates.revoke_mine", "privacy.my_export"}


class OutsideMandate(PermissionDenied):
    code = "outside_mandate"
    message = _l("Your mandate does not allow this. Ask the client or their case manager.")


def register_acting_check(app: Flask) -> None:
    @app.before_request
    def _acting_under_a_mandate():
        acting = session.get(ACTING)
        if not acting or request.endpoint in (None, "static"):
            return None
        if rule_of(app, request.endpoint) in (ANYONE, API_TOKEN):
            return None  # public pages and the token API do not act as the client
        if not current_user.is_authenticated:
            return None
        mandate = mandate_in_force(db.session(), acting.get("mandate_id"),
                                   current_user.client_id)
        if mandate is None:
            sessions.end(db.session(), session.get(sessions.COOKIE_KEY), "mandate_ended")
            language = session.get("language")
            logout_user()
            session.clear()
            if language:
                session["language"] = language
            flash(_("The mandate you acted under has ended or was revoked. You have been "
                    "logged out."), "warning")
            return redirect(url_for("home.index"), code=303)
        g.mandate = mandate
        if request.endpoint in CLIENT_ONLY:
            raise OutsideMandate()
        if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint in ALWAYS:
            return None
        scope = SCOPED.get(request.endpoint)
        if scope is None or not mandate.allows(scope):
            raise OutsideMandate()
        return None
