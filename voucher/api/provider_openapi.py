"""OpenAPI description of the provider endpoints (voucher.api.provider)."""

from __future__ import annotations

from voucher.api.common import MAX_PAGE, MAX_PER_PAGE
from voucher.api.openapi import json_response, problem_response, register_paths, register_schemas
from voucher.redemptions.services import CAREGIVER_PATTERN

_DATE = {"type": "string", "format": "date", "example": "2026-11-20"}
_TIMESTAMP = {"type": "string", "format": "date-time"}
_UNITS = {"type": "number", "description": "Units (hours, visits …); at most two decimals, "
                                           "and whole units only for services that are not "
                                           "divisible."}
_CENTS = {"type": "integer", "description": "Euro cents."}
_EXAMPLE_CODE = "K7QM-4TXR-9PWA-HB3E"
_AVAILABLE = (
    "The most that one service event dated today (or on the `on` date) may still record: "
    "the units remaining, limited by what is left of the allotment period (the calendar "
    "month of a monthly voucher) containing that date, in whole units for a service that is "
    "not divisible. 0 when nothing can be recorded for that date: the voucher is not "
    "`assigned` (an `exhausted`, `expired`, `cancelled` or only `issued` one), the date is "
    "outside its validity, or the date is in the future (services are recorded once "
    "delivered). Recording more answers 409 `insufficient_units`; concurrent recordings "
    "together never take more than this.")
_ON = {"name": "on", "in": "query", "schema": _DATE,
       "description": "The service date that `units_available` answers for, YYYY-MM-DD; "
                      "default today (Finnish time). A future date answers 0."}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _page(item: str) -> dict:
    return {"type": "object", "required": ["items", "page", "per_page", "total"],
            "properties": {"items": {"type": "array", "items": _ref(item)},
                           "page": {"type": "integer", "minimum": 1},
                           "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
                           "total": {"type": "integer", "minimum": 0}}}


