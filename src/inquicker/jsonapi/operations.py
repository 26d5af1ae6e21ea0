"""Routes described as data: what each route contributes to the OpenAPI document.

Each route of the table carries its operations (``routing.Route.operations``): a domain's
``routes.py`` hands its operations to ``routing.route``, resource routes get theirs from
``openapi_resources``; the generator in ``openapi.py`` renders the table's. Protocol only:
nothing here knows a domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Schema = Mapping[str, Any]

# The security schemes of the document (openapi.SECURITY_SCHEMES), by name.
API_KEY = ("api_key", "authorization", "x_api_key")
VISIT_TOKEN = ("visit_token",)
MANAGEMENT_TOKEN = ("management_token",)

JSONAPI_MEDIA_TYPE = "application/vnd.api+json"


def ref(name: str) -> dict[str, str]:
    """A reference to a schema of the document's ``components.schemas``."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> dict[str, Any]:
    return {"anyOf": [dict(schema), {"type": "null"}]}


@dataclass(frozen=True, slots=True)
class Param:
    """A path, query or header parameter."""

    name: str
    location: Literal["path", "query", "header"]
    schema: Schema
    description: str = ""
    required: bool = False
    example: Any = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One success response (errors are listed by status: they all share the error schema)."""

    status: int
    description: str
    media_type: str | None = JSONAPI_MEDIA_TYPE  # None: no body
    schema: Schema | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> description


@dataclass(frozen=True, slots=True)
class Body:
    """A request body."""

    schema: Schema
    media_type: str = JSONAPI_MEDIA_TYPE
    description: str = ""


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path template, relative to ``/{partner_hostname}``.

    ``errors`` are the 4xx/5xx statuses the operation may answer, each rendered with the
    JSON:API error document schema; ``security`` names alternative schemes (any one suffices),
    empty when the operation authenticates by a parameter of its own.
    """

    method: Literal["get", "post", "patch", "delete"]
    path: str
    operation_id: str
    summary: str
    responses: tuple[Reply, ...]
    errors: tuple[int, ...] = ()
    parameters: tuple[Param, ...] = ()
    body: Body | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    security: tuple[str, ...] = API_KEY
    # Components this operation's schemas refer to, by name (merged into the document).
    components: Mapping[str, Schema] = field(default_factory=dict)
