"""The OpenAPI 3.1 document, generated from the route table and the resource declarations.

Nothing is written twice: the paths are the operations of the routes the app serves
(``routing.RouteTable``: resource routes documented from their declarations by
``openapi_resources``, every other route by its domain's operations); the registry gives
the resource schemas.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from inquicker.jsonapi.openapi_schemas import SHARED, resource_components
from inquicker.jsonapi.operations import JSONAPI_MEDIA_TYPE, Operation, Param, Reply, ref
from inquicker.jsonapi.resource import Registry

OPENAPI_VERSION = "3.1.0"
API_VERSION = "3"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "api_key": {
        "type": "apiKey",
        "in": "query",
        "name": "api_key",
        "description": "The partner site's API key (the documented way).",
    },
    "authorization": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "The API key: bare, as `Token <key>`, or as `Bearer <key>`.",
    },
    "x_api_key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
    "visit_token": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A visit token from GET /visit-token (the bare JWT is accepted too).",
    },
    "management_token": {
        "type": "http",
        "scheme": "bearer",
        "description": "The visit's management token (`meta.management-token` of its 201).",
    },
}

HOSTNAME = Param(
    "partner_hostname",
    "path",
    {"type": "string"},
    "The partner site's client-facing hostname; it selects the tenant (unknown: 404).",
    required=True,
    example="winter-health.inquicker.com",
)

# Headers some error statuses always carry.
_ERROR_HEADERS: dict[int, dict[str, str]] = {
    401: {"WWW-Authenticate": "The authentication scheme expected."},
    405: {"Allow": "The methods the route allows."},
    429: {"Retry-After": "Seconds to wait before trying again."},
    503: {"Retry-After": "Seconds to wait before trying again."},
}

DESCRIPTION = """\
The InQuicker API v3: providers, locations, schedules and open appointment times of a health
system's partner site, and booking of patient visits. Documents follow JSON:API 1.1
(`application/vnd.api+json`); errors are JSON:API error documents listing every problem found.

Every route answers under `/api/v3/{partner_hostname}` and `/v3/{partner_hostname}`; underscore
spellings of paths (`/appointment_types`) and a trailing slash are accepted. Every `GET` also
answers `HEAD`, carries an `ETag` and honours `If-None-Match`. Any other method is `405` with
`Allow`. Filters are accepted as `filter[name]=value` and as one JSON object
(`filter={"name":"value"}`)."""


def build_document(
    registry: Registry,
    operations: Iterable[Operation],
    *,
    servers: tuple[str, ...] = ("/api/v3", "/v3"),
) -> dict[str, Any]:
    """The whole document: ``operations`` are the route table's (``RouteTable.operations``),
    which holds one route per (path, method)."""
    components: dict[str, Any] = {**SHARED, **resource_components(registry)}
    paths: dict[str, dict[str, Any]] = {}
    statuses: set[int] = set()
    tags: dict[str, str] = {r.type: r.description for r in registry}
    for op in operations:
        path = paths.setdefault(f"/{{partner_hostname}}{op.path}", {})
        path[op.method] = _operation(op)
        statuses.update(op.errors)
        components.update(op.components)
        for tag in op.tags:
            tags.setdefault(tag, "")
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "InQuicker API",
            "version": API_VERSION,
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": url} for url in servers],
        "tags": [{"name": n, "description": d} if d else {"name": n} for n, d in tags.items()],
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {str(s): _error_response(s) for s in sorted(statuses)},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    if op.tags:
        out["tags"] = list(op.tags)
    out["parameters"] = [_parameter(p) for p in (HOSTNAME, *op.parameters)]
    if op.body is not None:
        body: dict[str, Any] = {
            "required": True,
            "content": {op.body.media_type: {"schema": dict(op.body.schema)}},
        }
        if op.body.description:
            body["description"] = op.body.description
        out["requestBody"] = body
    responses: dict[str, Any] = {str(r.status): _reply(r) for r in op.responses}
    for status in op.errors:
        responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    out["responses"] = responses
    # An empty list says "no scheme applies" (the operation authenticates by a parameter).
    out["security"] = [{name: []} for name in op.security]
    return out


def _parameter(param: Param) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": param.name,
        "in": param.location,
        "required": param.required or param.location == "path",
        "schema": dict(param.schema),
    }
    if param.description:
        out["description"] = param.description
    if param.example is not None:
        out["example"] = param.example
    return out


def _reply(reply: Reply) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    if reply.media_type is not None:
        out["content"] = {reply.media_type: {"schema": dict(reply.schema or {})}}
    if reply.headers:
        out["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in reply.headers.items()
        }
    return out


def _error_response(status: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": HTTPStatus(status).phrase,
        "content": {JSONAPI_MEDIA_TYPE: {"schema": ref("ErrorDocument")}},
    }
    headers = _ERROR_HEADERS.get(status)
    if headers:
        out["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return out
