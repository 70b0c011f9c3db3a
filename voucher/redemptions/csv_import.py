"""A month's service events from a CSV file: all rows are recorded, or none.

The file has a header row naming its columns (in any order):

===============  =========  ================================================================
column           required   content
===============  =========  ================================================================
voucher_code     yes        the voucher's code
client           no         the client's name, for the provider's own reading; ignored
service_date     yes        2026-10-31 or 31.10.2026
units            yes        1 or 1,5 (hours, visits …)
unit_price       no         euros, e.g. 39,00; empty = the approved price on the date
caregiver_ref    no         the provider's own staff number (never a name)
note             no         free text
===============  =========  ================================================================

Separator ``;`` (as Finnish Excel saves) or ``,``; UTF-8 (with or without BOM) or Windows-1252.
Rows whose date and units are both empty are skipped, so the downloadable template, which lists
the provider's vouchers, can be filled in place. Every row is checked as the web form checks
it, units cumulatively in file order; one bad row rejects the whole file with every problem
listed by line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from voucher.audit.services import Actor
from voucher.csv_writing import SafeWriter
from voucher.errors import DomainError, ValidationFailed
from voucher.i18n import format_date, format_datetime
from voucher.money import format_cents, parse_cents, parse_units
from voucher.providers.pricing import approved_price_for
from voucher.providers.supervision import ProviderNotActive, ensure_provider_active
from voucher.redemptions.models import CsvImport, Redemption, RedemptionStatus
from voucher.redemptions.queries import usable_vouchers
from voucher.redemptions.services import (
    EventInput,
    find_provider_voucher,
    record_redemption,
)
from voucher.text import RefusedCharacter, clean_text

COLUMNS = ("voucher_code", "client", "service_date", "units", "unit_price", "caregiver_ref",
           "note")
REQUIRED = ("voucher_code", "service_date", "units")
MAX_ROWS = 5000
_FIELD_COLUMNS = {"service_date": "service_date", "units": "units",
                  "unit_price_cents": "unit_price", "caregiver_ref": "caregiver_ref",
                  "note": "note"}


class CsvRejected(DomainError):
    """The file was refused as a whole; ``problems`` lists (line number, message)."""

    code = "csv_rejected"
    status = 422
    message = _l("Nothing was saved: the file has errors. Fix the rows below and upload the "
                 "file again.")

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__()
        self.problems = problems


class CsvRepeated(CsvRejected):
    """The file, or some of its rows, look recorded already; ``problems`` names them. The
    provider records them only by saying so (``repeats_confirmed``)."""

    code = "csv_repeated"
    message = _l("Nothing was saved: this looks like service events already recorded. If "
                 "they are new events, choose the file again, tick the box below and send it.")


def template_csv(session: Session, *, provider_id: int, today: dt.date,
                 language: str = "fi") -> str:
    """A template listing the provider's assigned vouchers, one empty row each, with the
    approved price in force today."""
    out = io.StringIO()
    writer = SafeWriter(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for voucher in usable_vouchers(session, provider_id=provider_id):
        price = approved_price_for(session, provider_id, voucher.service_type_id, today)
        writer.writerow([voucher.code, voucher.client.display_name, "", "",
                         format_cents(price, "fi").replace("\xa0€", "") if price else "",
                         "", ""])
    return "\ufeff" + out.getvalue()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _rows(text: str) -> tuple[list[str], csv.reader]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise CsvRejected([(1, _("The file is empty."))])
    return [name.strip().lower() for name in header], reader


def _check_header(header: list[str]) -> None:
    problems = []
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        problems.append(_("Unknown columns: %(names)s. The columns are: %(columns)s.",
                          names=", ".join(unknown), columns=", ".join(COLUMNS)))
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        problems.append(_("Missing columns: %(names)s.", names=", ".join(missing)))
    if len(set(header)) != len(header):
        problems.append(_("A column appears twice in the header."))
    if problems:
        raise CsvRejected([(1, " ".join(problems))])


def parse_date(text: str) -> dt.date:
    """2026-10-31 or 31.10.2026."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _event(row: dict[str, str]) -> EventInput:
    errors = {}
    try:
        day = parse_date(row.get("service_date", ""))
    except ValueError:
        errors["service_date"] = _("Enter the date as 31.10.2026 or 2026-10-31.")
    try:
        units = parse_units(row.get("units", ""))
    except ValueError:
        errors["units"] = _("Enter a number, e.g. 2 or 1,5.")
    price = None
    if row.get("unit_price", "").strip():
        try:
            price = parse_cents(row["unit_price"])
        except ValueError:
            errors["unit_price_cents"] = _("Enter an amount in euros, e.g. 35,50.")
    if errors:
        raise ValidationFailed(errors)
    return EventInput(service_date=day, units=units, unit_price_cents=price,
                      caregiver_ref=row.get("caregiver_ref", "").strip() or None,
                      note=row.get("note", "").strip() or None)


