"""Case managers' voucher pages: the list, the decision form, approval, cancellation; and the
administrator's issuing policy. The client's and the provider's pages are in portal_views and
provider_views (same blueprint)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from voucher import clock, db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.budgets.ledger import find_budget
from voucher.catalogue.models import ServiceType
from voucher.clients.services import client_for_staff
from voucher.errors import DomainError
from voucher.i18n import current_language, localized
from voucher.pages import page_number
from voucher.vouchers import issuing, lifecycle, queries
from voucher.vouchers import labels as _labels  # noqa: F401  (registers the state names)
from voucher.vouchers.details import detail_context
from voucher.vouchers.forms import DecisionForm, PolicyForm, ReasonForm, RefusalForm
from voucher.vouchers.models import Recurrence, VoucherStatus
from voucher.vouchers.policy import current_policy, set_four_eyes_threshold
from voucher.vouchers.value import calculation_steps
from voucher.web import current_actor, render_form

bp = Blueprint("vouchers", __name__, url_prefix="/vouchers")


@bp.get("/")
@roles(Role.CASE_MANAGER, Role.ADMIN)
def index():
    session = db.session()
    status = request.args.get("status", "")
    chosen = VoucherStatus(status) if status in set(VoucherStatus) else None
    follow = request.args.get("follow", "")
    follow = queries.FollowUp(follow) if follow in set(queries.FollowUp) else None
    page = queries.find_staff_vouchers(session, current_user, status=chosen,
                                       text=request.args.get("q", "")[:100],
                                       follow=follow, page=page_number())
    is_case_manager = current_user.role == Role.CASE_MANAGER
    return render_template(
        "vouchers/index.html", page=page, status=chosen, statuses=list(VoucherStatus),
        follow=follow, ending_by=queries.ending_soon_by(clock.today()),
        nearly_used_percent=queries.NEARLY_USED_PERCENT,
        q=request.args.get("q", "")[:100],
        awaiting=queries.awaiting_approval_by(session, current_user) if is_case_manager else [],
        in_progress=queries.decisions_in_progress(session, current_user)
        if is_case_manager else [])


def _service_choices(session) -> list[SelectChoice]:
    services = session.execute(sa.select(ServiceType).where(ServiceType.is_active.is_(True))
                               .order_by(ServiceType.code)).scalars()
    return [SelectChoice(s.id, localized(s, "name")) for s in services]


def _decision(form: DecisionForm) -> issuing.Decision:
    return issuing.Decision(
        service_type_id=form.service_type.data, need_assessment=form.need_assessment.data or "",
        recurrence=Recurrence(form.recurrence.data), units_per_period=form.units.data,
        valid_from=form.valid_from.data, valid_until=form.valid_until.data,
        household_size=form.household_size.data, income_cents=form.income.data,
        raised_value_cents=form.raised_value.data, raise_reason=form.raise_reason.data)


def _budget_outlook(session, client, preview: issuing.Preview) -> list[dict]:
    rows = []
    for year, cents in sorted(preview.by_year.items()):
        budget = find_budget(session, client.municipality_id, preview.service_type.id, year)
        rows.append({"year": year, "cents": cents, "budget": budget})
    return rows


def _decision_page(client, voucher=None):
    """The decision form for a new decision or a draft: calculate, save a draft, or issue."""
    session = db.session()
    form = DecisionForm(obj=voucher if voucher is not None and request.method == "GET" else None)
    form.service_type.choices = [SelectChoice(0, _("Choose a service")),
                                 *_service_choices(session)]
    if request.method == "GET":
        form.household_size.data = client.household_size
        form.income.data = client.gross_monthly_income_cents
        if voucher is None:
            form.valid_from.data = clock.today()
        else:
            form.service_type.data = voucher.service_type_id
            form.units.data = voucher.units_per_period
            form.recurrence.data = voucher.recurrence.value
            form.raised_value.data = voucher.calculation.get("raised_value_cents")
            form.raise_reason.data = voucher.value_raise_reason
    preview = outlook = None
    if form.validate_on_submit():
        action = request.form.get("action", "preview")
        try:
            if action == "issue":
                voucher = issuing.issue_decision(
                    session, client=client, decision=_decision(form), actor=current_actor(),
                    voucher=voucher, language=current_language())
                flash(_("The decision is waiting for a second case manager's approval.")
                      if voucher.status == VoucherStatus.PENDING_APPROVAL
                      else _("The voucher has been issued."), "success")
                return redirect(url_for("vouchers.detail", voucher_id=voucher.id), code=303)
            if action == "draft":
                voucher = issuing.save_draft(session, client=client, decision=_decision(form),
                                             actor=current_actor(), voucher=voucher,
                                             language=current_language())
                flash(_("The draft has been saved."), "success")
                return redirect(url_for("vouchers.detail", voucher_id=voucher.id), code=303)
            preview = issuing.preview_decision(session, client=client,
                                               decision=_decision(form),
                                               language=current_language())
            outlook = _budget_outlook(session, client, preview)
        except DomainError as exc:
            form.add_errors(exc)
    steps = calculation_steps(preview.value.calculation, current_language()) if preview else []
    return render_form("vouchers/decision.html", form, client=client, voucher=voucher,
                       preview=preview, outlook=outlook, steps=steps)


@bp.route("/new/<int:client_id>", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER)
def new(client_id: int):
    return _decision_page(client_for_staff(db.session(), current_user, client_id))


@bp.route("/<int:voucher_id>/edit", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER)
def edit(voucher_id: int):
    voucher = queries.voucher_for_staff(db.session(), current_user, voucher_id)
    if voucher.status != VoucherStatus.DRAFT:
        return redirect(url_for("vouchers.detail", voucher_id=voucher.id), code=303)
    return _decision_page(client_for_staff(db.session(), current_user, voucher.client_id),
                          voucher)


@bp.get("/<int:voucher_id>")
@roles(Role.CASE_MANAGER, Role.ADMIN)
def detail(voucher_id: int):
    session = db.session()
    voucher = queries.voucher_for_staff(session, current_user, voucher_id)
    return render_template("vouchers/detail.html", **detail_context(session, voucher))


@bp.post("/<int:voucher_id>/approve")
@roles(Role.CASE_MANAGER)
def approve(voucher_id: int):
    session = db.session()
    voucher = queries.voucher_for_staff(session, current_user, voucher_id)
    try:
        issuing.approve_decision(session, voucher, actor=current_actor(),
                                 language=current_language())
    except DomainError as exc:
        session.rollback()
        voucher = queries.voucher_for_staff(session, current_user, voucher_id)
        return render_template("vouchers/detail.html", error=str(exc),
                               **detail_context(session, voucher)), exc.status
    flash(_("The decision has been approved and the voucher issued."), "success")
    return redirect(url_for("vouchers.detail", voucher_id=voucher.id), code=303)


def _reason_page(voucher_id: int, template: str, act, done: str):
    session = db.session()
    voucher = queries.voucher_for_staff(session, current_user, voucher_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            act(session, voucher, reason=form.reason.data, actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(done, "success")
            return redirect(url_for("vouchers.detail", voucher_id=voucher.id), code=303)
    return render_form(template, form, voucher=voucher)


@bp.route("/<int:voucher_id>/reject", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER)
def reject(voucher_id: int):
    return _reason_page(voucher_id, "vouchers/reject.html", issuing.reject_decision,
                        _("The decision was rejected; its maker has been told."))


@bp.route("/<int:voucher_id>/cancel", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER)
def cancel(voucher_id: int):
    return _reason_page(voucher_id, "vouchers/cancel.html", lifecycle.cancel_voucher,
                        _("The voucher has been cancelled and its unused commitment released."))


@bp.route("/<int:voucher_id>/refusal", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER)
def record_refusal(voucher_id: int):
    """The case manager records a refusal the client made on paper or by phone."""
    session = db.session()
    voucher = queries.voucher_for_staff(session, current_user, voucher_id)
    form = RefusalForm()
    if request.method == "GET":
        form.refused_on.data = clock.today()
    if form.validate_on_submit():
        try:
            lifecycle.refuse_voucher(session, voucher, refused_on=form.refused_on.data,
                                     actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The client's refusal has been recorded; the voucher is cancelled and its "
                    "commitment released."), "success")
            return redirect(url_for("vouchers.detail", voucher_id=voucher.id), code=303)
    return render_form("vouchers/record_refusal.html", form, voucher=voucher)


@bp.route("/policy", methods=["GET", "POST"])
@roles(Role.ADMIN)
def policy():
    session = db.session()
    form = PolicyForm()
    if request.method == "GET":
        form.threshold.data = current_policy(session).four_eyes_threshold_cents
    if form.validate_on_submit():
        set_four_eyes_threshold(session, threshold_cents=form.threshold.data,
                                actor=current_actor())
        flash(_("The issuing policy has been saved."), "success")
        return redirect(url_for("vouchers.policy"), code=303)
    return render_form("vouchers/policy.html", form)


from voucher.vouchers import portal_views, provider_views  # noqa: E402, F401  (their routes)
