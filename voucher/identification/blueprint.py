"""The blueprint of strong identification; its view modules import it from here."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("identification", __name__, url_prefix="/auth/saml")
