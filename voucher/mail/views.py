"""The outbox, readable by administrators in development (there is no mail server there)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template

from voucher import db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.mail.models import OutboxMessage

bp = Blueprint("mail", __name__, url_prefix="/admin/outbox")


def _outbox_visible() -> None:
    if current_app.config["VOUCHER_ENV"] == "production":
        abort(404)


@bp.get("/")
@roles(Role.ADMIN)
def outbox():
    _outbox_visible()
    messages = db.session().execute(
        sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)
    ).scalars().all()
    return render_template("mail/outbox.html", messages=messages)


@bp.get("/<int:message_id>")
@roles(Role.ADMIN)
def message(message_id: int):
    _outbox_visible()
    found = db.session().get(OutboxMessage, message_id)
    if found is None:
        abort(404)
    return render_template("mail/message.html", message=found)
