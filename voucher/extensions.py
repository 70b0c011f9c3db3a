"""Extension objects without an app; ``create_app`` binds them."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from voucher.rate_limits import client_address

login_manager = LoginManager()
csrf = CSRFProtect()
#: The provider API's and the application form's limits; the counters live where every server
#: sees them (voucher.rate_limits).
limiter = Limiter(key_func=client_address, default_limits=[])
