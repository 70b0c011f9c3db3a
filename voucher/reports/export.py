"""Downloads of a report: CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the
letters right; plain decimal points for machines) and XLSX (real numbers with formats)."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import xlsxwriter

from voucher.csv_writing import SafeWriter
from voucher.money import UNIT_SCALE
from voucher.reports.tables import Report


def _plain(value, kind: str):
    """A cell's value as a number or text, money in euros and units in whole units."""
    if value is None:
        return None
    if kind == "cents":
        return Decimal(value).scaleb(-2)  # 11200 -> 112.00
    if kind == "units":
        return Decimal(value) / UNIT_SCALE
    return value


def _rows(report: Report):
    yield from report.rows
    if report.totals:
        yield report.totals


def to_csv(report: Report) -> bytes:
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow([str(c.label) for c in report.columns])
    for row in _rows(report):
        writer.writerow([_plain(row.get(c.key), c.kind) for c in report.columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


_FORMATS = {"cents": '#,##0.00 "€"', "units": "#,##0.##", "int": "#,##0", "percent": '0 "%"',
            "decimal": "0.0"}


def to_xlsx(report: Report) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(re.sub(r"[\[\]:*?/\\]", " ", report.title)[:31])
    bold = workbook.add_format({"bold": True})
    formats = {kind: workbook.add_format({"num_format": f}) for kind, f in _FORMATS.items()}
    bold_formats = {kind: workbook.add_format({"num_format": f, "bold": True})
                    for kind, f in _FORMATS.items()}
    sheet.write_row(0, 0, [str(c.label) for c in report.columns], bold)
    for r, row in enumerate(_rows(report), start=1):
        emphasis = row is report.totals or row.get("subtotal")
        for c, column in enumerate(report.columns):
            value = _plain(row.get(column.key), column.kind)
            if value is None:
                continue
            if column.numeric:
                chosen = bold_formats if emphasis else formats
                sheet.write_number(r, c, value, chosen[column.kind])
            else:
                sheet.write_string(r, c, str(value), bold if emphasis else None)
    for c, column in enumerate(report.columns):
        sheet.set_column(c, c, max(12, min(40, len(str(column.label)) + 2)))
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()
