"""Administrators' pages for the income tables of income-related services."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.validators import InputRequired, Optional

from voucher import clock, db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.catalogue.income import RowInput, create_income_table, income_tables_of
from voucher.catalogue.models import ServiceType
from voucher.catalogue.rates import income_table_on
from voucher.clients.forms import within
from voucher.errors import DomainError, NotFound, ValidationFailed
from voucher.forms import BaseForm, DayField, MoneyField, UnitsField
from voucher.web import current_actor, render_form

bp = Blueprint("income_tables", __name__, url_prefix="/admin/income-tables")
HOUSEHOLD_SIZES = range(1, 7)


class PercentField(UnitsField):
    """A percentage with up to two decimals ("1,5"), held in hundredths of a percent."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(_l("Enter a percentage, e.g. 1,5."))) from exc


class IncomeTableForm(BaseForm):
    valid_from = DayField(_l("In force from"), validators=[
        InputRequired(_l("Enter the first day the table is in force."))])
    minimum_value = MoneyField(_l("Minimum value per unit (€)"), validators=[
        InputRequired(_l("Enter the minimum value.")),
        within(0, message=_l("The minimum value cannot be negative."))],
        description=_l("Below this value no voucher is granted."))


for _size in HOUSEHOLD_SIZES:
    setattr(IncomeTableForm, f"limit_{_size}", MoneyField(
        _l("Income limit for a household of %(size)d (€)", size=_size), validators=[
            Optional(), within(0, message=_l("The income limit cannot be negative."))]))
    setattr(IncomeTableForm, f"reduction_{_size}", PercentField(
        _l("Reduction for a household of %(size)d (%%)", size=_size), validators=[
            Optional(), within(0, 10_000, _l("Enter a percentage from 0 to 100."))]))


def _service_type(service_type_id: int) -> ServiceType:
    found = db.session().get(ServiceType, service_type_id)
    if found is None or not found.income_related:
        raise NotFound()
    return found


@bp.get("/")
@roles(Role.ADMIN)
def index():
    session = db.session()
    services = session.execute(sa.select(ServiceType).where(ServiceType.income_related.is_(True))
                               .order_by(ServiceType.code)).scalars().all()
    today = clock.today()
    return render_template("income_tables/index.html", services=[
        (s, income_table_on(session, s.id, today)) for s in services])


@bp.get("/<int:service_type_id>")
@roles(Role.ADMIN)
def service(service_type_id: int):
    service_type = _service_type(service_type_id)
    session = db.session()
    in_force = income_table_on(session, service_type.id, clock.today())
    return render_template("income_tables/service.html", service_type=service_type,
                           tables=income_tables_of(session, service_type.id), in_force=in_force)


def _rows(form: IncomeTableForm) -> tuple[list[RowInput], dict[str, str]]:
    """The filled rows; a half-filled row is an error next to its empty field."""
    rows, errors = [], {}
    for size in HOUSEHOLD_SIZES:
        limit = getattr(form, f"limit_{size}").data
        percent = getattr(form, f"reduction_{size}").data
        if limit is None and percent is None:
            continue
        if limit is None or percent is None:
            errors[f"limit_{size}" if limit is None else f"reduction_{size}"] = str(_l(
                "Enter both the income limit and the percentage for a household of %(size)d.",
                size=size))
            continue
        rows.append(RowInput(size, limit, percent))
    return rows, errors


@bp.route("/<int:service_type_id>/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def new(service_type_id: int):
    service_type = _service_type(service_type_id)
    session = db.session()
    form = IncomeTableForm()
    if request.method == "GET":
        form.valid_from.data = clock.today()
        current = income_table_on(session, service_type.id, clock.today())
        if current is not None:  # start from the table in force
            form.minimum_value.data = current.minimum_value_cents
            for row in current.rows:
                if row.household_size in HOUSEHOLD_SIZES:
                    getattr(form, f"limit_{row.household_size}").data = row.income_limit_cents
                    getattr(form, f"reduction_{row.household_size}").data = \
                        row.reduction_basis_points
    if form.validate_on_submit():
        rows, errors = _rows(form)
        try:
            if errors:
                raise ValidationFailed(errors)
            create_income_table(session, service_type=service_type,
                                valid_from=form.valid_from.data,
                                minimum_value_cents=form.minimum_value.data, rows=rows,
                                actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The income table has been saved."), "success")
            return redirect(url_for("income_tables.service", service_type_id=service_type.id),
                            code=303)
    return render_form("income_tables/new.html", form, service_type=service_type,
                       sizes=HOUSEHOLD_SIZES)

