"""Administrators search the audit trail."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from voucher import db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.audit.forms import AuditSearchForm
from voucher.audit.search import AuditQuery, client_number_for, search_audit
from voucher.audit.services import readable_data
from voucher.clients.models import Client

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
PER_PAGE = 50


@bp.post("/")
@roles(Role.ADMIN)
def submit_search():
    """The form is posted so that an identity code never appears in a URL; it becomes the
    client number in the address of the results."""
    form = AuditSearchForm(request.form)
    args = {name: value for name, value in request.form.items()
            if value and name in form._fields and name != "person"}
    person = (form.person.data or "").strip()
    if person:
        args["person"] = person if person.isdigit() else \
            str(client_number_for(db.session(), person))
    return redirect(url_for("audit.search", **args), code=303)


@bp.get("/")
@roles(Role.ADMIN)
def search():
    form = AuditSearchForm(request.args)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    results, total, export_client, details = [], 0, None, {}
    if form.validate():
        query = AuditQuery(actor_email=form.actor.data, person=form.person.data,
                           object_type=form.object_type.data, object_id=form.object_id.data,
                           action=form.action.data, date_from=form.date_from.data,
                           date_to=form.date_to.data)
        results, total = search_audit(db.session(), query, page=page, per_page=PER_PAGE)
        details = readable_data(db.session(), [event for event, _email in results])
        export_client = _exportable_client(form.person.data)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    status = 422 if form.errors else 200
    return render_template("audit/search.html", form=form, results=results, total=total,
                           page=page, pages=max(1, -(-total // PER_PAGE)), args=args,
                           export_client=export_client, details=details), status


def _exportable_client(person: str | None) -> Client | None:
    """The client searched for by number, when their data can still be exported."""
    person = (person or "").strip()
    if not person.isdigit():
        return None
    found = db.session().get(Client, int(person))
    return found if found is not None and not found.is_pseudonymised else None