def _clean_row(header: list[str], cells: list[str]) -> dict[str, str]:
    """The row's cells by column, cleaned as every input is (``voucher.text``: NFC, plain
    whitespace, control characters refused with the column in ``field``)."""
    row = {}
    for i, name in enumerate(header):
        try:
            row[name] = clean_text(cells[i] if i < len(cells) else "",
                                   multiline=name == "note")
        except RefusedCharacter as exc:
            exc.field = name
            raise
    return row


def _message(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed):
        return " ".join(f"{_FIELD_COLUMNS.get(field, field)}: {message}"
                        for field, message in exc.errors.items())
    if exc.field:
        return f"{_FIELD_COLUMNS.get(exc.field, exc.field)}: {exc}"
    return str(exc)


def record_csv(session: Session, *, provider_id: int, data: bytes, actor: Actor,
               user_id: int | None = None, language: str = "fi",
               repeats_confirmed: bool = False) -> list[Redemption]:
    """Record every row of the file, or raise CsvRejected with every bad row (the caller's
    transaction must then roll back, which the web request does on its 422 answer).

    A file recorded before (the same bytes), or rows that look like events already recorded
    (the same voucher, date and units), raise CsvRepeated unless ``repeats_confirmed``: a file
    sent twice by accident never records twice."""
    try:
        ensure_provider_active(session, provider_id)
    except ProviderNotActive as exc:  # one clear answer instead of the same one per row
        raise CsvRejected([(1, str(exc))]) from exc
    fingerprint = hashlib.sha256(data).hexdigest()
    earlier = session.execute(
        sa.select(CsvImport).where(CsvImport.provider_id == provider_id,
                                   CsvImport.sha256 == fingerprint)
        .order_by(CsvImport.id.desc()).limit(1)).scalar()
    if earlier is not None and not repeats_confirmed:
        raise CsvRepeated([(1, _("This file was already recorded on %(day)s (%(count)d "
                                 "service events).", day=format_datetime(earlier.imported_at),
                                 count=earlier.events))])
    header, reader = _rows(_decode(data))
    _check_header(header)
    problems: list[tuple[int, str]] = []
    repeats: list[tuple[int, str]] = []
    recorded: list[Redemption] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((reader.line_num, _("The row could not be read: %(error)s",
                                                error=str(exc))))
            break
        line = reader.line_num
        try:
            row = _clean_row(header, cells)
        except RefusedCharacter as exc:
            problems.append((line, f"{exc.field}: {exc}"))
            continue
        if not any(value.strip() for value in row.values()) or not (
                row.get("service_date", "").strip() or row.get("units", "").strip()):
            continue  # an empty line, or a template row left unfilled
        if len(cells) > len(header):
            problems.append((line, _("The row has more cells than the header has columns.")))
            continue
        if len(recorded) + len(problems) >= MAX_ROWS:
            problems.append((line, _("A file can have at most %(max)d rows.", max=MAX_ROWS)))
            break
        code = row.get("voucher_code", "").strip()
        try:
            voucher = find_provider_voucher(session, provider_id=provider_id, code=code)
        except DomainError:
            problems.append((line, _("voucher_code: no voucher of yours has the code "
                                     "%(code)s.", code=code) if code else
                             _("voucher_code: enter the voucher's code.")))
            continue
        try:
            event = _event(row)
            if not repeats_confirmed and _looks_recorded(session, voucher, event):
                repeats.append((line, _("a service event of this voucher on %(day)s with these "
                                        "units is already recorded.",
                                        day=format_date(event.service_date))))
            recorded.append(record_redemption(
                session, voucher=voucher, event=event, source="csv", actor=actor,
                user_id=user_id, language=language))
        except DomainError as exc:
            problems.append((line, _message(exc)))
    if problems:
        raise CsvRejected(problems)
    if repeats:
        raise CsvRepeated(repeats)
    if not recorded:
        raise CsvRejected([(2, _("The file has no service events."))])
    session.add(CsvImport(provider_id=provider_id, sha256=fingerprint, events=len(recorded),
                          imported_by_user_id=user_id))
    return recorded


def _looks_recorded(session: Session, voucher, event) -> bool:
    """An event of the voucher on the same date with the same units is already recorded
    (before this file, or by an earlier row of it)."""
    return session.execute(sa.select(Redemption.id).where(
        Redemption.voucher_id == voucher.id, Redemption.service_date == event.service_date,
        Redemption.units == event.units, Redemption.status != RedemptionStatus.VOID,
        Redemption.corrects_id.is_(None)).limit(1)).first() is not None
