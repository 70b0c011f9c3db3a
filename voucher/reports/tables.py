"""Reports as tables: translated columns and plain rows, the same for the page, CSV and XLSX."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from babel.dates import get_month_names
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from voucher.i18n import format_date, localized
from voucher.reports.budget_use import BudgetUse
from voucher.reports.figures import ServiceFigures
from voucher.reports.payees import Allocation, ProviderFigures


@dataclass(frozen=True)
class Column:
    key: str
    label: object
    #: text, int, cents, units, percent or decimal
    kind: str = "text"

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


@dataclass
class Report:
    #: File name without extension.
    name: str
    title: str
    columns: list[Column]
    rows: list[dict]
    #: A closing row of totals (same keys), or None.
    totals: dict | None = None
    notes: list[str] = field(default_factory=list)


MUNICIPALITY = Column("municipality", _l("Municipality"))
SERVICE = Column("service", _l("Service"))


def dimension_columns() -> list[Column]:
    """The accounting dimensions of a municipality × service type (voucher.accounting)."""
    from voucher.accounting.labels import DIMENSION_LABELS

    return [Column(name, label) for name, label in DIMENSION_LABELS.items()]


def dimension_values(dimensions: dict, municipality_id: int, service_type_id: int) -> dict:
    """A row's dimensions from {(municipality id, service type id): AccountingDimensions}."""
    found = dimensions.get((municipality_id, service_type_id))
    return {column.key: getattr(found, column.key) if found else None
            for column in dimension_columns()}


def period_label(period: int, quarterly: bool, language: str, short: bool = False) -> str:
    if quarterly:
        return f"Q{period}" if short else _("Quarter %(number)s", number=period)
    return get_month_names("abbreviated" if short else "wide", locale=language)[period]


def service_report(figures: list[ServiceFigures], *, year: int, quarterly: bool,
                   language: str) -> Report:
    title = (_("Quarterly report %(year)s", year=year) if quarterly
             else _("Monthly figures %(year)s", year=year))
    columns = [MUNICIPALITY, SERVICE,
               Column("period", _l("Quarter") if quarterly else _l("Month")),
               Column("vouchers_issued", _l("Vouchers issued"), "int"),
               Column("units_granted", _l("Units granted"), "units"),
               Column("clients", _l("Clients served"), "int"),
               Column("units_used", _l("Units used"), "units"),
               Column("committed_cents", _l("Committed (net)"), "cents"),
               Column("spent_cents", _l("Spent (settled)"), "cents"),
               Column("average_price_cents", _l("Average price per unit"), "cents"),
               Column("average_self_share_cents", _l("Average self-share per unit"), "cents")]
    rows = [{"municipality": f.municipality.name(language),
             "service": localized(f.service, "name", language),
             "period": period_label(f.period, quarterly, language),
             **{c.key: getattr(f, c.key) for c in columns[3:]}} for f in figures]
    totals = {c.key: sum(r[c.key] for r in rows) for c in columns[3:9] if c.key != "clients"}
    return Report(f"{'quarterly' if quarterly else 'monthly'}-{year}", title, columns, rows,
                  {"municipality": _("Total"), **totals} if rows else None,
                  [_("Clients are counted once per row; they are not added up.")])


