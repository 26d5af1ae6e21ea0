"""The request as handlers see it, parsed once by the pipeline (``web.pipeline.Api.parse``),
and what handlers use of the pipeline: the API key, ``authorize``, parameter checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from starlette.responses import Response

from inquicker.jsonapi.errors import UNAUTHORIZED, ApiError, ErrorObject
from inquicker.jsonapi.params import unknown_parameters
from inquicker.tenancy.resolve import Principal
from inquicker.web.context import RequestContext


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """What a handler may know of the HTTP request."""

    method: str
    # The route template's parameters, from the match (e.g. {"id": "dr-smith"}).
    path_params: Mapping[str, str]
    params: Sequence[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    url: str  # absolute URL of the request without its query string
    principal: Principal | None = None

    def with_principal(self, principal: Principal) -> ApiRequest:
        return replace(self, principal=principal)


# What every route of the API table runs: a document to render, or a ready response.
Handler = Callable[[RequestContext, ApiRequest], Response | dict[str, Any]]


def api_key_of(req: ApiRequest) -> str | None:
    """The API key in any accepted spelling: ?api_key=, Authorization (bare/Token/Bearer),
    X-Api-Key."""
    for key, value in req.params:
        if key == "api_key" and value.strip():
            return value.strip()
    header = req.headers.get("x-api-key", "").strip()
    if header:
        return header
    auth = req.headers.get("authorization", "").strip()
    if not auth:
        return None
    scheme, _, rest = auth.partition(" ")
    if scheme.lower() in ("token", "bearer") and rest.strip():
        rest = rest.strip()
        # Rails-style "Token token=abc"
        return rest[6:].strip('"') if rest.startswith("token=") else rest
    return auth


def authorize(ctx: RequestContext, req: ApiRequest, scope: str) -> Principal:
    """The request's API key for this site, with ``scope``; 401 (always the same) or 403."""
    raw = api_key_of(req)
    principal = ctx.directory.principal(ctx.session, ctx.tenant, raw, ctx.now) if raw else None
    if principal is None:
        raise ApiError([UNAUTHORIZED], headers={"WWW-Authenticate": 'Token realm="api"'})
    if scope not in principal.scopes:
        raise ApiError(
            [ErrorObject(403, "forbidden", "Forbidden", f"This API key lacks the '{scope}' scope.")]
        )
    return principal


def checking_parameters(
    handler: Handler, known: frozenset[str], families: frozenset[str] = frozenset()
) -> Handler:
    """``handler`` refusing query parameters it does not take (400 naming each)."""

    def handle(ctx: RequestContext, req: ApiRequest) -> Response | dict[str, Any]:
        errors = unknown_parameters(req.params, known, families)
        if errors:
            raise ApiError(errors)
        return handler(ctx, req)

    return handle
