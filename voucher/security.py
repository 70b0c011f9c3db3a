"""HTTP security headers, the session timeout and request ids."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, g, request, session

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def stripe_js_origin(config) -> str | None:
    """The origin Stripe.js loads from, when online payment is on: an https origin (Stripe's),
    or in development and tests exactly the configured local fake's http origin on loopback."""
    url = urlsplit(config.get("STRIPE_JS_URL") or "")
    if not config.get("STRIPE_SECRET_KEY") or not url.hostname:
        return None
    origin = f"{url.scheme}://{url.netloc}"
    if url.scheme == "https":
        return origin
    if (url.scheme == "http" and config.get("VOUCHER_ENV") != "production"
            and url.hostname in LOOPBACK_HOSTS):
        return origin
    return None


def content_security_policy(app: Flask) -> str:
    """No inline scripts or styles; Stripe.js only where the online payment is switched on;
    forms may lead on to the strong-identification IdP (``FORM_ACTION_ORIGINS``: logging out
    ends there)."""
    script_src = ["'self'"]
    frame_src = ["'none'"]
    connect_src = ["'self'"]
    origin = stripe_js_origin(app.config)
    if origin and origin.startswith("https://"):
        script_src.append(origin)
        frame_src = [origin, "https://hooks.stripe.com"]
        connect_src.append("https://api.stripe.com")
    elif origin:  # the local fake serves Stripe.js and its API from one origin, no frames
        script_src.append(origin)
        connect_src.append(origin)
    return "; ".join([
        "default-src 'self'",
        f"script-src {' '.join(script_src)}",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src {' '.join(connect_src)}",
        f"frame-src {' '.join(frame_src)}",
        "frame-ancestors 'none'",
        " ".join(["form-action 'self'", *app.config.get("FORM_ACTION_ORIGINS", ())]),
        "base-uri 'none'",
        "object-src 'none'",
    ])


def init_app(app: Flask) -> None:
    csp = None

    @app.before_request
    def _request_id():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if 0 < len(incoming) <= 64 and incoming.isalnum() \
            else secrets.token_hex(8)

    @app.after_request
    def _security_headers(response):
        nonlocal csp
        if csp is None:
            csp = content_security_policy(app)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(self)"
        headers["X-Request-Id"] = g.get("request_id", "")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        # Pages with personal data and the provider API are never stored by browsers or proxies.
        if session.get("_user_id") or request.headers.get("Authorization"):
            headers.setdefault("Cache-Control", "no-store")
        return response
