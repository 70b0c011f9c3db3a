"""Mandates: the case manager records and revokes them on a client's page; the client sees
theirs and revokes one given with their consent."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher import clock, db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.clients.services import client_for_staff
from voucher.errors import DomainError
from voucher.mandates import services
from voucher.mandates.blueprint import bp
from voucher.mandates.forms import MandateForm
from voucher.mandates.models import MandateBasis
from voucher.web import current_actor, render_form


@bp.route("/clients/<int:client_id>/mandates", methods=["GET", "POST"])
@roles(Role.CASE_MANAGER)
def client_mandates(client_id: int):
    session = db.session()
    client = client_for_staff(session, current_user, client_id)
    form = MandateForm()
    if not form.is_submitted():
        form.valid_from.data = clock.today()
    if form.validate_on_submit():
        try:
            services.record_mandate(
                session, client=client, representative_code=form.representative_code.data,
                representative_name=form.representative_name.data,
                basis=MandateBasis(form.basis.data),
                may_choose_provider=form.may_choose_provider.data, may_pay=form.may_pay.data,
                may_give_feedback=form.may_give_feedback.data,
                valid_from=form.valid_from.data, valid_until=form.valid_until.data,
                representative_email=form.representative_email.data,
                notices_to_representative=form.notices_to_representative.data,
                user=current_user, actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The mandate has been recorded."), "success")
            return redirect(url_for("mandates.client_mandates", client_id=client.id), code=303)
    return render_form("mandates/client_mandates.html", form, client=client,
                       mandates=services.mandates_of_client(session, client.id),
                       today=clock.today())


@bp.post("/clients/<int:client_id>/mandates/<int:mandate_id>/revoke")
@roles(Role.CASE_MANAGER)
def revoke(client_id: int, mandate_id: int):
    session = db.session()
    client = client_for_staff(session, current_user, client_id)
    mandate = services.mandate_of_client(session, client.id, mandate_id)
    services.revoke_mandate(session, mandate, user=current_user, actor=current_actor(),
                            by_client=False)
    flash(_("The mandate has been revoked. It stopped working at once."), "success")
    return redirect(url_for("mandates.client_mandates", client_id=client.id), code=303)


@bp.get("/my/mandates")
@roles(Role.CLIENT)
def mine():
    return render_template("mandates/mine.html", today=clock.today(),
                           mandates=services.mandates_of_client(db.session(),
                                                                current_user.client_id))


@bp.post("/my/mandates/<int:mandate_id>/revoke")
@roles(Role.CLIENT)
def revoke_mine(mandate_id: int):
    session = db.session()
    mandate = services.mandate_of_client(session, current_user.client_id, mandate_id)
    try:
        services.revoke_mandate(session, mandate, user=current_user, actor=current_actor(),
                                by_client=True)
    except DomainError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The mandate has been revoked. It stopped working at once."), "success")
    return redirect(url_for("mandates.mine"), code=303)
