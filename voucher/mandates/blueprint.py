"""The blueprint of mandates; its view modules import it from here."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mandates", __name__)
