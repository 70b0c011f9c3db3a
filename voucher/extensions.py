"""Extension objects without an app; ``create_app`` binds them."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
#: Used by the provider API; the storage is configurable (memory by default).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
