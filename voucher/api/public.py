"""Public endpoints of the API (no authentication): the service catalogue and the register
of approved providers, exactly as ../shared/api-v1.md specifies."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from voucher import clock, db
from voucher.api.common import MAX_PER_PAGE, bp, page_args, page_of, public_api
from voucher.api.openapi import json_response, problem_response, register_paths, register_schemas
from voucher.catalogue.models import ServiceType, Unit
from voucher.catalogue.rates import rates_in_force
from voucher.errors import ValidationFailed
from voucher.municipalities.models import Municipality
from voucher.providers.listing import SORTS, find_listed_providers, ratings_for

LANGUAGE_CODES = ("fi", "sv", "en")
MAX_TEXT = 100


@bp.get("/service-types")
@public_api
def service_types():
    """The active service types; ``name`` in the language of Accept-Language (fi default)."""
    language = request.accept_languages.best_match(LANGUAGE_CODES, "fi")
    session = db.session()
    rows = session.execute(sa.select(ServiceType).where(ServiceType.is_active.is_(True))
                           .order_by(ServiceType.code)).scalars().all()
    rates = rates_in_force(session, [s.id for s in rows], clock.today())
    items = [{"code": service_type.code,
              "name": getattr(service_type, f"name_{language}") or service_type.name_fi,
              "unit": service_type.unit.value,
              "voucher_unit_value_cents": rates[service_type.id].unit_value_cents
              if service_type.id in rates else None,
              "income_related": service_type.income_related} for service_type in rows]
    response = jsonify({"items": items})
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    return response


def _search_args(session) -> dict:
    """The register filters from the query string; every bad one is reported at once."""
    args, errors = request.args, {}
    found = {"service_type_id": None, "municipality_id": None, "language": None, "text": None}
    if args.get("service"):
        found["service_type_id"] = session.execute(sa.select(ServiceType.id).where(
            ServiceType.code == args["service"], ServiceType.is_active.is_(True))).scalar()
        if found["service_type_id"] is None:
            errors["service"] = str(_l("No service type has this code."))
    # Present but empty is a bad value, not "no filter": the document says three digits.
    if "municipality" in args:
        code = args["municipality"]
        found["municipality_id"] = session.execute(sa.select(Municipality.id).where(
            Municipality.code == code)).scalar() if re.fullmatch(r"\d{3}", code) else None
        if found["municipality_id"] is None:
            errors["municipality"] = str(_l(
                "No member municipality has this number (three digits, e.g. 977)."))
    if "language" in args:
        found["language"] = args["language"]
        if found["language"] not in LANGUAGE_CODES:
            errors["language"] = str(_l("Must be fi, sv or en."))
    if args.get("q"):
        found["text"] = args["q"]
        if len(found["text"]) > MAX_TEXT:
            errors["q"] = str(_l("At most %(n)d characters.", n=MAX_TEXT))
    found["sort"] = args.get("sort", "name")
    if found["sort"] not in SORTS:
        errors["sort"] = str(_l("Must be price, name or rating."))
    try:
        found["page"], found["per_page"] = page_args()
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return found


@bp.get("/providers")
@public_api
def providers():
    """Approved, not suspended providers offering the service in the municipality."""
    session = db.session()
    args = _search_args(session)
    page, per_page = args.pop("page"), args.pop("per_page")
    listings, total = find_listed_providers(session, **args, limit=per_page,
                                            offset=(page - 1) * per_page)
    ratings = ratings_for(session, [listing.provider.id for listing in listings])
    items = [{
        "id": listing.provider.id,
        "name": listing.provider.name,
        "business_id": listing.provider.business_id,
        "municipalities": [m.code for m in listing.provider.municipalities],
        "languages": listing.provider.language_codes,
        "services": [{"service": offer.service_type.code,
                      "unit_price_cents": offer.current_price_cents}
                     for offer in listing.offers],
        "rating": ratings.get(listing.provider.id),
    } for listing in listings]
    return jsonify(page_of(items, page, per_page, total))


def _query(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


_PAGING = [
    _query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "default": 1}),
    _query("per_page", "Items per page.",
           {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50}),
]
register_schemas({
    "ServiceType": {
        "type": "object",
        "required": ["code", "name", "unit", "voucher_unit_value_cents", "income_related"],
        "properties": {
            "code": {"type": "string", "example": "HOME_CARE"},
            "name": {"type": "string", "description": "In the language of Accept-Language "
                                                      "(fi, sv or en; fi by default)."},
            "unit": {"type": "string", "enum": [unit.value for unit in Unit]},
            "voucher_unit_value_cents": {
                "type": "integer", "nullable": True,
                "description": "The voucher value per unit in force today (for an "
                               "income-related service: the highest value)."},
            "income_related": {"type": "boolean"},
        },
    },
    "ListedProvider": {
        "type": "object",
        "required": ["id", "name", "business_id", "municipalities", "languages", "services",
                     "rating"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "business_id": {"type": "string", "pattern": r"^\d{7}-\d$"},
            "municipalities": {"type": "array", "items": {"type": "string",
                                                          "pattern": r"^\d{3}$"}},
            "languages": {"type": "array",
                          "items": {"type": "string", "enum": list(LANGUAGE_CODES)}},
            "services": {"type": "array", "items": {
                "type": "object", "required": ["service", "unit_price_cents"],
                "properties": {"service": {"type": "string"},
                               "unit_price_cents": {"type": "integer"}}}},
            "rating": {"type": "number", "nullable": True,
                       "description": "Average client rating 0–10; null until rated."},
        },
    },
})
register_paths({
    "/api/v1/service-types": {"get": {
        "summary": "The service catalogue",
        "tags": ["public"],
        "security": [],
        "parameters": [{"name": "Accept-Language", "in": "header", "required": False,
                        "schema": {"type": "string", "example": "sv"}}],
        "responses": {
            "200": json_response("Active service types", {
                "type": "object", "required": ["items"],
                "properties": {"items": {"type": "array",
                                         "items": {"$ref": "#/components/schemas/ServiceType"}}},
            }),
            "429": problem_response("Too many requests (rate_limited)"),
        },
    }},
    "/api/v1/providers": {"get": {
        "summary": "The register of approved providers",
        "description": "Only approved, not suspended providers that offer the service in the "
                       "municipality. Bad parameters: 422 validation_error with errors.",
        "tags": ["public"],
        "security": [],
        "parameters": [
            _query("service", "Service type code.", {"type": "string", "maxLength": 32}),
            _query("municipality", "Municipality number.",
                   {"type": "string", "pattern": r"^\d{3}$"}),
            _query("language", "Service language.",
                   {"type": "string", "enum": list(LANGUAGE_CODES)}),
            _query("q", "Part of the name or of a service description.",
                   {"type": "string", "maxLength": MAX_TEXT}),
            _query("sort", "Order of the items.",
                   {"type": "string", "enum": list(SORTS), "default": "name"}),
            *_PAGING,
        ],
        "responses": {
            "200": json_response("One page of listed providers", {
                "type": "object", "required": ["items", "page", "per_page", "total"],
                "properties": {
                    "items": {"type": "array",
                              "items": {"$ref": "#/components/schemas/ListedProvider"}},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"},
                    "total": {"type": "integer"}},
            }),
            "422": problem_response("Invalid parameters (validation_error, with errors)"),
            "429": problem_response("Too many requests (rate_limited)"),
        },
    }},
})
