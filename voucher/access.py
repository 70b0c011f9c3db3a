"""Who may open which view: every endpoint declares a rule, and a view without one is refused.

Rules are checked before the view runs (authorize first). Object-level scope (a case manager's
municipalities, a provider's own vouchers) is enforced by the services' queries, which answer
404 for objects of another owner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from voucher.accounts.models import Role

log = logging.getLogger(__name__)

ANYONE = "anyone"  #: no login needed (public pages, the public API)
LOGGED_IN = "logged_in"  #: any logged-in user
API_TOKEN = "api_token"  #: the provider API's bearer token, checked by the API itself  # noqa: S105


def _declare(rule, view: Callable) -> Callable:
    view.access_rule = rule
    return view


def public(view: Callable) -> Callable:
    """Anyone may open this view."""
    return _declare(ANYONE, view)


def logged_in(view: Callable) -> Callable:
    """Any logged-in user may open this view."""
    return _declare(LOGGED_IN, view)


def api_token(view: Callable) -> Callable:
    """The view authenticates a provider API token itself."""
    return _declare(API_TOKEN, view)


def roles(*allowed: Role) -> Callable[[Callable], Callable]:
    """Only logged-in users with one of these roles may open this view."""
    if not allowed:
        raise ValueError("roles() needs at least one role")

    def decorator(view: Callable) -> Callable:
        return _declare(frozenset(allowed), view)

    return decorator


def rule_of(app: Flask, endpoint: str):
    """The declared access rule of an endpoint, or None."""
    if endpoint == "static":
        return ANYONE
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def register_access_check(app: Flask) -> None:
    """Refuse every request whose view has no rule, and enforce the rules that exist."""

    @app.before_request
    def _authorize():
        if request.endpoint is None:
            return None  # 404/405 from routing: the error handlers answer
        rule = rule_of(app, request.endpoint)
        if rule is None:
            log.error("endpoint %s has no access rule; refused", request.endpoint)
            abort(403)
        if rule in (ANYONE, API_TOKEN):
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        if rule == LOGGED_IN or current_user.role in rule:
            return None
        abort(403)

