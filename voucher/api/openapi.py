"""The OpenAPI 3 document, assembled from what each API module registers.

Each endpoint module calls ``register_paths`` and ``register_schemas`` at import time with the
OpenAPI description of its endpoints, kept next to the code that implements them.
"""

from __future__ import annotations

from flask import jsonify

from voucher.api.common import bp, public_api

_PATHS: dict[str, dict] = {}
_SCHEMAS: dict[str, dict] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "code"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
}


def register_paths(paths: dict[str, dict]) -> None:
    for path, operations in paths.items():
        _PATHS.setdefault(path, {}).update(operations)


def register_schemas(schemas: dict[str, dict]) -> None:
    _SCHEMAS.update(schemas)


def problem_response(description: str) -> dict:
    """An OpenAPI response object for a problem+json answer."""
    return {"description": description,
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}}


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Voucher provider API",
            "version": "1.0.0",
            "description": "Service-voucher providers record service events and send invoices. "
                           "Money is integer euro cents, dates are YYYY-MM-DD. Errors are "
                           "RFC 9457 problem details with a stable `code`.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(_PATHS.items())),
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
@public_api
def openapi_json():
    return jsonify(document())
