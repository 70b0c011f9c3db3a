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
    """Ready for traffic: the database answers and its schema is this code's newest migration
    or a newer one (an upgrade for the next release keeps the running servers in the balancer:
    migrations are written expand-then-contract)."""
    from voucher.migrations import current_revision, head_revision, schema_serves_this_code

    try:
        current = current_revision(db.engine())
    except sa.exc.DBAPIError:
        return jsonify(status="error", database="unreachable"), 503
    head = head_revision()
    if not schema_serves_this_code(current):
        return jsonify(status="error", database="ok", migration=current, expected=head), 503
    if current != head:
        return jsonify(status="ok", database="ok", migration=current, code_head=head,
                       schema="newer")
    return jsonify(status="ok", database="ok", migration=current)
