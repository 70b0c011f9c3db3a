"""Every CSV the app writes goes through here: text that a spreadsheet would run as a formula
is neutralised (OWASP's CSV-injection advice), numbers are written as they are.

A provider's name such as ``=HYPERLINK("https://evil.example","Click")`` would otherwise
become a live formula in the finance office's spreadsheet. A text cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, which the
spreadsheet shows as text; numbers (int, Decimal) pass untouched, so ``-12.50`` stays a number.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The cell as written: '' for None, numbers as they are, risky text with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeWriter:
    """A csv.writer whose rows are passed through ``safe_cell``."""

    def __init__(self, buffer, **options):
        self._writer = csv.writer(buffer, **options)

    def writerow(self, row) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)
