"""Static files under addresses that change with their content.

``url_for("static", filename=…)`` adds ``v=``, a digest of the file, and a request that names
the file's current digest is answered with a year's ``immutable`` caching: a browser then
loads the style sheets and scripts once, not revalidating each of them on every page (four
requests fewer a page view for the app servers). An address without the digest, or with an
old one (a page cached before a release), gets the file with revalidation, as before.
Every server computes the same digest from the same file, so the address is one for all.
"""

from __future__ import annotations

import hashlib
import os
import stat
from functools import lru_cache

from flask import Flask, request
from werkzeug.security import safe_join

ONE_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=256)
def _digest(path: str, modified_ns: int, size: int) -> str:
    """The first 12 hex digits of the file's SHA-256 (the file as of ``modified_ns``)."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:12]


def fingerprint(app: Flask, filename: str | None) -> str | None:
    """The digest of a file under the static folder, or None when there is no such file."""
    path = safe_join(app.static_folder, filename) if filename and app.static_folder else None
    if path is None:
        return None
    try:
        found = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return _digest(path, found.st_mtime_ns, found.st_size)


def init_app(app: Flask) -> None:
    @app.url_defaults
    def _add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            digest = fingerprint(app, values.get("filename"))
            if digest:
                values["v"] = digest

    def max_age(filename: str | None) -> int | None:
        asked = request.args.get("v")
        return ONE_YEAR if asked and asked == fingerprint(app, filename) else None

    app.get_send_file_max_age = max_age  # Flask's static view asks this for each file

    @app.after_request
    def _immutable(response):
        if request.endpoint == "static" and response.cache_control.max_age == ONE_YEAR:
            response.cache_control.immutable = True
        return response
