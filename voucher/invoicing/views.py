"""Invoices: the provider creates a month's invoice; the administrator approves or rejects."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from voucher import clock, db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.errors import DomainError
from voucher.i18n import current_language
from voucher.invoicing import labels as _invoice_labels  # noqa: F401 (registers them)
from voucher.invoicing import queries, services
from voucher.invoicing.documents import invoice_pdf
from voucher.invoicing.finvoice import invoice_finvoice
from voucher.invoicing.forms import CreateInvoiceForm, RejectForm
from voucher.invoicing.models import Invoice, InvoiceStatus
from voucher.invoicing.reference import format_reference
from voucher.web import current_actor, render_form

bp = Blueprint("invoicing", __name__)


def _provider_page(form: CreateInvoiceForm, error: str | None = None, status: int = 200):
    session = db.session()
    provider_id = current_user.provider_id
    today = clock.today()
    invoices, _total = queries.provider_invoices(session, provider_id=provider_id,
                                                 per_page=200, with_payments=True)
    months = queries.months_to_invoice(session, provider_id=provider_id, today=today)
    corrections = queries.pending_corrections(session, provider_id=provider_id)
    last_closed = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return render_template(
        "invoicing/provider_invoices.html", form=form, invoices=invoices, months=months,
        corrections=corrections, last_closed=last_closed, error=error,
        period_label=services.period_label), status


@bp.get("/provider/invoices")
@roles(Role.PROVIDER)
def provider_invoices():
    return _provider_page(CreateInvoiceForm())


@bp.post("/provider/invoices")
@roles(Role.PROVIDER)
def create_invoice():
    form = CreateInvoiceForm()
    if not form.validate_on_submit():
        return _provider_page(form, _("Choose the month to invoice."), 422)
    try:
        invoice = services.create_invoice(
            db.session(), provider_id=current_user.provider_id,
            period=services.parse_period(form.period.data), actor=current_actor(),
            user_id=current_user.id)
    except DomainError as exc:
        return _provider_page(form, str(exc), exc.status)
    flash(_("Invoice %(number)s was sent to the authority for approval.",
            number=invoice.number), "success")
    return redirect(url_for("invoicing.provider_invoice", invoice_id=invoice.id), code=303)


@bp.get("/provider/invoices/<int:invoice_id>")
@roles(Role.PROVIDER)
def provider_invoice(invoice_id: int):
    invoice = services.find_provider_invoice(db.session(), provider_id=current_user.provider_id,
                                             invoice_id=invoice_id)
    return render_template("invoicing/invoice.html", invoice=invoice, admin=False,
                           period_label=services.period_label,
                           format_reference=format_reference)


def _pdf_response(invoice: Invoice) -> Response:
    return Response(invoice_pdf(invoice, current_language()), mimetype="application/pdf",
                    headers={"Content-Disposition":
                             f'inline; filename="invoice-{invoice.number}.pdf"'})


@bp.get("/provider/invoices/<int:invoice_id>/pdf")
@roles(Role.PROVIDER)
def provider_invoice_pdf(invoice_id: int):
    return _pdf_response(services.find_provider_invoice(
        db.session(), provider_id=current_user.provider_id, invoice_id=invoice_id))


def finvoice_response(invoice: Invoice) -> Response:
    """The invoice as Finvoice 3.0 XML, with the supplier number in force on its date."""
    content = invoice_finvoice(db.session(), invoice, current_app.config)
    return Response(content, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="finvoice-{invoice.number}.xml"'})


@bp.get("/provider/invoices/<int:invoice_id>/finvoice.xml")
@roles(Role.PROVIDER)
def provider_invoice_finvoice(invoice_id: int):
    return finvoice_response(services.find_provider_invoice(
        db.session(), provider_id=current_user.provider_id, invoice_id=invoice_id))


@bp.get("/admin/invoices/<int:invoice_id>/finvoice.xml")
@roles(Role.ADMIN)
def admin_invoice_finvoice(invoice_id: int):
    return finvoice_response(services.find_invoice(db.session(), invoice_id=invoice_id))


@bp.get("/admin/invoices")
@roles(Role.ADMIN)
def admin_invoices():
    raw = request.args.get("status", InvoiceStatus.SUBMITTED.value)
    status = InvoiceStatus(raw) if raw in {s.value for s in InvoiceStatus} else None
    return render_template(
        "invoicing/admin_invoices.html", status=status, statuses=list(InvoiceStatus),
        invoices=queries.invoices_for_review(db.session(), status=status),
        waiting=queries.count_waiting(db.session()), period_label=services.period_label)


def _admin_page(invoice: Invoice, form: RejectForm, status: int | None = None):
    return render_form("invoicing/invoice.html", form, status=status, invoice=invoice,
                       admin=True, period_label=services.period_label,
                       format_reference=format_reference)


@bp.get("/admin/invoices/<int:invoice_id>")
@roles(Role.ADMIN)
def admin_invoice(invoice_id: int):
    return _admin_page(services.find_invoice(db.session(), invoice_id=invoice_id), RejectForm())


@bp.get("/admin/invoices/<int:invoice_id>/pdf")
@roles(Role.ADMIN)
def admin_invoice_pdf(invoice_id: int):
    return _pdf_response(services.find_invoice(db.session(), invoice_id=invoice_id))


@bp.post("/admin/invoices/<int:invoice_id>/approve")
@roles(Role.ADMIN)
def approve(invoice_id: int):
    try:
        invoice = services.approve_invoice(db.session(), invoice_id=invoice_id,
                                           actor=current_actor(), user_id=current_user.id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(str(exc), "error")
        return redirect(url_for("invoicing.admin_invoice", invoice_id=invoice_id), code=303)
    flash(_("Invoice %(number)s approved. Its service events wait for settlement.",
            number=invoice.number), "success")
    return redirect(url_for("invoicing.admin_invoices"), code=303)


@bp.post("/admin/invoices/<int:invoice_id>/reject")
@roles(Role.ADMIN)
def reject(invoice_id: int):
    invoice = services.find_invoice(db.session(), invoice_id=invoice_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            services.reject_invoice(db.session(), invoice_id=invoice.id,
                                    reason=form.reason.data, actor=current_actor(),
                                    user_id=current_user.id)
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("Invoice %(number)s rejected. The provider was told the reason.",
                    number=invoice.number), "success")
            return redirect(url_for("invoicing.admin_invoices"), code=303)
    return _admin_page(invoice, form, status=422)
