"""Pages of a change of decision: the case manager's proposal (with its preview), the change
itself (approve, reject, withdraw), and the change decision's letter, which the client and the
case managers of the client's municipality may open."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from voucher import clock, db
from voucher.access import roles
from voucher.accounts.models import Role, User
from voucher.catalogue.models import ServiceType
from voucher.changes import labels as _change_labels  # noqa: F401 (registers them)
from voucher.changes import services
from voucher.changes.forms import ChangeForm
from voucher.changes.letter import change_letter_for, change_letter_pdf, change_rows
from voucher.changes.models import ChangeStatus
from voucher.errors import DomainError, NotFound
from voucher.i18n import current_language, localized
from voucher.vouchers import queries
from voucher.vouchers.forms import ReasonForm
from voucher.vouchers.value import calculation_steps
from voucher.web import current_actor, render_form

bp = Blueprint("changes", __name__, url_prefix="/vouchers")


@bp.app_context_processor
def _changes_helper():
    """``changes_of(voucher_id)`` for the voucher pages (the vouchers package does not import
    this one)."""

    def changes_of(voucher_id: int):
        return services.changes_of(db.session(), voucher_id)

    def changes_awaiting():
        return services.changes_awaiting(db.session(), current_user)

    return {"changes_of": changes_of, "changes_awaiting": changes_awaiting}


def _proposal(form: ChangeForm, review_id: int | None) -> services.ChangeInput:
    return services.ChangeInput(
        starts_on=form.starts_on.data, reason=form.reason.data or "",
        units_per_period=form.units.data, valid_until=form.valid_until.data,
        service_type_id=form.service_type.data or None, revalue=bool(form.revalue.data),
        household_size=form.household_size.data, income_cents=form.income.data,
        raised_value_cents=form.raised_value.data, raise_reason=form.raise_reason.data,
        review_request_id=review_id)


def _review_id(session, voucher) -> int | None:
    """The review decision (?review=) that ordered the change, when it is this voucher's."""
    from voucher.reviews.models import ReviewOutcome, ReviewRequest

    value = request.values.get("review", "")
    if not value.isascii() or not value.isdigit() or int(value) >= 2**31:
        return None
    review = session.get(ReviewRequest, int(value))
    if review is None or review.voucher_id != voucher.id or \
            review.outcome != ReviewOutcome.CHANGED:
        return None
    return review.id


@bp.route("/<int:voucher_id>/change", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER)
def propose(voucher_id: int):
    """Propose a change of the decision in force: preview it, then send it for approval."""
    session = db.session()
    voucher = queries.voucher_for_staff(session, current_user, voucher_id)
    waiting = services.waiting_change(session, voucher.id)
    if waiting is not None:
        return redirect(url_for("changes.detail", voucher_id=voucher.id, change_id=waiting.id),
                        code=303)
    form = ChangeForm()
    services_list = session.execute(sa.select(ServiceType).where(
        ServiceType.is_active.is_(True)).order_by(ServiceType.code)).scalars()
    form.service_type.choices = [SelectChoice(s.id, localized(s, "name")) for s in services_list]
    if request.method == "GET":
        form.starts_on.data = clock.today()
        form.units.data = voucher.units_per_period
        form.valid_until.data = voucher.valid_until
        form.service_type.data = voucher.service_type_id
        form.household_size.data = voucher.client.household_size
        form.income.data = voucher.client.gross_monthly_income_cents
    review_id = _review_id(session, voucher)
    preview = None
    if form.validate_on_submit():
        try:
            if request.form.get("action") == "propose":
                change = services.propose_change(session, voucher, _proposal(form, review_id),
                                                 actor=current_actor(),
                                                 language=current_language())
                flash(_("The change is waiting for a second case manager's approval."),
                      "success")
                return redirect(url_for("changes.detail", voucher_id=voucher.id,
                                        change_id=change.id), code=303)
            preview = services.preview_change(session, voucher, _proposal(form, review_id),
                                              language=current_language())
        except DomainError as exc:
            form.add_errors(exc)
    steps = calculation_steps(preview.value.calculation, current_language()) \
        if preview is not None and preview.value is not None else []
    return render_form("changes/propose.html", form, voucher=voucher, preview=preview,
                       steps=steps, review_id=review_id,
                       earliest=max(services.earliest_start(clock.today()), voucher.valid_from),
                       rows=_preview_rows(session, voucher, preview) if preview else [])


def _preview_rows(session, voucher, preview):
    from types import SimpleNamespace

    fake = SimpleNamespace(before=preview.before, after=preview.after)
    return change_rows(session, fake, current_language())


