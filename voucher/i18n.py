"""Languages: Finnish (default), Swedish and English.

The language is, in order: the one the person chose with the switcher (remembered in the
session and, when logged in, on their account), the account's language, the browser's
preference, Finnish.
"""

from __future__ import annotations

from babel.numbers import format_decimal
from flask import Blueprint, Flask, has_request_context, redirect, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

from voucher import clock
from voucher.access import public
from voucher.money import format_cents, format_units
from voucher.web import safe_next

LANGUAGES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}
DEFAULT_LANGUAGE = "fi"

babel = Babel()
bp = Blueprint("language", __name__)


def select_language() -> str | None:
    if not has_request_context():
        return None  # CLI commands and background work: the default language
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    return request.accept_languages.best_match(list(LANGUAGES), DEFAULT_LANGUAGE)


def current_language() -> str:
    """The language of the current request as a two-letter code."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def localized(obj, attribute: str, language: str | None = None) -> str:
    """``obj.<attribute>_<lang>``, falling back to Finnish when a translation is empty."""
    language = language or current_language()
    value = getattr(obj, f"{attribute}_{language}", None)
    return value or getattr(obj, f"{attribute}_fi", "") or ""


@bp.get("/language/<code>")
@public
def switch(code: str):
    """Remember the chosen language (and save it on the account) and go back."""
    if code in LANGUAGES:
        session["language"] = code
        if current_user.is_authenticated:
            # The user was loaded in the request's session, which commits this at the end.
            current_user.language = code
    return redirect(safe_next(request.args.get("next"), "/"), code=303)


def format_date(value, language: str | None = None) -> str:
    """A date as people write it: 24.11.2026 (fi, sv), 24 Nov 2026 (en)."""
    if value is None:
        return ""
    language = language or current_language()
    if hasattr(value, "hour"):
        value = clock.local(value).date()
    if language == "en":
        return value.strftime("%-d %b %Y")
    return f"{value.day}.{value.month}.{value.year}"


def format_datetime(value, language: str | None = None) -> str:
    """A moment in Finnish time: 24.11.2026 klo 14.05 (fi), 24.11.2026 kl. 14.05 (sv)."""
    if value is None:
        return ""
    language = language or current_language()
    local = clock.local(value)
    time = f"{local.hour}.{local.minute:02d}"
    if language == "en":
        return f"{local.strftime('%-d %b %Y')} {local.hour:02d}:{local.minute:02d}"
    word = "kl." if language == "sv" else "klo"
    return f"{format_date(local.date(), language)} {word} {time}"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_language)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES, current_language=current_language, localized=localized
    )
    app.jinja_env.filters.update(
        cents=lambda c: format_cents(c, current_language()),
        signed_cents=lambda c: ("+" if c and c > 0 else "") + format_cents(c, current_language()),
        units=lambda u: format_units(u, current_language()),
        date=format_date,
        number=lambda value: format_decimal(value, locale=current_language()),
        datetime=format_datetime,
    )
