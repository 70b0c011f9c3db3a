"""Provider endpoints of /api/v1 (bearer token): vouchers, service events, invoices.

The contract is ../shared/api-v1.md; the OpenAPI description is in ``provider_openapi``. Every
query is scoped to the token's provider: another provider's voucher or event is 404, so codes
cannot be probed. The endpoints call the same services as the provider portal.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

from flask import Response, current_app, g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from voucher import clock, db
from voucher.api import idempotency
from voucher.api.common import bp, json_body, page_args, page_of, provider_api
from voucher.audit.services import Actor
from voucher.errors import DomainError, ValidationFailed
from voucher.i18n import DEFAULT_LANGUAGE, LANGUAGES
from voucher.invoicing import queries as invoice_queries
from voucher.invoicing import services as invoicing
from voucher.invoicing.finvoice import invoice_finvoice
from voucher.invoicing.models import Invoice
from voucher.money import UNIT_SCALE
from voucher.redemptions import corrections, queries, services
from voucher.redemptions.models import Redemption, RedemptionStatus
from voucher.vouchers.models import Voucher, VoucherStatus
from voucher.vouchers.units import units_available, units_available_on
from voucher.web import client_ip

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_REDEMPTION_FIELDS = ("service_date", "units", "unit_price_cents", "note", "caregiver_ref")


class NotAcceptable(DomainError):
    code = "not_acceptable"
    status = 406
    message = _l("This resource is given as application/xml only.")


def _actor() -> Actor:
    return Actor(None, f"api_token:{g.api_token.id}", client_ip(), g.get("request_id"))


def _language() -> str:
    """The language of numbers in messages: Accept-Language (an API call has no session)."""
    return request.accept_languages.best_match(LANGUAGES, DEFAULT_LANGUAGE)


def units_value(hundredths: int) -> int | float:
    """Hundredths as the API's number of units: 200 → 2, 150 → 1.5."""
    return hundredths // UNIT_SCALE if hundredths % UNIT_SCALE == 0 else hundredths / UNIT_SCALE


def voucher_json(voucher: Voucher, available: int) -> dict:
    """The API's voucher; ``available`` is its ``units_available`` (hundredths) on the day
    asked for."""
    return {
        "code": voucher.code, "decision_number": voucher.decision_number,
        "service": voucher.service_type.code,
        "status": voucher.status.value, "valid_from": voucher.valid_from.isoformat(),
        "valid_until": voucher.valid_until.isoformat(),
        "units_granted": units_value(voucher.units_granted),
        "units_used": units_value(voucher.units_used),
        "units_remaining": units_value(voucher.units_remaining),
        "units_available": units_value(available),
        "unit_value_cents": voucher.unit_value_cents,
        "client": {"display_name": voucher.client.display_name},
    }


def redemption_json(redemption: Redemption) -> dict:
    voucher = redemption.voucher
    return {
        "id": redemption.id, "voucher_code": voucher.code,
        "service_date": redemption.service_date.isoformat(),
        "units": units_value(redemption.units),
        "unit_price_cents": redemption.unit_price_cents,
        "voucher_pays_cents": redemption.voucher_pays_cents,
        "client_pays_cents": redemption.client_pays_cents,
        "status": redemption.status.value,
        "units_remaining": units_value(voucher.units_remaining),
        "corrects_id": redemption.corrects_id,
        "caregiver_ref": redemption.caregiver_ref, "note": redemption.note,
        "source": redemption.source, "created_at": redemption.created_at.isoformat(),
    }


