"""The service catalogue for administrators: service types, texts, values and price caps."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from voucher import clock, db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.catalogue import labels as _unit_names  # noqa: F401  (registers them)
from voucher.catalogue import services
from voucher.catalogue.forms import NewServiceTypeForm, RateFields, ServiceTypeForm
from voucher.catalogue.rates import rates_in_force
from voucher.errors import DomainError
from voucher.i18n import format_date
from voucher.web import current_actor, render_form

bp = Blueprint("catalogue", __name__, url_prefix="/admin/catalogue")

_DETAIL_FIELDS = services.TEXT_FIELDS + services.FLAG_FIELDS


def _details(form) -> dict:
    return {name: getattr(form, name).data for name in _DETAIL_FIELDS}


@bp.get("/")
@roles(Role.ADMIN)
def index():
    session = db.session()
    today = clock.today()
    service_types = services.list_service_types(session)
    in_force = rates_in_force(session, [s.id for s in service_types], today)
    rows = [(service_type, in_force.get(service_type.id),
             [r for r in service_type.rates if r.valid_from > today])
            for service_type in service_types]
    return render_template("catalogue/index.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def new():
    form = NewServiceTypeForm()
    if not form.is_submitted():
        form.valid_from.data = clock.today()
    if form.validate_on_submit():
        try:
            service_type = services.create_service_type(
                db.session(), actor=current_actor(), code=form.code.data, unit=form.unit.data,
                unit_value_cents=form.unit_value.data, price_cap_cents=form.price_cap.data,
                valid_from=form.valid_from.data, **_details(form))
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("Service type %(code)s added.", code=service_type.code), "success")
            return redirect(url_for(".index"), code=303)
    return render_form("catalogue/form.html", form, service_type=None)


@bp.route("/<int:service_type_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def edit(service_type_id: int):
    service_type = services.find_service_type(db.session(), service_type_id)
    form = ServiceTypeForm(obj=service_type)
    if form.validate_on_submit():
        try:
            services.update_service_type(db.session(), service_type, actor=current_actor(),
                                         unit=form.unit.data, **_details(form))
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("Service type %(code)s saved.", code=service_type.code), "success")
            return redirect(url_for(".index"), code=303)
    return render_form("catalogue/form.html", form, service_type=service_type)


@bp.route("/<int:service_type_id>/rates", methods=["GET", "POST"])
@roles(Role.ADMIN)
def rates(service_type_id: int):
    session = db.session()
    service_type = services.find_service_type(session, service_type_id)
    form = RateFields()
    if form.validate_on_submit():
        try:
            rate = services.schedule_rate(
                session, service_type, actor=current_actor(), valid_from=form.valid_from.data,
                unit_value_cents=form.unit_value.data, price_cap_cents=form.price_cap.data)
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The new value applies from %(day)s.", day=format_date(rate.valid_from)),
                  "success")
            above = services.offers_above_cap(session, service_type.id, rate.price_cap_cents)
            if above:
                flash(_("%(count)d approved prices are above the new cap. They stay in force "
                        "until the providers change them; new prices above the cap are "
                        "refused.", count=above), "warning")
            return redirect(url_for(".rates", service_type_id=service_type.id), code=303)
    return render_form("catalogue/rates.html", form, service_type=service_type,
                       in_force=rates_in_force(session, [service_type.id], clock.today())
                       .get(service_type.id), today=clock.today())


@bp.post("/<int:service_type_id>/rates/<int:rate_id>/cancel")
@roles(Role.ADMIN)
def cancel_rate(service_type_id: int, rate_id: int):
    session = db.session()
    service_type = services.find_service_type(session, service_type_id)
    try:
        services.cancel_planned_rate(session, service_type, rate_id, actor=current_actor())
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(str(exc), "error")
        return redirect(url_for(".rates", service_type_id=service_type.id), code=303)
    flash(_("The planned change was cancelled."), "success")
    return redirect(url_for(".rates", service_type_id=service_type.id), code=303)
