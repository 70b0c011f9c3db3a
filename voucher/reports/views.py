"""Report pages: budget use with its chart, monthly and quarterly figures, providers, cost
allocation and reconciliation. Every report downloads as CSV and XLSX with the same filters.
Administrators see every municipality; case managers only their own."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from voucher import clock, db
from voucher.access import roles
from voucher.accounting.dimensions import service_dimensions_in_force
from voucher.accounts.models import Role
from voucher.budgets.models import Budget
from voucher.catalogue.models import ServiceType
from voucher.errors import NotFound
from voucher.i18n import current_language, localized
from voucher.money import format_cents, format_units
from voucher.municipalities.models import Municipality
from voucher.reports import charts, export, tables
from voucher.reports.budget_use import budget_use
from voucher.reports.figures import Scope, service_figures
from voucher.reports.forms import PeriodFilterForm, YearFilterForm
from voucher.reports.payees import cost_allocation, provider_figures
from voucher.settlement.batches import bank_figures
from voucher.settlement.reconciliation import CHECKS, Period, find_differences

bp = Blueprint("reports", __name__, url_prefix="/reports")
STAFF = (Role.ADMIN, Role.CASE_MANAGER)
FORMATS = "<any(csv, xlsx):fmt>"


@bp.app_template_global("report_cell")
def report_cell(value, kind: str | None) -> Markup:
    """One cell of a report table, by its column's kind (in Python: a Jinja macro called for
    each of a monthly report's thousands of cells took a third of the page's time)."""
    if value is None:
        return Markup('<span aria-label="%s">–</span>') % _("not available")
    if kind == "cents":
        return escape(format_cents(value, current_language()))
    if kind == "units":
        return escape(format_units(value, current_language()))
    if kind == "percent":
        return escape(f"{value} %")
    if kind == "decimal":
        return escape(f"{value:.1f}")
    return escape(value)


def _scope() -> Scope:
    if current_user.role == Role.ADMIN:
        return Scope(None)
    return Scope(frozenset(m.id for m in current_user.municipalities))


def _year_filters(scope: Scope) -> YearFilterForm:
    session = db.reports_session()
    form = YearFilterForm(request.args)
    today = clock.today()
    first = session.execute(sa.select(sa.func.min(Budget.year))).scalar() or today.year
    last = max(today.year, session.execute(sa.select(sa.func.max(Budget.year))).scalar() or 0)
    form.year.choices = [(y, str(y)) for y in range(last, first - 1, -1)]
    if not request.args.get("year"):
        form.year.data = today.year
    language = current_language()
    municipalities = session.execute(sa.select(Municipality).order_by(Municipality.code)
                                     ).scalars()
    form.municipality.choices = [(0, _("All municipalities"))] + [
        (m.id, m.name(language)) for m in municipalities if scope.covers(m.id)]
    form.service.choices = [(0, _("All services"))] + [
        (s.id, localized(s, "name")) for s in session.execute(
            sa.select(ServiceType).order_by(ServiceType.code)).scalars()]
    chosen = request.args.get("municipality", type=int)
    if chosen and not scope.covers(chosen):
        raise NotFound()
    if not form.validate():
        for field, default in ((form.year, today.year), (form.municipality, 0),
                               (form.service, 0)):
            if field.errors:
                field.data = default
    return form


def _period_filters() -> PeriodFilterForm:
    form = PeriodFilterForm(request.args)
    if not request.args:
        today = clock.today()
        form.starts_on.data, form.ends_on.data = dt.date(today.year, 1, 1), today
    elif not form.validate():
        form.starts_on.data = form.starts_on.data or clock.today().replace(month=1, day=1)
        form.ends_on.data = max(form.ends_on.data or clock.today(), form.starts_on.data)
    return form


def _show(report: tables.Report, form, fmt: str | None, template="reports/report.html",
          **context):
    """The report as a page, or as a download when ``fmt`` is csv or xlsx."""
    if fmt == "csv":
        return Response(export.to_csv(report), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{report.name}.csv"'})
    if fmt == "xlsx":
        return Response(export.to_xlsx(report), headers={
            "Content-Disposition": f'attachment; filename="{report.name}.xlsx"'},
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    status = 422 if form.errors else 200
    return render_template(template, report=report, form=form, args=request.args.to_dict(),
                           **context), status


@bp.get("/")
@bp.get(f"/budget-use.{FORMATS}")
@roles(*STAFF)
def index(fmt: str | None = None):
    """Budget use of a year, with the year-end forecast, as a chart and a table."""
    scope = _scope()
    form = _year_filters(scope)
    language = current_language()
    uses = budget_use(db.reports_session(), year=form.year.data, scope=scope, today=clock.today(),
                      municipality_id=form.municipality.data or None)
    report = tables.budget_use_report(
        uses, year=form.year.data, language=language,
        dimensions=service_dimensions_in_force(
            db.reports_session(), min(clock.today(), dt.date(form.year.data, 12, 31))))
    chart = charts.budget_chart(
        uses, chart_id="budget-use", title=report.title,
        description=_("Spending of each budget as a share of the budget, with the year-end "
                      "forecast at the rate so far. The figures are in the table below."),
        labels={"spent": _("Spent (settled)"), "waiting": _("Delivered, not yet settled"),
                "forecast": _("Forecast at year end")},
        row_label=lambda u: f"{u.budget.municipality.name(language)} · "
                            f"{localized(u.budget.service_type, 'name')}")
    return _show(report, form, fmt, "reports/index.html", chart=chart)


@bp.get("/monthly")
@bp.get(f"/monthly.{FORMATS}")
@roles(*STAFF)
def monthly(fmt: str | None = None):
    return _service_report(fmt, quarterly=False)


@bp.get("/quarterly")
@bp.get(f"/quarterly.{FORMATS}")
@roles(*STAFF)
def quarterly(fmt: str | None = None):
    """The same figures per quarter, for the member municipalities' councils."""
    return _service_report(fmt, quarterly=True)


