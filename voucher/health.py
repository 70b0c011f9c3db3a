"""Liveness and readiness probes for the load balancer and monitoring."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from voucher import db
from voucher.access import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz():
    """Liveness: the process is up (200 even when the database is not; the body tells)."""
    try:
        with db.engine().connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.DBAPIError:
        database = "unreachable"
    return jsonify(status="ok", database=database)


@bp.get("/readyz")
@public
def readyz():
    """Ready for traffic: the database answers and its schema is at the newest migration."""
    from voucher.migrations import current_revision, head_revision

    try:
        current = current_revision(db.engine())
    except sa.exc.DBAPIError:
        return jsonify(status="error", database="unreachable"), 503
    head = head_revision()
    if current != head:
        return jsonify(status="error", database="ok", migration=current, expected=head), 503
    return jsonify(status="ok", database="ok", migration=current)