def invoice_json(invoice: Invoice) -> dict:
    return {
        "id": invoice.id, "number": invoice.number,
        "period": f"{invoice.period.year:04d}-{invoice.period.month:02d}",
        "status": invoice.status.value, "reference": invoice.reference,
        "business_id": invoice.business_id, "iban": invoice.iban, "bic": invoice.bic,
        "created_at": invoice.created_at.isoformat(),
        "decided_at": invoice.decided_at.isoformat() if invoice.decided_at else None,
        "rejection_reason": invoice.rejection_reason,
        "lines": [{
            "redemption_id": line.redemption_id, "voucher_code": line.voucher_code,
            "service_date": line.service_date.isoformat(), "units": units_value(line.units),
            "unit_price_cents": line.unit_price_cents,
            "voucher_pays_cents": line.voucher_pays_cents,
            "client_pays_cents": line.client_pays_cents,
        } for line in invoice.lines],
        "total_cents": invoice.voucher_total_cents,
        "client_total_cents": invoice.client_total_cents,
    }


def _date(value, field: str, errors: dict) -> dt.date | None:
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    errors[field] = _("Give a date as YYYY-MM-DD.")
    return None


def _text(value, field: str, errors: dict) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value:
        errors[field] = _("Must be a text string.")
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        errors[field] = _("Must be a text string.")
        return None
    return value.strip() or None


def _units(value, errors: dict) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not math.isfinite(value)):
        errors["units"] = _("Give the units as a number, e.g. 2 or 1.5.")
        return None
    exact = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    if exact.as_tuple().exponent < -2:
        errors["units"] = _("Units can have at most two decimals.")
        return None
    return int(exact * UNIT_SCALE)


def parse_redemption(body: dict) -> services.EventInput:
    """The request body as an EventInput; ValidationFailed names every bad field."""
    errors: dict[str, str] = {}
    for name in sorted(set(body) - set(_REDEMPTION_FIELDS)):
        errors[name] = _("Unknown field.")
    if "service_date" not in body:
        errors["service_date"] = _("Required.")
    if "units" not in body:
        errors["units"] = _("Required.")
    day = _date(body["service_date"], "service_date", errors) if "service_date" in body \
        else None
    units = _units(body["units"], errors) if "units" in body else None
    price = body.get("unit_price_cents")
    if price is not None and (isinstance(price, bool) or not isinstance(price, int)):
        errors["unit_price_cents"] = _("Give the price as a whole number of cents.")
    note = _text(body.get("note"), "note", errors)
    caregiver_ref = _text(body.get("caregiver_ref"), "caregiver_ref", errors)
    if errors:
        raise ValidationFailed(errors)
    return services.EventInput(service_date=day, units=units, unit_price_cents=price,
                               caregiver_ref=caregiver_ref, note=note)


def _enum_arg(name: str, enum_cls):
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return enum_cls(raw)
    except ValueError:
        raise ValidationFailed({name: _("One of: %(values)s.", values=", ".join(
            member.value for member in enum_cls))}) from None


def _date_arg(name: str, errors: dict) -> dt.date | None:
    raw = request.args.get(name)
    return None if raw is None else _date(raw, name, errors)


def _service_day_arg() -> dt.date:
    """?on=YYYY-MM-DD, the service date that ``units_available`` answers for; today (in
    Finland) without it."""
    errors: dict[str, str] = {}
    day = _date_arg("on", errors)
    if errors:
        raise ValidationFailed(errors)
    return clock.today() if day is None else day


@bp.get("/vouchers")
@provider_api
def list_vouchers():
    page, per_page = page_args()
    status = _enum_arg("status", VoucherStatus)
    day = _service_day_arg()
    session = db.session()
    items, total = queries.provider_vouchers(
        session, provider_id=g.api_provider_id, status=status, page=page, per_page=per_page)
    available = units_available_on(session, items, day)
    return page_of([voucher_json(v, available[v.id]) for v in items], page, per_page, total)


@bp.get("/vouchers/<code>")
@provider_api
def get_voucher(code: str):
    day = _service_day_arg()
    session = db.session()
    voucher = services.find_provider_voucher(session, provider_id=g.api_provider_id,
                                             code=code)
    return voucher_json(voucher, units_available(session, voucher, day))


