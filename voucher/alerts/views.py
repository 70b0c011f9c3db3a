"""The administrators' list of open alerts, and resolving one with a note."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _

from voucher import db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.alerts import services
from voucher.alerts.forms import ResolveForm
from voucher.errors import DomainError
from voucher.web import current_actor, render_form

bp = Blueprint("alerts", __name__, url_prefix="/admin/alerts")


def _page(form: ResolveForm, form_alert_id: int | None = None, status: int | None = None):
    session = db.session()
    return render_form("alerts/index.html", form, status=status,
                       open=services.open_alerts(session),
                       resolved=services.resolved_alerts(session),
                       describe=services.describe, form_alert_id=form_alert_id)


@bp.get("/")
@roles(Role.ADMIN)
def index():
    return _page(ResolveForm(formdata=None), status=200)


@bp.post("/<int:alert_id>/resolve")
@roles(Role.ADMIN)
def resolve(alert_id: int):
    form = ResolveForm()
    if not form.validate_on_submit():
        return _page(form, alert_id)
    try:
        services.resolve_alert(db.session(), alert_id=alert_id, note=form.note.data,
                               actor=current_actor())
    except DomainError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The alert is resolved."), "success")
    return redirect(url_for(".index"), code=303)