register_schemas({
    "Voucher": {
        "type": "object",
        "required": ["code", "decision_number", "service", "status", "valid_from",
                     "valid_until", "units_granted", "units_used", "units_remaining",
                     "units_available", "unit_value_cents", "client"],
        "properties": {
            "code": {"type": "string", "example": _EXAMPLE_CODE},
            "decision_number": {
                "type": "string", "nullable": True, "example": "PS-2026-000123",
                "description": "The number of the decision that granted the voucher, unique "
                               "in the authority; cite it when asking about the decision "
                               "(null only for a decision made while the release that "
                               "numbers decisions was being deployed)."},
            "service": {"type": "string", "description": "Service type code.",
                        "example": "HOME_CARE"},
            "status": {"type": "string", "enum": ["draft", "pending_approval", "issued",
                                                  "assigned", "exhausted", "expired",
                                                  "cancelled"]},
            "valid_from": _DATE, "valid_until": _DATE,
            "units_granted": _UNITS, "units_used": _UNITS, "units_remaining": _UNITS,
            "units_available": {**_UNITS, "minimum": 0, "description": _AVAILABLE},
            "unit_value_cents": {**_CENTS, "description": "What the voucher pays per unit."},
            "client": {"type": "object", "required": ["display_name"],
                       "properties": {"display_name": {
                           "type": "string", "example": "Aino V.",
                           "description": "First name and the initial of the last name."}}},
        },
    },
    "VoucherPage": _page("Voucher"),
    "RedemptionRequest": {
        "type": "object",
        "required": ["service_date", "units"],
        "additionalProperties": False,
        "properties": {
            "service_date": {**_DATE, "description": "The day the service was delivered: "
                                                     "within the voucher's validity, not in "
                                                     "the future."},
            "units": {**_UNITS, "exclusiveMinimum": True, "minimum": 0, "maximum": 1000,
                      "example": 2},
            "unit_price_cents": {**_CENTS, "minimum": 1, "maximum": 10_000_000,
                                 "nullable": True, "example": 3900,
                                 "description": "At most your approved price for the service "
                                                "on the service date; omitted or null: that "
                                                "price."},
            "note": {"type": "string", "nullable": True, "maxLength": 2000,
                     "description": "Free text. Stored normalised to Unicode NFC, tabs and "
                                    "other spaces as plain spaces; a control character "
                                    "(other than a line break) is refused with 422 "
                                    "`validation_error`, like in every text field."},
            "caregiver_ref": {"type": "string", "nullable": True,
                              "maxLength": 64, "pattern": CAREGIVER_PATTERN,
                              "example": "HO-17",
                              "description": "Your own pseudonymous staff number of the "
                                             "caregiver (never a name), for the continuity-"
                                             "of-care figure."},
        },
    },
    "Redemption": {
        "type": "object",
        "required": ["id", "voucher_code", "service_date", "units", "unit_price_cents",
                     "voucher_pays_cents", "client_pays_cents", "status", "units_remaining"],
        "properties": {
            "id": {"type": "integer"},
            "voucher_code": {"type": "string"},
            "service_date": _DATE,
            "units": {**_UNITS, "description": "Negative for a correction."},
            "unit_price_cents": _CENTS,
            "voucher_pays_cents": {**_CENTS, "description": "min(price, voucher value) × "
                                                            "units; negative for a correction."},
            "client_pays_cents": {**_CENTS, "description": "The client's self-share: the rest "
                                                           "of the price."},
            "status": {"type": "string", "enum": ["recorded", "invoiced", "settled", "void"]},
            "units_remaining": {**_UNITS, "description": "Units left on the voucher now."},
            "corrects_id": {"type": "integer", "nullable": True,
                            "description": "For a correction: the event it reverses."},
            "caregiver_ref": {"type": "string", "nullable": True},
            "note": {"type": "string", "nullable": True},
            "source": {"type": "string", "enum": ["portal", "csv", "api"]},
            "created_at": _TIMESTAMP,
        },
    },
    "RedemptionPage": _page("Redemption"),
    "InvoiceRequest": {
        "type": "object", "required": ["period"], "additionalProperties": False,
        "properties": {"period": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$",
                                  "example": "2026-10",
                                  "description": "The month to invoice, YYYY-MM; it must "
                                                 "have ended."}},
    },
    "InvoiceLine": {
        "type": "object",
        "required": ["redemption_id", "voucher_code", "service_date", "units",
                     "unit_price_cents", "voucher_pays_cents", "client_pays_cents"],
        "properties": {
            "redemption_id": {"type": "integer"}, "voucher_code": {"type": "string"},
            "service_date": _DATE, "units": _UNITS, "unit_price_cents": _CENTS,
            "voucher_pays_cents": _CENTS, "client_pays_cents": _CENTS,
        },
    },
    "Invoice": {
        "type": "object",
        "required": ["id", "number", "period", "status", "lines", "total_cents"],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "integer", "description": "From a gap-free sequence."},
            "period": {"type": "string", "example": "2026-10"},
            "status": {"type": "string", "enum": ["submitted", "approved", "rejected", "paid"]},
            "reference": {"type": "string", "description": "Finnish payment reference."},
            "business_id": {"type": "string"}, "iban": {"type": "string"},
            "bic": {"type": "string", "nullable": True},
            "created_at": _TIMESTAMP,
            "decided_at": {**_TIMESTAMP, "nullable": True},
            "rejection_reason": {"type": "string", "nullable": True},
            "lines": {"type": "array", "items": _ref("InvoiceLine")},
            "total_cents": {**_CENTS, "description": "Sum of the lines' voucher_pays_cents: "
                                                     "what the authority pays."},
            "client_total_cents": {**_CENTS, "description": "Sum of the self-shares (not "
                                                            "billed to the authority)."},
        },
    },
    "InvoicePage": _page("Invoice"),
})