@bp.post("/vouchers/<code>/redemptions")
@provider_api
def create_redemption(code: str):
    session = db.session()

    def record() -> tuple[dict, int]:
        event = parse_redemption(json_body())
        voucher, approved_price = services.find_voucher_for_event(
            session, provider_id=g.api_provider_id, code=code, day=event.service_date)
        redemption = services.record_redemption(
            session, voucher=voucher, event=event, source="api", actor=_actor(),
            language=_language(), approved_price_cents=approved_price)
        return redemption_json(redemption), 201

    answer = idempotency.run_once(
        session, provider_id=g.api_provider_id, key=idempotency.request_key(),
        fingerprint=idempotency.request_fingerprint(), work=record)
    headers = {"Location": url_for("api.get_redemption", redemption_id=answer.body["id"])}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return answer.body, answer.status, headers


@bp.get("/redemptions")
@provider_api
def list_redemptions():
    page, per_page = page_args()
    errors: dict[str, str] = {}
    from_date, to_date = _date_arg("from", errors), _date_arg("to", errors)
    if errors:
        raise ValidationFailed(errors)
    status = _enum_arg("status", RedemptionStatus)
    items, total = queries.provider_redemptions(
        db.session(), provider_id=g.api_provider_id, from_date=from_date, to_date=to_date,
        status=status, page=page, per_page=per_page)
    return page_of([redemption_json(r) for r in items], page, per_page, total)


@bp.get("/redemptions/<int:redemption_id>")
@provider_api
def get_redemption(redemption_id: int):
    redemption = services.find_provider_redemption(
        db.session(), provider_id=g.api_provider_id, redemption_id=redemption_id)
    return redemption_json(redemption)


@bp.post("/redemptions/<int:redemption_id>/void")
@provider_api
def void_redemption(redemption_id: int):
    redemption = corrections.void_redemption(
        db.session(), provider_id=g.api_provider_id, redemption_id=redemption_id,
        actor=_actor())
    return redemption_json(redemption)


@bp.get("/invoices")
@provider_api
def list_invoices():
    page, per_page = page_args()
    items, total = invoice_queries.provider_invoices(
        db.session(), provider_id=g.api_provider_id, page=page, per_page=per_page,
        with_lines=True)
    return page_of([invoice_json(i) for i in items], page, per_page, total)


@bp.post("/invoices")
@provider_api
def create_invoice():
    body = json_body()
    unknown = sorted(set(body) - {"period"})
    if unknown or not isinstance(body.get("period"), str):
        errors = {name: _("Unknown field.") for name in unknown}
        if not isinstance(body.get("period"), str):
            errors["period"] = _("Give the month as YYYY-MM, e.g. 2026-10.")
        raise ValidationFailed(errors)
    invoice = invoicing.create_invoice(
        db.session(), provider_id=g.api_provider_id,
        period=invoicing.parse_period(body["period"]), actor=_actor())
    return invoice_json(invoice), 201, {
        "Location": url_for("api.get_invoice", invoice_id=invoice.id)}


@bp.get("/invoices/<int:invoice_id>")
@provider_api
def get_invoice(invoice_id: int):
    invoice = invoicing.find_provider_invoice(db.session(), provider_id=g.api_provider_id,
                                              invoice_id=invoice_id)
    return invoice_json(invoice)


@bp.get("/invoices/<int:invoice_id>/finvoice")
@provider_api
def get_invoice_finvoice(invoice_id: int):
    """The invoice as Finvoice 3.0 XML (Accept: application/xml, or anything XML takes)."""
    session = db.session()
    invoice = invoicing.find_provider_invoice(session, provider_id=g.api_provider_id,
                                              invoice_id=invoice_id)
    if request.accept_mimetypes and not request.accept_mimetypes.best_match(
            ["application/xml", "text/xml"]):
        raise NotAcceptable()
    content = invoice_finvoice(session, invoice, current_app.config)
    return Response(content, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="finvoice-{invoice.number}.xml"'})
