"""Small helpers every blueprint's views use: who is acting, where to go next, form status."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import g, render_template, request, session
from flask_login import current_user

from voucher.audit.services import Actor


def client_ip() -> str:
    """The client's address (ProxyFix has already applied X-Forwarded-For when configured)."""
    return request.remote_addr or "unknown"


def current_actor() -> Actor:
    """The logged-in user as the actor of an audited action."""
    if current_user.is_authenticated:
        acting = session.get("acting")
        if acting:  # a representative: "X on behalf of Y" (voucher/mandates/acting.py)
            return Actor(current_user.id,
                         f"representative {acting.get('masked')} (mandate "
                         f"{acting.get('mandate_id')}) on behalf of user:{current_user.id}",
                         client_ip(), g.get("request_id"))
        return Actor(current_user.id, f"user:{current_user.id}", client_ip(),
                     g.get("request_id"))
    return Actor(None, "anonymous", client_ip(), g.get("request_id"))


def safe_next(target: str | None, default: str) -> str:
    """Follow ?next= only to a path on this site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def render_form(template: str, form, status: int | None = None, **context):
    """Render a form page: 422 when it has errors, so the request's transaction rolls back."""
    if status is None:
        status = 422 if form.has_errors else 200
    return render_template(template, form=form, **context), status
