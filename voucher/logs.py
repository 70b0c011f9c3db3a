"""Logging: one line per request with a request id; JSON in production.

Paths are logged as their route pattern ("/password-reset/<token>"), never with the values, and
no request bodies are logged, so tokens and personal data stay out of the logs.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

from flask import Flask, g, has_request_context, request, session

access_log = logging.getLogger("voucher.access")


#: PostgreSQL's DETAIL line of an error repeats the row or key values ("Failing row contains
#: (…)", "Key (email)=(…) already exists"); the statement's parameters are hidden by the engine.
_DATABASE_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)


class _ScrubbedExceptions(logging.Formatter):
    """Tracebacks without the values a database error repeats."""

    def formatException(self, ei) -> str:
        return _DATABASE_DETAIL.sub(r"\1 (hidden: it repeats the row's values)",
                                    super().formatException(ei))


class JsonFormatter(_ScrubbedExceptions):
    """One JSON object per line: time, level, logger, message, request id and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
        for key in ("method", "route", "status", "duration_ms", "user_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(_ScrubbedExceptions):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if has_request_context() and g.get("request_id"):
            line = f"{line} [request {g.request_id}]"
        return line


def init_app(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if app.config["LOG_JSON"] else
                         TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("voucher")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    app.logger.handlers[:] = [handler]

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = g.get("request_started")
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        # From the cookie session, not current_user: the database session is closed by now.
        user_id = (session.get("_user_id") or "").split(":")[0] or None
        access_log.info("%s %s %s %sms", request.method, route, response.status_code, duration,
                        extra={"method": request.method, "route": route,
                               "status": response.status_code, "duration_ms": duration,
                               "user_id": user_id})
        return response
