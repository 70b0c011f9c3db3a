"""The provider's pages: clients' requests to accept or decline, activating a voucher from a
decision letter, and the vouchers the provider is in charge of."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher import db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.clients.services import record_client_viewed
from voucher.errors import DomainError
from voucher.pages import page_number
from voucher.providers.models import Provider
from voucher.vouchers import choice, queries
from voucher.vouchers.forms import ActivationForm, ReasonForm
from voucher.vouchers.views import bp
from voucher.web import current_actor, render_form


def _provider() -> Provider:
    return db.session().get(Provider, current_user.provider_id)


def _overview(form: ActivationForm, status: int | None = None):
    session = db.session()
    provider = _provider()
    return render_form(
        "vouchers/provider_vouchers.html", form, status=status, provider=provider,
        requests=queries.provider_requests(session, provider.id),
        page=queries.provider_vouchers(session, provider.id, page_number()))


@bp.get("/provider")
@roles(Role.PROVIDER)
def provider_vouchers():
    return _overview(ActivationForm())


@bp.post("/provider/activate")
@roles(Role.PROVIDER)
def activate():
    form = ActivationForm()
    if form.validate_on_submit():
        session = db.session()
        provider, actor = _provider(), current_actor()
        try:
            voucher = choice.activate_voucher(
                session, provider=provider, code=form.code.data,
                confirmation_code=form.confirmation_code.data, actor=actor)
        except choice.ActivationFailed as exc:
            provider_id = provider.id
            db.keep_despite_refusal(lambda unit: choice.record_failed_activation(
                unit, provider_id=provider_id, actor=actor))
            form.add_errors(exc)
        except DomainError as exc:
            session.rollback()  # the page below reads afresh; nothing was changed
            form.add_errors(exc)
            return _overview(form, status=exc.status)
        else:
            flash(_("The voucher has been activated: you are now the client's provider."),
                  "success")
            return redirect(url_for("vouchers.provider_voucher", voucher_id=voucher.id),
                            code=303)
    return _overview(form)


@bp.post("/provider/requests/<int:assignment_id>/accept")
@roles(Role.PROVIDER)
def accept(assignment_id: int):
    session = db.session()
    request_ = queries.request_for_provider(session, current_user.provider_id, assignment_id)
    try:
        choice.accept_request(session, request_, actor=current_actor())
    except DomainError as exc:
        session.rollback()
        form = ActivationForm()
        form.form_errors.append(str(exc))
        return _overview(form, status=exc.status)
    flash(_("You have accepted the client. The voucher is now assigned to you."), "success")
    return redirect(url_for("vouchers.provider_voucher", voucher_id=request_.voucher_id),
                    code=303)


@bp.route("/provider/requests/<int:assignment_id>/decline", methods=["GET", "POST"])
@roles(Role.PROVIDER)
def decline(assignment_id: int):
    session = db.session()
    request_ = queries.request_for_provider(session, current_user.provider_id, assignment_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            choice.decline_request(session, request_, reason=form.reason.data,
                                   actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("You have declined the request. The client will choose again."), "success")
            return redirect(url_for("vouchers.provider_vouchers"), code=303)
    return render_form("vouchers/decline.html", form, assignment=request_)


@bp.get("/provider/<int:voucher_id>")
@roles(Role.PROVIDER)
def provider_voucher(voucher_id: int):
    session = db.session()
    voucher = queries.voucher_for_provider(session, current_user.provider_id, voucher_id)
    record_client_viewed(session, voucher.client, current_actor())
    return render_template("vouchers/provider_voucher.html", voucher=voucher,
                           periods=voucher.periods)
