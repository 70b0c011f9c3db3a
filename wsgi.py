"""WSGI entry point for gunicorn: ``gunicorn wsgi:app``.

A missing or unsafe setting stops the start with a message naming each one (exit status 1),
never a half-configured server.
"""

import sys

from voucher import create_app
from voucher.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    print(error, file=sys.stderr)
    raise SystemExit(1) from None
