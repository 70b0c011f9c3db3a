"""Settlement pages (administrators): preview and run, payment batches, the payment file."""

from __future__ import annotations

import sqlalchemy as sa
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
from flask_babel import ngettext

from voucher import db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.audit.services import record_event
from voucher.budgets.models import Budget
from voucher.errors import NotFound
from voucher.i18n import current_language
from voucher.money import format_cents
from voucher.settlement import batches, postings
from voucher.settlement import labels as settlement_labels
from voucher.settlement.batches import BatchNotInState
from voucher.settlement.forms import PreviewForm, SettlementForm
from voucher.settlement.planning import HeldInvoice, preview_settlement
from voucher.settlement.run import Payer, missing_accounting, settle_approved_invoices
from voucher.web import current_actor

bp = Blueprint("settlement", __name__, url_prefix="/admin/settlement")


@bp.app_context_processor
def _entry_reasons():
    return {"entry_reasons": settlement_labels.ENTRY_REASONS}


@bp.get("/")
@roles(Role.ADMIN)
def index():
    """What a run would pay now (a preview) and the batches so far."""
    form = PreviewForm(request.args)
    up_to = form.up_to.data if form.validate() else None
    session = db.session()
    preview = preview_settlement(session, up_to=up_to)
    plan = preview.plan
    budgets = {b.id: b for b in session.execute(sa.select(Budget).where(
        Budget.id.in_(list(plan.spend_by_budget)))).scalars()}
    run_form = SettlementForm(data={"up_to": up_to})
    unpostable = missing_accounting(session, plan, self_shares=bool(preview.self_shares)) \
        if plan.payments else []
    return render_template("settlement/index.html", form=form, run_form=run_form, plan=plan,
                           budgets=budgets, self_shares=preview.self_shares,
                           total_cents=preview.total_cents,
                           batches=batches.recent_batches(session), unpostable=unpostable,
                           language=current_language()), 200 if not form.errors else 422


@bp.post("/run")
@roles(Role.ADMIN)
def run():
    """Run settlement; a refusal (SettlementFailed) answers with its page and changes
    nothing."""
    form = SettlementForm()
    if not form.validate():
        flash(" ".join(form.up_to.errors), "error")
        return redirect(url_for(".index"), code=303)
    result = settle_approved_invoices(
        db.session(), actor=current_actor(), payer=Payer.from_config(current_app.config),
        up_to=form.up_to.data)
    if result.held:
        flash(ngettext("%(num)s approved invoice waits for a later run; the reason is shown "
                       "with it.", "%(num)s approved invoices wait for a later run; the "
                       "reasons are shown with them.", len(result.held)), "warning")
    if result.batch is None:
        flash(_("Nothing was paid: there were no approved invoices that could be paid."),
              "info")
        return redirect(url_for(".index"), code=303)
    flash(_("Settled: %(payments)s payments, %(total)s in all. Download the payment file and "
            "send it to the bank.", payments=result.batch.payment_count,
            total=format_cents(result.batch.total_cents, current_language())), "success")
    return redirect(url_for(".batch", batch_id=result.batch.id), code=303)


@bp.get("/batches/<int:batch_id>")
@roles(Role.ADMIN)
def batch(batch_id: int):
    session = db.session()
    found = batches.find_batch(session, batch_id)
    ledger = batches.batch_ledger(session, batch_id)
    return render_template(
        "settlement/batch.html", batch=found, ledger=ledger,
        spending=batches.spending_lines(ledger),
        invoices=batches.invoices_by_payment(session, batch_id),
        held=[HeldInvoice.from_json(h) for h in found.held_invoices],
        posting=postings.find_posting_file(session, batch_id), language=current_language())


@bp.get("/batches/<int:batch_id>/pain001.xml")
@roles(Role.ADMIN)
def download(batch_id: int):
    """The pain.001 file for the bank, exactly as generated."""
    session = db.session()
    found = batches.find_batch(session, batch_id)
    record_event(session, current_actor(), "payment_batch.downloaded", "payment_batch",
                 found.id)
    return Response(found.sepa_xml, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{found.message_id}.xml"'})


@bp.post("/batches/<int:batch_id>/sent")
@roles(Role.ADMIN)
def mark_sent(batch_id: int):
    return _transition(batch_id, batches.mark_batch_sent,
                       _("The payment batch is marked as sent to the bank."))


@bp.post("/batches/<int:batch_id>/confirmed")
@roles(Role.ADMIN)
def confirm_paid(batch_id: int):
    return _transition(batch_id, batches.confirm_batch_paid,
                       _("The payment batch is marked as confirmed paid by the bank."))


def _transition(batch_id: int, move, done: str):
    try:
        move(db.session(), batch_id, actor=current_actor())
    except BatchNotInState as exc:
        flash(str(exc), "error")
    else:
        flash(done, "success")
    return redirect(url_for(".batch", batch_id=batch_id), code=303)


@bp.get("/batches/<int:batch_id>/postings.<any(csv, json):file_format>")
@roles(Role.ADMIN)
def posting_file(batch_id: int, file_format: str):
    """The batch's posting file for the ERP, the bytes stored with the batch."""
    session = db.session()
    found = batches.find_batch(session, batch_id)
    posting = postings.find_posting_file(session, batch_id)
    if posting is None:
        raise NotFound()
    record_event(session, current_actor(), "posting_file.downloaded", "payment_batch",
                 found.id, format=file_format)
    content = posting.csv_content if file_format == "csv" else posting.json_content
    mimetype = "text/csv" if file_format == "csv" else "application/json"
    return Response(content, mimetype=mimetype, headers={
        "Content-Disposition":
            f'attachment; filename="postings-{found.message_id}.{file_format}"'})