_SECURITY = [{"bearer": []}]
_UNAUTHORIZED = problem_response("`unauthorized`: the bearer token is missing, revoked or "
                                 "wrong.")
_RATE_LIMITED = {
    **problem_response("`rate_limited`: too many requests; wait as long as Retry-After says."),
    "headers": {"Retry-After": {"description": "Seconds to wait.",
                                "schema": {"type": "integer"}}},
}
_VALIDATION = problem_response("`validation_error`: malformed input; `errors` names each field.")
_NOT_FOUND = problem_response("`not_found`: no such object among yours.")
_PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                "maximum": MAX_PAGE, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                    "maximum": MAX_PER_PAGE, "default": 50}},
]
_CODE = {"name": "code", "in": "path", "required": True,
         "schema": {"type": "string", "minLength": 1, "maxLength": 32},
         "example": _EXAMPLE_CODE}


def _id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2_147_483_647}}


def _operation(summary: str, description: str, responses: dict, *, parameters=(),
               body: str | None = None, operation_id: str) -> dict:
    operation = {
        "summary": summary, "description": description, "operationId": operation_id,
        "tags": ["provider"], "security": _SECURITY, "parameters": list(parameters),
        "responses": {**responses, "401": _UNAUTHORIZED, "429": _RATE_LIMITED},
    }
    if body:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _ref(body)}}}
    return operation


