"""What every API endpoint shares: the blueprint, bearer-token auth, JSON bodies, paging.

Errors are RFC 9457 problem details (see voucher.errors): a service's DomainError becomes a
problem with its stable ``code``; ValidationFailed adds ``errors: [{field, message}]``.
"""

from __future__ import annotations

import functools

from flask import Blueprint, current_app, g, request
from flask_babel import lazy_gettext as _l

from voucher import db
from voucher.access import api_token, public
from voucher.api.tokens import authenticate_token, provider_of_token
from voucher.errors import DomainError, ValidationFailed
from voucher.extensions import csrf, limiter
from voucher.rate_limits import client_address
from voucher.text import RefusedCharacter, clean_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

MAX_PER_PAGE = 200
#: Keeps OFFSET inside the database's integers.
MAX_PAGE = 1_000_000
DEFAULT_PER_PAGE = 50


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401
    message = _l("A valid API token is required: Authorization: Bearer <token>.")


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _rate_limit_key() -> str:
    """What a caller cannot choose: the provider of a valid token (its tokens share one
    budget), otherwise the address; a made-up token counts against the address it came from."""
    token = _bearer_token()
    provider_id = None
    if token:
        provider_id = provider_of_token(db.engine().connect, token)
    return f"provider:{provider_id}" if provider_id else f"ip:{client_address()}"


# One budget per caller for the whole API (a plain limit would count each endpoint apart).
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api",
                     key_func=_rate_limit_key)(bp)



def provider_api(view):
    """The caller must present an active token; ``g.api_provider_id`` is its provider."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = _bearer_token()
        row = authenticate_token(db.session(), token) if token else None
        if row is None:
            raise Unauthorized()
        g.api_token = row
        g.api_provider_id = row.provider_id
        return view(*args, **kwargs)

    return api_token(wrapper)


def public_api(view):
    """No authentication: the public register."""
    return public(view)


def json_body() -> dict:
    """The request's JSON object with its text cleaned (``voucher.text``), or a validation
    problem."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed({"body": str(_l("The body must be a JSON object."))})
    try:
        return clean_json(body)  # NFC, plain whitespace; control characters refused
    except RefusedCharacter as exc:
        raise ValidationFailed({exc.field: str(exc)}) from exc


def page_args() -> tuple[int, int]:
    """?page=1&per_page=50 (max 200), validated."""
    errors = {}
    values = {}
    for name, default, maximum in (("page", 1, MAX_PAGE), ("per_page", DEFAULT_PER_PAGE,
                                                            MAX_PER_PAGE)):
        raw = request.args.get(name, str(default))
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
            errors[name] = str(_l("Must be a whole number from 1 to %(max)s.", max=maximum))
        else:
            values[name] = int(raw)
    if errors:
        raise ValidationFailed(errors)
    return values["page"], values["per_page"]


def page_of(items: list, page: int, per_page: int, total: int) -> dict:
    return {"items": items, "page": page, "per_page": per_page, "total": total}