def _change(session, voucher_id: int, change_id: int):
    voucher = queries.voucher_for_staff(session, current_user, voucher_id)
    return voucher, services.find_change(session, voucher, change_id)


def _detail(session, voucher, change, **extra):
    is_case_manager = current_user.role == Role.CASE_MANAGER
    waiting = change.status == ChangeStatus.PROPOSED
    own = change.proposed_by_user_id == current_user.id
    return render_template(
        "changes/detail.html", voucher=voucher, change=change,
        rows=change_rows(session, change, current_language()),
        proposer=session.get(User, change.proposed_by_user_id),
        decider=session.get(User, change.decided_by_user_id)
        if change.decided_by_user_id else None,
        steps=calculation_steps(change.after["calculation"], current_language())
        if change.after["calculation"] != change.before["calculation"] else [],
        can_approve=is_case_manager and waiting and not own,
        can_withdraw=is_case_manager and waiting and own, **extra)


@bp.get("/<int:voucher_id>/changes/<int:change_id>")
@roles(Role.CASE_MANAGER, Role.ADMIN)
def detail(voucher_id: int, change_id: int):
    session = db.session()
    voucher, change = _change(session, voucher_id, change_id)
    return _detail(session, voucher, change)


@bp.post("/<int:voucher_id>/changes/<int:change_id>/approve")
@roles(Role.CASE_MANAGER)
def approve(voucher_id: int, change_id: int):
    session = db.session()
    voucher, change = _change(session, voucher_id, change_id)
    try:
        services.approve_change(session, change, actor=current_actor(),
                                language=current_language())
    except DomainError as exc:
        session.rollback()  # the page below reads afresh; nothing was changed
        voucher, change = _change(session, voucher_id, change_id)
        return _detail(session, voucher, change, error=str(exc)), exc.status
    flash(_("The change decision %(number)s has been made; the client gets its letter.",
            number=change.decision_number), "success")
    return redirect(url_for("changes.detail", voucher_id=voucher.id, change_id=change.id),
                    code=303)


@bp.route("/<int:voucher_id>/changes/<int:change_id>/reject", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER)
def reject(voucher_id: int, change_id: int):
    session = db.session()
    voucher, change = _change(session, voucher_id, change_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            services.reject_change(session, change, reason=form.reason.data,
                                   actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The change was rejected; its proposer has been told."), "success")
            return redirect(url_for("changes.detail", voucher_id=voucher.id,
                                    change_id=change.id), code=303)
    return render_form("changes/reject.html", form, voucher=voucher, change=change)


@bp.post("/<int:voucher_id>/changes/<int:change_id>/withdraw")
@roles(Role.CASE_MANAGER)
def withdraw(voucher_id: int, change_id: int):
    session = db.session()
    voucher, change = _change(session, voucher_id, change_id)
    try:
        services.withdraw_change(session, change, actor=current_actor())
    except DomainError as exc:
        session.rollback()
        voucher, change = _change(session, voucher_id, change_id)
        return _detail(session, voucher, change, error=str(exc)), exc.status
    flash(_("The proposal was withdrawn."), "success")
    return redirect(url_for("vouchers.detail", voucher_id=voucher.id), code=303)


def _letter(voucher_id: int, change_id: int):
    session = db.session()
    if current_user.role == Role.CLIENT:
        voucher = queries.voucher_for_client(session, current_user, voucher_id)
    else:
        voucher = queries.voucher_for_staff(session, current_user, voucher_id)
    change = services.find_change(session, voucher, change_id)
    if change.status != ChangeStatus.APPROVED:
        raise NotFound()
    return voucher, change, change_letter_for(session, change, actor=current_actor())


@bp.get("/<int:voucher_id>/changes/<int:change_id>/letter")
@roles(Role.CLIENT, Role.CASE_MANAGER, Role.ADMIN)
def letter(voucher_id: int, change_id: int):
    voucher, change, content = _letter(voucher_id, change_id)
    back = url_for("vouchers.my_voucher", voucher_id=voucher.id) \
        if current_user.role == Role.CLIENT else url_for("changes.detail",
                                                         voucher_id=voucher.id,
                                                         change_id=change.id)
    return render_template("changes/letter.html", voucher=voucher, change=change,
                           letter=content, back=back)


@bp.get("/<int:voucher_id>/changes/<int:change_id>/letter.pdf")
@roles(Role.CLIENT, Role.CASE_MANAGER, Role.ADMIN)
def letter_as_pdf(voucher_id: int, change_id: int):
    _voucher, change, content = _letter(voucher_id, change_id)
    return Response(change_letter_pdf(content), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="change-decision-{change.id}.pdf"'})