register_paths({
    "/api/v1/vouchers": {"get": _operation(
        "Your clients' vouchers",
        "Vouchers whose chosen provider is you, newest validity first.",
        {"200": json_response("A page of vouchers.", _ref("VoucherPage")),
         "422": _VALIDATION},
        parameters=[{"name": "status", "in": "query", "schema": {
            "type": "string", "enum": ["draft", "pending_approval", "issued", "assigned",
                                       "exhausted", "expired", "cancelled"]}}, _ON,
                    *_PAGING],
        operation_id="listVouchers")},
    "/api/v1/vouchers/{code}": {"get": _operation(
        "One voucher", "404 when the voucher is not assigned to you. `units_available` says "
                       "how many units a service event dated today (or `on`) may record.",
        {"200": json_response("The voucher.", _ref("Voucher")), "404": _NOT_FOUND,
         "422": _VALIDATION},
        parameters=[_CODE, _ON], operation_id="getVoucher")},
    "/api/v1/vouchers/{code}/redemptions": {"post": _operation(
        "Record a service event",
        "Takes units from the voucher. Send a new `Idempotency-Key` for every event: a retry "
        "with the same key and body returns the first response and records nothing new. "
        "Concurrent requests never take more units than the voucher has.",
        {"201": {**json_response("Recorded (or, for a retry, the first answer again).",
                                 _ref("Redemption")),
                 "headers": {"Location": {"schema": {"type": "string"}},
                             "Idempotent-Replayed": {
                                 "description": "`true` when this is the first answer again.",
                                 "schema": {"type": "string", "enum": ["true"]}}}},
         "400": problem_response("`idempotency_key_required`: the header is missing."),
         "404": _NOT_FOUND,
         "409": problem_response("`insufficient_units`: more units than remain, or than "
                                 "the voucher's `units_available` on the service date (a "
                                 "monthly allotment; an exhausted voucher has none left); "
                                 "`voucher_not_active`: the "
                                 "voucher is not in your use (expired, cancelled, not yet "
                                 "assigned) or the date is outside its validity; "
                                 "`provider_not_active`: your company's approval is "
                                 "suspended or revoked, so nothing new can be recorded (what "
                                 "was recorded stays readable)."),
         "422": problem_response("`validation_error`: malformed fields, a future date or units "
                                 "≤ 0; `price_above_approved`: the price is above your "
                                 "approved price on that date; `idempotency_key_reused`: the "
                                 "key was used for a different request.")},
        parameters=[_CODE, {"name": "Idempotency-Key", "in": "header", "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                            "example": "3f2a9c1e-8d4b-4e0a-9b1f-6c2d7e8f9a0b"}],
        body="RedemptionRequest", operation_id="createRedemption")},
    "/api/v1/redemptions": {"get": _operation(
        "Your service events", "Filtered by service date and status, oldest first.",
        {"200": json_response("A page of service events.", _ref("RedemptionPage")),
         "422": _VALIDATION},
        parameters=[{"name": "from", "in": "query", "schema": _DATE},
                    {"name": "to", "in": "query", "schema": _DATE},
                    {"name": "status", "in": "query", "schema": {
                        "type": "string", "enum": ["recorded", "invoiced", "settled", "void"]}},
                    *_PAGING],
        operation_id="listRedemptions")},
    "/api/v1/redemptions/{redemption_id}": {"get": _operation(
        "One service event", "404 for another provider's event.",
        {"200": json_response("The service event.", _ref("Redemption")), "404": _NOT_FOUND},
        parameters=[_id("redemption_id")], operation_id="getRedemption")},
    "/api/v1/redemptions/{redemption_id}/void": {"post": _operation(
        "Void a service event",
        "Only before it is invoiced; its units return to the voucher. Voiding a void event "
        "returns it unchanged.",
        {"200": json_response("The void event.", _ref("Redemption")), "404": _NOT_FOUND,
         "409": problem_response("`already_invoiced`: the event is on an invoice; "
                                 "`cannot_correct`: a correction cannot be voided.")},
        parameters=[_id("redemption_id")], operation_id="voidRedemption")},
    "/api/v1/invoices": {
        "get": _operation(
            "Your invoices", "Newest first.",
            {"200": json_response("A page of invoices.", _ref("InvoicePage")),
             "422": _VALIDATION},
            parameters=_PAGING, operation_id="listInvoices"),
        "post": _operation(
            "Invoice a month",
            "All your recorded, not yet invoiced service events with a service date in the "
            "month, plus pending corrections. The invoice is sent to the authority at once "
            "(`submitted`).",
            {"201": {**json_response("The invoice.", _ref("Invoice")),
                     "headers": {"Location": {"schema": {"type": "string"}}}},
             "409": problem_response("`nothing_to_invoice`: no events to invoice; "
                                     "`bank_account_missing`: your details lack an IBAN; "
                                     "`provider_not_active`: your company's approval is "
                                     "suspended or revoked, so no invoice can be sent (your "
                                     "invoices already sent are still decided and paid)."),
             "422": problem_response("`period_not_closed`: the month has not ended; "
                                     "`validation_error`: malformed period.")},
            body="InvoiceRequest", operation_id="createInvoice"),
    },
    "/api/v1/invoices/{invoice_id}": {"get": _operation(
        "One invoice", "With its status: submitted, approved, rejected or paid.",
        {"200": json_response("The invoice.", _ref("Invoice")), "404": _NOT_FOUND},
        parameters=[_id("invoice_id")], operation_id="getInvoice")},
    "/api/v1/invoices/{invoice_id}/finvoice": {"get": _operation(
        "One invoice as a Finvoice 3.0 e-invoice",
        "The invoice as Finance Finland's Finvoice 3.0 XML, addressed to the authority's "
        "e-invoice address (OVT code and operator): send it through your e-invoice operator "
        "(or your bank's e-invoice service). Amounts are what the authority pays (the voucher "
        "shares), with a comma as the decimal sign as Finvoice writes them; the service is "
        "VAT-exempt (VAT code `E`). Ask with `Accept: application/xml` (or `*/*`).",
        {"200": {"description": "The Finvoice 3.0 document.",
                 "content": {"application/xml": {"schema": {"type": "string"}}}},
         "404": _NOT_FOUND,
         "406": problem_response("`not_acceptable`: the Accept header does not allow "
                                 "application/xml.")},
        parameters=[_id("invoice_id")], operation_id="getInvoiceFinvoice")},
})
