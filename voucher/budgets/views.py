"""Administrators' budget pages: the year's budgets, a new budget, a budget and its ledger."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from voucher import clock, db
from voucher.access import roles
from voucher.accounts.models import Role
from voucher.budgets import labels, services
from voucher.budgets.forms import BudgetAmountForm, NewBudgetForm
from voucher.budgets.models import Budget
from voucher.catalogue.models import ServiceType
from voucher.errors import DomainError, NotFound
from voucher.i18n import current_language, localized
from voucher.municipalities.models import Municipality
from voucher.pages import page_number
from voucher.web import current_actor, render_form

bp = Blueprint("budgets", __name__, url_prefix="/admin/budgets")


@bp.get("/")
@roles(Role.ADMIN)
def index():
    session = db.session()
    raw = request.args.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else clock.today().year
    budgets = services.find_budgets(session, year=year)
    years = sorted(set(services.budget_years(session)) | {year, clock.today().year})
    return render_template("budgets/index.html", year=year, years=years, budgets=budgets,
                           totals=services.Totals.of(budgets))


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def new():
    session = db.session()
    form = NewBudgetForm()
    language = current_language()
    form.municipality.choices = [SelectChoice(m.id, f"{m.name(language)} ({m.code})") for m in
                                 session.execute(sa.select(Municipality)
                                                 .order_by(Municipality.code)).scalars()]
    form.service_type.choices = [SelectChoice(s.id, localized(s, "name")) for s in session.execute(
        sa.select(ServiceType).order_by(ServiceType.code)).scalars()]
    if request.method == "GET":
        form.year.data = clock.today().year
    if form.validate_on_submit():
        try:
            budget = services.create_budget(
                session, municipality_id=form.municipality.data,
                service_type_id=form.service_type.data, year=form.year.data,
                amount_cents=form.amount.data, actor=current_actor())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The budget has been created."), "success")
            return redirect(url_for("budgets.detail", budget_id=budget.id), code=303)
    return render_form("budgets/new.html", form)


def _budget(budget_id: int) -> Budget:
    budget = db.session().get(Budget, budget_id)
    if budget is None:
        raise NotFound()
    return budget


def _detail_page(budget: Budget, form: BudgetAmountForm):
    session = db.session()
    ledger = services.ledger_page(session, budget, page_number())
    return render_form("budgets/detail.html", form, budget=budget, ledger=ledger,
                       reasons=labels.REASONS, vouchers=services.vouchers_by_id(
                           session, {e.voucher_id for e in ledger.items if e.voucher_id}))


@bp.get("/<int:budget_id>")
@roles(Role.ADMIN)
def detail(budget_id: int):
    budget = _budget(budget_id)
    form = BudgetAmountForm()
    form.amount.data = budget.amount_cents
    return _detail_page(budget, form)


@bp.post("/<int:budget_id>/amount")
@roles(Role.ADMIN)
def change_amount(budget_id: int):
    budget = _budget(budget_id)
    form = BudgetAmountForm()
    if form.validate_on_submit():
        try:
            services.change_budget_amount(db.session(), budget, amount_cents=form.amount.data,
                                          actor=current_actor(), language=current_language())
        except DomainError as exc:
            form.add_errors(exc)
        else:
            flash(_("The amount has been changed."), "success")
            return redirect(url_for("budgets.detail", budget_id=budget.id), code=303)
    return _detail_page(budget, form)
