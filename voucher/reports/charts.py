"""Charts drawn by the app itself as SVG: no script, no CDN, no inline styles (the CSP forbids
them; the look comes from classes in static/css/reports.css). Each chart is an image with a
title and a description, and its figures are also in a table next to it for screen readers."""

from __future__ import annotations

from markupsafe import Markup, escape

from voucher.reports.budget_use import BudgetUse

_WIDTH = 900
_LABEL_END = 300  # x where bars start
_HUNDRED = 380  # width of 100 % of a budget
_MAX_PERCENT = 125  # bars are cut here (the value is written out)
_ROW = 40


def _svg(chart_id: str, height: int, title: str, description: str, body: list[str]) -> Markup:
    # Every text that comes from data is escaped where the body is built.
    return Markup(  # noqa: S704
        f'<svg class="chart" role="img" focusable="false" viewBox="0 0 {_WIDTH} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>{"".join(body)}</svg>')


def _x(percent: int | None) -> int:
    return _LABEL_END + _HUNDRED * min(max(percent or 0, 0), _MAX_PERCENT) // 100


def budget_chart(uses: list[BudgetUse], *, chart_id: str, title: str, description: str,
                 labels: dict[str, str], row_label) -> Markup:
    """One bar per budget, as a share of the budget: settled spending, then what has been
    delivered but not yet settled, and a mark at the year-end forecast."""
    body: list[str] = []
    legend_y = 20
    for n, (css, key) in enumerate((("chart__spent", "spent"), ("chart__waiting", "waiting"),
                                    ("chart__forecast-key", "forecast"))):
        x = 10 + n * 250
        body.append(f'<rect class="{css}" x="{x}" y="{legend_y - 12}" width="14" height="14"/>'
                    f'<text class="chart__legend" x="{x + 20}" y="{legend_y}">'
                    f'{escape(labels[key])}</text>')
    top = 40
    body.append(f'<line class="chart__axis" x1="{_x(100)}" y1="{top}" x2="{_x(100)}" '
                f'y2="{top + _ROW * len(uses)}"/>')
    for n, use in enumerate(uses):
        y = top + n * _ROW
        spent = use.share_of_budget(use.budget.spent_cents)
        used = use.share_of_budget(use.budget.spent_cents + use.waiting_cents)
        body.append(f'<text class="chart__label" x="{_LABEL_END - 10}" y="{y + 24}">'
                    f'{escape(row_label(use))}</text>'
                    f'<rect class="chart__track" x="{_LABEL_END}" y="{y + 8}" '
                    f'width="{_HUNDRED}" height="22"/>'
                    f'<rect class="chart__spent" x="{_LABEL_END}" y="{y + 8}" '
                    f'width="{_x(spent) - _LABEL_END}" height="22"/>'
                    f'<rect class="chart__waiting" x="{_x(spent)}" y="{y + 8}" '
                    f'width="{_x(used) - _x(spent)}" height="22"/>')
        forecast = use.share_of_budget(use.forecast_cents)
        if forecast is not None:
            over = " chart__forecast--over" if use.over_budget else ""
            body.append(f'<line class="chart__forecast{over}" x1="{_x(forecast)}" y1="{y + 4}" '
                        f'x2="{_x(forecast)}" y2="{y + 34}"/>')
        body.append(f'<text class="chart__value" x="{_x(_MAX_PERCENT) + 8}" y="{y + 24}">'
                    f'{spent or 0} %{f" → {forecast} %" if forecast is not None else ""}</text>')
    return _svg(chart_id, top + _ROW * max(len(uses), 1) + 10, title, description, body)


def column_chart(values: list[tuple[str, int]], *, chart_id: str, title: str,
                 description: str, value_label) -> Markup:
    """Columns of amounts (e.g. spending per month), scaled to the largest."""
    height, base, top = 260, 220, 30
    biggest = max([v for _label, v in values] + [1])
    step = (_WIDTH - 40) // max(len(values), 1)
    body = [f'<line class="chart__axis" x1="20" y1="{base}" x2="{_WIDTH - 20}" y2="{base}"/>']
    for n, (label, value) in enumerate(values):
        bar = (base - top) * max(value, 0) // biggest
        x = 20 + n * step
        body.append(f'<rect class="chart__bar" x="{x + 6}" y="{base - bar}" '
                    f'width="{step - 12}" height="{bar}"/>'
                    f'<text class="chart__tick" x="{x + step // 2}" y="{base + 18}">'
                    f'{escape(label)}</text>')
        if value:
            body.append(f'<text class="chart__tick" x="{x + step // 2}" y="{base - bar - 6}">'
                        f'{escape(value_label(value))}</text>')
    return _svg(chart_id, height, title, description, body)
