"""The API dispatcher: one Starlette endpoint serving every /api/v3/{hostname}/... route.

It resolves the route (404/405 first), the tenant and the key, opens the request's
transaction, runs the handler in the threadpool and renders documents or errors.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
import orjson
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from inquicker.db.engine import WriteConflictError, immediate_writes
from inquicker.db.replicas import Replicas
from inquicker.jsonapi.context import RequestContext
from inquicker.jsonapi.errors import (
    UNAUTHORIZED,
    ApiError,
    ErrorObject,
    bad_parameter,
    not_found,
)
from inquicker.jsonapi.handlers import (
    list_resources,
    show_related,
    show_relationship,
    show_resource,
)
from inquicker.jsonapi.negotiation import MEDIA_TYPE, check_accept
from inquicker.jsonapi.operations import Operation
from inquicker.jsonapi.params import unknown_parameters
from inquicker.jsonapi.query import dasherize
from inquicker.jsonapi.resource import Registry
from inquicker.jsonapi.response_cache import CachedDocument, ResponseCache, cache_key
from inquicker.memo import Memo
from inquicker.settings import Settings
from inquicker.tenancy import changes
from inquicker.tenancy.directory import Directory
from inquicker.tenancy.resolve import Principal, touch_key
from inquicker.web.database import unavailable_error
from inquicker.web.jsondepth import MAX_DEPTH, too_deep
from inquicker.web.ratelimit import RateLimits, RateState

log = logging.getLogger("inquicker.api")

READ_METHODS = frozenset({"GET", "HEAD"})
MEDIA_TYPE_BYTES = MEDIA_TYPE.encode("latin-1")
# The catalog changes only on imports; responses carry the caller's key in page links.
CATALOG_CACHE = "private, max-age=60"
# A write that lost a race is retried this many times in all before giving up.
WRITE_ATTEMPTS = 4
# PostgreSQL's "try again" answers: serialization failure, deadlock detected.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


@dataclass(frozen=True)
class ApiRequest:
    """What a handler may know of the HTTP request."""

    method: str
    segments: tuple[str, ...]
    params: Sequence[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    url: str  # absolute URL of the request without its query string
    principal: Principal | None = None


Handler = Callable[[RequestContext, ApiRequest], Response | dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    """A route outside the generic resource handlers (availability, tokens, visits...)."""

    methods: frozenset[str]
    handler: Handler
    scope: str | None = "read"  # API key scope required; None: the handler authenticates
    max_segments: int = 2
    # Writes run with SQLite's write lock taken at BEGIN and are retried on WriteConflictError.
    writes: bool = False
    # Cache-Control of successful GETs; every GET also gets an ETag and honours If-None-Match.
    cache_control: str = "no-cache"
    # Methods per route shape, when they differ below one endpoint (e.g. /visits vs /visits/x).
    methods_for: Callable[[tuple[str, ...]], frozenset[str]] | None = None
    # Successful reads depend on catalog data only (never on bookings or the clock), so
    # their rendered documents may be served from the response cache.
    cacheable: bool = False
    # Successful reads depend on catalog data only and decide no booking: the handler may
    # read a caught-up streaming replica instead of the primary (db/replicas.py).
    replica_reads: bool = False
    # The endpoint's routes as data, for the OpenAPI document (jsonapi/operations.py).
    operations: tuple[Operation, ...] = ()

    def allowed(self, segments: tuple[str, ...]) -> frozenset[str]:
        return self.methods_for(segments) if self.methods_for else self.methods


@dataclass
class Api:
    settings: Settings
    sessions: sessionmaker[Session]
    registry: Registry
    clock: Callable[[], datetime]
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    memo: Memo = field(default_factory=Memo)
    directory: Directory = field(default_factory=Directory)
    rates: RateLimits | None = None
    replicas: Replicas | None = None

    def __post_init__(self) -> None:
        # Every declared resource is served by this one endpoint (list/show/related/linkage).
        self._generic_endpoint = Endpoint(
            READ_METHODS,
            self._generic,
            max_segments=4,
            cache_control=CATALOG_CACHE,
            cacheable=True,
            replica_reads=True,
        )
        self.documents = ResponseCache(self.settings.response_cache_bytes)

    async def handle(self, request: Request) -> Response:
        hostname = request.path_params["hostname"]
        endpoint, api_request, base = self.parse(
            request.scope, hostname, request.path_params.get("rest", "")
        )
        if api_request.method not in READ_METHODS:
            # Edge has bounded the body (64 KiB); its nesting is bounded before any parser.
            body = await request.body()
            if too_deep(body):
                raise ApiError([_too_deep()])
            api_request = replace(api_request, body=body)
        # Cached reads that need no database were answered by CachedReads; the threaded path
        # checks the cache again once it has read the tenant and the key.
        try:
            response = await run_in_threadpool(self._run, endpoint, hostname, base, api_request)
        except Exception as exc:
            refusal = unavailable_error(exc)
            if refusal is None:
                raise
            raise refusal from None
        return conditional(
            api_request.method, api_request.headers, response, endpoint.cache_control
        )

    def parse(self, scope: Scope, hostname: str, rest: str) -> tuple[Endpoint, ApiRequest, str]:
        """Route, method and negotiation checks (ApiError), then the request as handlers see
        it (without its body) and the base of its links."""
        method: str = scope["method"]
        segments = tuple(s for s in rest.split("/") if s)
        if "\x00" in hostname or any("\x00" in s for s in segments):
            raise not_found("No such route.")  # PostgreSQL text cannot hold NUL bytes
        endpoint = self._route(segments)
        allowed = endpoint.allowed(segments)
        if method not in allowed:
            raise _method_not_allowed(method, allowed)
        # ASGI header names are lower-case already; read them once (repeated names: last wins).
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        check_accept(headers.get("accept"))
        # As Starlette's request.query_params reads them.
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        _refuse_nul(params)
        origin = self._origin(scope, headers)
        path: str = scope["path"]
        api_request = ApiRequest(method, segments, params, headers, b"", origin + path.rstrip("/"))
        base = f"{origin}{'/api/v3' if path.startswith('/api/') else '/v3'}/{hostname}"
        return endpoint, api_request, base

    def cached(
        self, endpoint: Endpoint, hostname: str, base: str, req: ApiRequest
    ) -> tuple[CachedDocument, Principal] | None:
        """The cached document, if this request may have it without asking the database."""
        if not endpoint.cacheable or req.method not in READ_METHODS or not self.documents.max_bytes:
            return None
        tenant = self.directory.known_tenant(hostname)
        raw = api_key_of(req)
        if tenant is None or raw is None:
            return None
        principal = self.directory.known_principal(tenant, raw)
        if principal is None or principal.touch or endpoint.scope not in principal.scopes:
            return None  # the full path answers 401/403 or records the key's use
        hit = self.documents.get(cache_key(tenant, base, req.url, req.params))
        return None if hit is None else (hit, principal)

    def count(self, principal: Principal) -> RateState | None:
        """Count one request of the key against its rate limit (None: not limited)."""
        if self.rates is None:
            return None
        return self.rates.hit(principal.key_id, principal.rate_limit)

    def _route(self, segments: tuple[str, ...]) -> Endpoint:
        if not segments:
            raise not_found("No such route.")
        head = dasherize(segments[0])
        special = self.endpoints.get(head)
        if special is not None:
            if len(segments) > special.max_segments:
                raise not_found("No such route.")
            return special
        resource = self.registry.get(head)
        shapes_ok = len(segments) <= 3 or (len(segments) == 4 and segments[2] == "relationships")
        if resource is None or not shapes_ok:
            raise not_found("No such route.")
        return self._generic_endpoint

    def _generic(self, ctx: RequestContext, req: ApiRequest) -> dict[str, Any]:
        resource = self.registry[dasherize(req.segments[0])]
        seg = req.segments
        if len(seg) == 1:
            return list_resources(ctx, self.registry, resource, req.params, req.url)
        if len(seg) == 2:
            return show_resource(ctx, self.registry, resource, seg[1], req.params)
        if len(seg) == 3:
            return show_related(ctx, self.registry, resource, seg[1], seg[2], req.params, req.url)
        return show_relationship(ctx, self.registry, resource, seg[1], seg[3])

    def _run(self, endpoint: Endpoint, hostname: str, base: str, req: ApiRequest) -> Response:
        if not endpoint.writes:
            return self._attempt(endpoint, hostname, base, req)
        for _ in range(WRITE_ATTEMPTS - 1):
            try:
                with immediate_writes():
                    return self._attempt(endpoint, hostname, base, req)
            except WriteConflictError:
                log.info("write conflict; retrying")
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES:
                    raise
                log.info("serialization failure or deadlock; retrying")
        with immediate_writes():
            return self._attempt(endpoint, hostname, base, req)

    def _attempt(self, endpoint: Endpoint, hostname: str, base: str, req: ApiRequest) -> Response:
        """One transaction: the request owns it, committing on success only."""
        now = self.clock()
        # Read before any data: a change committed meanwhile must invalidate what we store.
        generation = changes.generation()
        with self.sessions() as session, session.begin():
            tenant = self.directory.tenant(session, hostname)
            if tenant is None:
                raise not_found(f"No site answers to the partner hostname '{hostname}'.")
            ctx = RequestContext(
                session, tenant, base, self.settings, now, self.memo, self.directory, generation
            )
            rate: RateState | None = None
            if endpoint.scope is not None:
                req = _with_principal(req, authorize(ctx, req, endpoint.scope))
                assert req.principal is not None
                rate = self.count(req.principal)
                if rate is not None and not rate.allowed:
                    raise rate.refusal()
            cacheable = endpoint.cacheable and req.method in READ_METHODS
            key = cache_key(tenant, base, req.url, req.params) if cacheable else None
            # Checked here too: when the tenant/key memo lapses (every second), concurrent
            # requests for a cached document must not all render it again.
            hit = self.documents.get(key) if key is not None else None
            result: Response | dict[str, Any]
            try:
                if hit is not None:
                    result = document_response_bytes(hit.body, ETag=hit.etag)
                elif endpoint.replica_reads and self.replicas is not None:
                    # Tenant and key came from the primary (or its memo); the handler reads a
                    # replica that has replayed the tenant's data versions, else the primary.
                    handler = endpoint.handler
                    result = self.replicas.run(
                        tenant.health_system_pks,
                        tenant.data_versions,
                        lambda replica: handler(replace(ctx, session=replica), req),
                        lambda: handler(ctx, req),
                    )
                else:
                    result = endpoint.handler(ctx, req)
            except ApiError as exc:
                if rate is not None:  # every answer to a counted request says where it stands
                    exc.headers.update(rate.headers())
                raise
        if req.principal is not None and req.principal.touch:
            self._touch(req.principal.key_pk, now)
            raw = api_key_of(req)
            if raw is not None:
                self.directory.touched(tenant, raw, req.principal)
        response = result if isinstance(result, Response) else document_response(result)
        if rate is not None:
            response.headers.update(rate.headers())
        if key is not None and hit is None and response.status_code == 200:
            body = bytes(response.body)
            response.headers["ETag"] = tag = etag_of(body)
            self.documents.put(key, body, tag, generation)
        return response

    def _touch(self, key_pk: int, now: datetime) -> None:
        """Best effort: a busy database must not fail the request that was already served."""
        try:
            with immediate_writes(), self.sessions() as session, session.begin():
                touch_key(session, key_pk, now)
        except OperationalError:
            log.info("could not record the key's last use; will retry on a later request")

    def _origin(self, scope: Scope, headers: dict[str, str]) -> str:
        scheme: str = scope["scheme"]
        host = headers.get("host")
        if host is None:
            server = scope.get("server")
            host = f"{server[0]}:{server[1]}" if server else "localhost"
        if self.settings.trust_proxy:
            scheme = headers.get("x-forwarded-proto", scheme).split(",")[0].strip()
            host = headers.get("x-forwarded-host", host).split(",")[0].strip()
        return f"{scheme}://{host}"


def _too_deep() -> ErrorObject:
    return ErrorObject(
        400,
        "too-deep",
        "Invalid request body",
        f"JSON may nest arrays and objects at most {MAX_DEPTH} levels deep.",
        pointer="",
    )


def checking_parameters(
    endpoint: Endpoint, known: frozenset[str], families: frozenset[str] = frozenset()
) -> Endpoint:
    """``endpoint`` refusing query parameters it does not take (400 naming each)."""
    inner = endpoint.handler

    def handle(ctx: RequestContext, req: ApiRequest) -> Response | dict[str, Any]:
        errors = unknown_parameters(req.params, known, families)
        if errors:
            raise ApiError(errors)
        return inner(ctx, req)

    return replace(endpoint, handler=handle)


def _method_not_allowed(method: str, allowed: frozenset[str]) -> ApiError:
    allow = ", ".join(sorted(allowed))
    return ApiError(
        [
            ErrorObject(
                405,
                "method-not-allowed",
                "Method not allowed",
                f"{method} is not allowed here; allowed: {allow}."
                if allow
                else f"{method} is not allowed here: this resource cannot be "
                "read or changed through the API.",
            )
        ],
        headers={"Allow": allow},
    )


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


def _refuse_nul(params: Sequence[tuple[str, str]]) -> None:
    # api_key is only hashed, never sent to the database: a NUL there is just a wrong key (401).
    bad = [k for k, v in params if k != "api_key" and ("\x00" in k or "\x00" in v)]
    if bad:
        raise ApiError(
            [bad_parameter(key, "Query parameters may not contain NUL characters.") for key in bad]
        )


def _with_principal(req: ApiRequest, principal: Principal) -> ApiRequest:
    return ApiRequest(
        req.method, req.segments, req.params, req.headers, req.body, req.url, principal
    )


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


def conditional(
    method: str, headers: dict[str, str], response: Response, cache_control: str
) -> Response:
    """ETag on successful GETs, 304 when the client already has this representation."""
    if method not in READ_METHODS or response.status_code != 200:
        response.headers.setdefault("Cache-Control", "no-store")
        return response
    tag = response.headers.get("etag") or etag_of(bytes(response.body))
    control = response.headers.get("cache-control") or cache_control
    if not_modified(tag, headers.get("if-none-match")):
        kept = {k: v for k, v in response.headers.items() if k.startswith("ratelimit-")}
        return Response(status_code=304, headers={"ETag": tag, "Cache-Control": control, **kept})
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = control
    return response


def not_modified(tag: str, if_none_match: str | None) -> bool:
    """The client's If-None-Match names this representation (weak tags compare equal)."""
    if not if_none_match:
        return False
    wanted = if_none_match.strip()
    return wanted == "*" or tag in {t.strip().removeprefix("W/") for t in wanted.split(",")}


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def document_response(doc: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return document_response_bytes(orjson.dumps(doc), status, **headers)


def document_response_bytes(body: bytes, status: int = 200, **headers: str) -> Response:
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def error_response(exc: ApiError) -> Response:
    return document_response(
        exc.render(), exc.status, **{"Cache-Control": "no-store"}, **exc.headers
    )


def internal_error_response() -> Response:
    """A 500 that leaks nothing but an id to find the traceback in the server log."""
    error_id = uuid.uuid4().hex
    log.exception("unhandled error", extra={"error_id": error_id})
    err = ErrorObject(
        500,
        "internal-error",
        "Internal server error",
        f"Something went wrong on our side. Quote error id {error_id} to support.",
        meta={"error-id": error_id},
    )
    return document_response({"errors": [err.render()]}, 500)


# The API routes of create_app: /api/v3/{hostname}[/{rest}] and /v3/{hostname}[/{rest}].
API_PATH = re.compile(r"/(?:api/)?v3/([^/]+)(?:/(.*))?")


class CachedReads:
    """Answers a cached catalog read before Starlette's routing, request and response objects.

    Innermost of the middleware, so request ids, the access log and CORS apply as to any
    response; the checks and the answer are ``Api``'s own (``parse``, ``cached``,
    ``not_modified``), so the bytes and headers are those of the full path. Anything else,
    including every request the checks refuse, goes on to the app.
    """

    def __init__(self, app: ASGIApp, api: Api) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._lookup(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        hit, req, control, principal = found
        rates = self.api.rates
        rate: RateState | None = None
        if rates is not None:
            # In process, counting costs microseconds; a shared store is a network round
            # trip, which must not stall the event loop.
            rate = (
                self.api.count(principal)
                if rates.in_process
                else await anyio.to_thread.run_sync(self.api.count, principal)
            )
        if rate is not None and not rate.allowed:
            await error_response(rate.refusal())(scope, receive, send)
            return
        await _send_cached(send, hit, req, control, rate)

    def _lookup(self, scope: Scope) -> tuple[CachedDocument, ApiRequest, str, Principal] | None:
        """(document, request, Cache-Control, key) of a cached read this request may have."""
        match = API_PATH.fullmatch(scope["path"])
        if scope["method"] not in READ_METHODS or match is None:
            return None
        try:
            endpoint, req, base = self.api.parse(scope, match[1], match[2] or "")
        except ApiError:
            return None  # refused: the app renders the error
        found = self.api.cached(endpoint, match[1], base, req)
        return None if found is None else (found[0], req, endpoint.cache_control, found[1])


async def _send_cached(
    send: Send, hit: CachedDocument, req: ApiRequest, control: str, rate: RateState | None
) -> None:
    tag = hit.etag.encode("latin-1")
    if not_modified(hit.etag, req.headers.get("if-none-match")):
        status, body = 304, b""
        headers = [(b"etag", tag), (b"cache-control", control.encode("latin-1"))]
    else:
        status, body = 200, hit.body
        headers = [
            (b"etag", tag),
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", MEDIA_TYPE_BYTES),
            (b"cache-control", control.encode("latin-1")),
        ]
    if rate is not None:
        headers.extend(
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in rate.headers().items()
        )
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
