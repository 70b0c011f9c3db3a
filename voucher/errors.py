"""Domain errors and how they reach people: a page for the UI, problem+json for the API.

A service raises a named ``DomainError``; a view maps it to a message next to the form or to a
status code. Nothing a person sees is an unhandled 500 with a traceback.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from voucher import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule refused the operation. ``code`` is stable (the API exposes it).

    Creating one inside a request dooms the request's unit of work (``db.doom``): whatever a
    view then answers, nothing the refused action wrote is committed. Code that merely asks
    whether something is allowed returns a value instead of raising."""

    code = "domain_error"
    status = 409
    message = _l("The operation is not allowed.")

    def __init__(self, message=None, *, field: str | None = None, **params):
        db.doom()
        self.message = message if message is not None else type(self).message
        self.field = field
        self.params = params
        super().__init__(str(self.message))

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class NotFound(DomainError):
    """The object does not exist or belongs to someone else: the same answer for both."""

    code = "not_found"
    status = 404
    message = _l("The page or object was not found.")


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    message = _l("You do not have access to this.")


class ValidationFailed(DomainError):
    """Input was malformed. ``errors`` maps field names to messages."""

    code = "validation_error"
    status = 422
    message = _l("Check the highlighted fields.")

    def __init__(self, errors: dict[str, str], message=None):
        super().__init__(message)
        self.errors = errors


class ConcurrentUpdate(DomainError):
    code = "conflict"
    status = 409
    message = _l(
        "Someone changed the same information at the same time. Nothing was saved; "
        "please try again."
    )


def wants_problem_json() -> bool:
    """API paths answer with RFC 9457 problem details instead of HTML pages."""
    return request.path.startswith("/api/")


def problem_response(status: int, code: str, title: str, detail: str = "", **extra) -> Response:
    """An RFC 9457 problem+json response with the stable ``code``."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or title,
            "code": code, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


_PAGE_TITLES = {
    400: _l("The request could not be handled"),
    401: _l("Please log in"),
    403: _l("No access"),
    404: _l("Page not found"),
    405: _l("The request could not be handled"),
    409: _l("Conflict"),
    413: _l("The file is too large"),
    422: _l("Check the information"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Service temporarily unavailable"),
}
_PAGE_MESSAGES = {
    400: _l("The request was malformed. Go back and try again."),
    403: _l("You do not have access to this page. If you think you should, contact the "
            "administrator."),
    404: _l("The page you were looking for does not exist or is not available to you. Check "
            "the address or go back to the front page."),
    405: _l("This page cannot be used this way. Go back and try again."),
    413: _l("The file you sent is larger than allowed (10 MB). Nothing was saved."),
    429: _l("There have been too many attempts in a short time. Wait a moment and try again."),
    500: _l("An unexpected error occurred and nothing was saved. The error has been logged; "
            "please try again later."),
    503: _l("The service is temporarily unavailable and nothing was saved. Please try again "
            "in a moment."),
}
_API_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
              415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
              500: "internal_error", 503: "unavailable"}


def error_response(status: int, message=None, *, code: str | None = None) -> Response:
    """Render an error as a page (UI) or as problem+json (API)."""
    title = str(_PAGE_TITLES.get(status, _PAGE_TITLES[400]))
    text = str(message) if message is not None else str(_PAGE_MESSAGES.get(status, title))
    if wants_problem_json():
        return problem_response(status, code or _API_CODES.get(status, "error"), title, text)
    html = render_template("errors/error.html", status=status, title=title, message=text)
    return Response(html, status=status, mimetype="text/html")


def database_down_response() -> Response:
    """503 without touching the database that just failed: the page is drawn as for an
    anonymous visitor (the logged-in user would be loaded from the database)."""
    g._login_user = current_app.login_manager.anonymous_user()
    return error_response(503)


def commit_failed_response(exc: sa.exc.DBAPIError) -> Response:
    """The request's work could not be committed; it was rolled back as a whole."""
    if isinstance(exc, sa.exc.OperationalError):
        log.warning("database unavailable at commit: %s", type(exc.orig).__name__)
        return database_down_response()
    log.info("commit conflict: %s", type(exc.orig).__name__)
    return error_response(409, ConcurrentUpdate.message, code=ConcurrentUpdate.code)


def register_error_handlers(app: Flask) -> None:
    """Every error becomes a translated page or problem, never a traceback."""

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        if isinstance(exc, ValidationFailed) and wants_problem_json():
            return problem_response(exc.status, exc.code, str(_PAGE_TITLES[422]), str(exc),
                                    errors=[{"field": f, "message": m}
                                            for f, m in exc.errors.items()])
        response = error_response(exc.status, str(exc), code=exc.code)
        if exc.status == 401 and wants_problem_json():
            response.headers["WWW-Authenticate"] = 'Bearer realm="voucher"'
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(_exc: CSRFError):
        return error_response(400, _l(
            "The form could not be sent because its security token was missing or had expired "
            "(for example after logging out in another tab). Nothing was saved. Go back, "
            "reload the page and send the form again."))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        response = error_response(exc.code or 500)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        retry_after = getattr(exc, "retry_after", None) or (
            exc.response.headers.get("Retry-After") if exc.response is not None else None)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(sa.exc.OperationalError)
    def _database_down(exc):
        log.warning("database unavailable: %s", type(exc.orig).__name__)
        return database_down_response()

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # The route pattern, not the path: a path can carry a one-time token.
        log.exception("unhandled error on %s %s", request.method,
                      request.url_rule.rule if request.url_rule else "<unmatched>")
        return error_response(500)