def _service_report(fmt: str | None, *, quarterly: bool):
    scope = _scope()
    form = _year_filters(scope)
    language = current_language()
    figures = service_figures(db.reports_session(), year=form.year.data, scope=scope,
                              quarterly=quarterly, municipality_id=form.municipality.data or None,
                              service_type_id=form.service.data or None)
    report = tables.service_report(figures, year=form.year.data, quarterly=quarterly,
                                   language=language)
    periods = range(1, 5 if quarterly else 13)
    spent = [(tables.period_label(p, quarterly, language, short=True),
              sum(f.spent_cents for f in figures if f.period == p)) for p in periods]
    chart = charts.column_chart(
        spent, chart_id="spending", title=_("Spent (settled) per quarter") if quarterly
        else _("Spent (settled) per month"),
        description=_("The figures are in the table below."),
        value_label=lambda cents: f"{format_decimal(cents // 100, locale=language)} €")
    return _show(report, form, fmt, chart=chart)


@bp.get("/providers")
@bp.get(f"/providers.{FORMATS}")
@roles(*STAFF)
def providers(fmt: str | None = None):
    form = _period_filters()
    figures = provider_figures(db.reports_session(), starts_on=form.starts_on.data,
                               ends_on=form.ends_on.data, scope=_scope())
    return _show(tables.provider_report(figures, starts_on=form.starts_on.data,
                                        ends_on=form.ends_on.data, language=current_language()),
                 form, fmt)


@bp.get("/cost-allocation")
@bp.get(f"/cost-allocation.{FORMATS}")
@roles(*STAFF)
def allocation(fmt: str | None = None):
    """What each member municipality's residents' vouchers cost in a period, to be billed."""
    form = _period_filters()
    allocations = cost_allocation(db.reports_session(), starts_on=form.starts_on.data,
                                  ends_on=form.ends_on.data, scope=_scope())
    return _show(tables.allocation_report(
        allocations, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
        language=current_language(),
        dimensions=service_dimensions_in_force(db.reports_session(), form.ends_on.data)),
        form, fmt)


@bp.get("/reconciliation")
@roles(Role.ADMIN)
def reconciliation():
    """Proof that budgets, ledger, service events, invoices and payments add up."""
    form = PeriodFilterForm(request.args)
    period = Period(form.starts_on.data, form.ends_on.data) if (
        request.args and form.validate()) else Period()
    differences = find_differences(db.reports_session(), period)
    return render_template("reports/reconciliation.html", form=form, differences=differences,
                           checks=CHECKS, bank=bank_figures(db.reports_session())), (
        422 if form.errors else 200)