def budget_use_report(uses: list[BudgetUse], *, year: int, language: str,
                      dimensions: dict | None = None) -> Report:
    """``dimensions``: the accounting dimensions in force (the year's end, or today)."""
    dimensions = dimensions or {}
    columns = [MUNICIPALITY, SERVICE, *dimension_columns(),
               Column("amount_cents", _l("Budget"), "cents"),
               Column("open_cents", _l("Open commitment"), "cents"),
               Column("spent_cents", _l("Spent (settled)"), "cents"),
               Column("waiting_cents", _l("Delivered, not yet settled"), "cents"),
               Column("forecast_cents", _l("Forecast at year end"), "cents"),
               Column("forecast_percent", _l("Forecast, % of budget"), "percent"),
               Column("free_cents", _l("Free to commit"), "cents")]
    rows = [{"municipality": u.budget.municipality.name(language),
             "service": localized(u.budget.service_type, "name", language),
             **dimension_values(dimensions, u.budget.municipality_id,
                                u.budget.service_type_id),
             "amount_cents": u.budget.amount_cents, "open_cents": u.budget.open_commitment_cents,
             "spent_cents": u.budget.spent_cents, "waiting_cents": u.waiting_cents,
             "forecast_cents": u.forecast_cents,
             "forecast_percent": u.share_of_budget(u.forecast_cents),
             "free_cents": u.budget.free_cents} for u in uses]
    return Report(f"budget-use-{year}", _("Budget use %(year)s", year=year), columns, rows)


def provider_report(figures: list[ProviderFigures], *, starts_on: dt.date, ends_on: dt.date,
                    language: str) -> Report:
    columns = [Column("provider", _l("Provider")), Column("business_id", _l("Business ID")),
               Column("clients", _l("Clients"), "int"),
               Column("events", _l("Service events"), "int"),
               Column("units", _l("Units"), "units"),
               Column("voucher_cents", _l("Paid by vouchers"), "cents"),
               Column("self_share_cents", _l("Self-shares"), "cents"),
               Column("rating", _l("Rating (0–10)"), "decimal")]
    rows = [{"provider": f.provider.name, "business_id": f.provider.business_id,
             "clients": f.clients, "events": f.events, "units": f.units,
             "voucher_cents": f.voucher_cents, "self_share_cents": f.self_share_cents,
             "rating": f.rating} for f in figures]
    return Report(f"providers-{starts_on}-{ends_on}", _(
        "Providers %(start)s–%(end)s", start=format_date(starts_on, language),
        end=format_date(ends_on, language)), columns, rows,
        notes=[_("A rating is shown once a provider has enough ratings from clients.")])


def allocation_report(allocations: list[Allocation], *, starts_on: dt.date, ends_on: dt.date,
                      language: str, dimensions: dict | None = None) -> Report:
    """``dimensions``: the accounting dimensions in force on the period's last day."""
    dimensions = dimensions or {}
    columns = [MUNICIPALITY, SERVICE, *dimension_columns(),
               Column("clients", _l("Clients"), "int"),
               Column("events", _l("Service events"), "int"),
               Column("units", _l("Units"), "units"),
               Column("cost_cents", _l("Cost"), "cents")]
    rows: list[dict] = []
    for index, allocation in enumerate(allocations):
        rows.append({"municipality": allocation.municipality.name(language),
                     "service": localized(allocation.service, "name", language),
                     **dimension_values(dimensions, allocation.municipality.id,
                                        allocation.service.id),
                     "clients": allocation.clients, "events": allocation.events,
                     "units": allocation.units, "cost_cents": allocation.cost_cents})
        following = allocations[index + 1] if index + 1 < len(allocations) else None
        if following is None or following.municipality.id != allocation.municipality.id:
            own = [a for a in allocations if a.municipality.id == allocation.municipality.id]
            rows.append({"municipality": allocation.municipality.name(language),
                         "service": _("Municipality in total"), "clients": None,
                         "events": sum(a.events for a in own), "units": None,
                         "cost_cents": sum(a.cost_cents for a in own), "subtotal": True})
    total = sum(a.cost_cents for a in allocations)
    return Report(f"cost-allocation-{starts_on}-{ends_on}", _(
        "Cost allocation %(start)s–%(end)s", start=format_date(starts_on, language),
        end=format_date(ends_on, language)), columns, rows,
        {"municipality": _("Total"), "events": sum(a.events for a in allocations),
         "cost_cents": total} if allocations else None,
        [_("What the authority paid for each member municipality's residents in payment "
           "batches of the period. Each euro is allocated once, when it is paid."),
         _("The accounting dimensions are those in force on the period's last day; each "
           "payment batch's posting file has those it was posted with.")])
