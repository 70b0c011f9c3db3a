"""The administrators' list of user accounts, and locking or opening one."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voucher import db
from voucher.access import roles
from voucher.accounts import services
from voucher.accounts.models import Role, User
from voucher.errors import DomainError, NotFound
from voucher.pages import page_number, paginate
from voucher.web import current_actor

bp = Blueprint("users", __name__, url_prefix="/admin/users")


@bp.get("/")
@roles(Role.ADMIN)
def index():
    query = (request.args.get("q") or "").strip().lower()[:254]
    select = sa.select(User).order_by(User.email)
    if query:
        select = select.where(User.email.contains(query, autoescape=True))
    page = paginate(db.session(), select, page_number())
    return render_template("accounts/users.html", page=page, query=query)


def _user(user_id: int) -> User:
    user = db.session().get(User, user_id)
    if user is None:
        raise NotFound()
    return user


@bp.post("/<int:user_id>/lock")
@roles(Role.ADMIN)
def lock(user_id: int):
    user = _user(user_id)
    try:
        services.lock_user(db.session(), user, actor=current_actor())
    except DomainError as exc:
        flash(str(exc), "error")
    else:
        flash(_("%(email)s is locked and logged out everywhere.", email=user.email), "success")
    return redirect(url_for(".index", q=request.args.get("q") or None), code=303)


@bp.post("/<int:user_id>/unlock")
@roles(Role.ADMIN)
def unlock(user_id: int):
    user = _user(user_id)
    services.unlock_user(db.session(), user, actor=current_actor())
    flash(_("%(email)s can log in again.", email=user.email), "success")
    return redirect(url_for(".index", q=request.args.get("q") or None), code=303)
