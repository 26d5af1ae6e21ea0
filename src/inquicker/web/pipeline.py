"""The request pipeline: one Starlette endpoint serving every /api/v3/{hostname}/... route.

``parse`` matches the path against the route table (404, then 405 with ``Allow``), checks
negotiation and reads the request once; ``run`` resolves the tenant and the key, opens the
request's transaction (retried when a write loses a race), runs the route's handler in the
threadpool and renders documents; ``handle`` adds conditional GETs. The cached-read fast
path (``web.fast_path``) uses the same ``parse`` and hands its result on in the ASGI scope,
so a request that misses the cache is not parsed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from inquicker.availability.kept_times import KeptTimes
from inquicker.db.engine import WriteConflictError, immediate_writes
from inquicker.db.replicas import Replicas
from inquicker.jsonapi.errors import ApiError, ErrorObject, bad_parameter, not_found
from inquicker.jsonapi.jsondepth import MAX_DEPTH, too_deep
from inquicker.jsonapi.negotiation import check_accept
from inquicker.jsonapi.resource import Registry
from inquicker.jsonapi.routing import READ_METHODS, Route, RouteTable
from inquicker.memo import Memo, NeedsDatabase, memory_only
from inquicker.settings import Settings
from inquicker.tenancy import changes
from inquicker.tenancy.directory import Directory
from inquicker.tenancy.resolve import Principal, Tenant, touch_key
from inquicker.web.context import NO_DATABASE, RequestContext
from inquicker.web.database import unavailable_error
from inquicker.web.ratelimit import RateLimits, RateState
from inquicker.web.request import ApiRequest, Handler, api_key_of, authorize
from inquicker.web.response_cache import CachedDocument, CacheKey, ResponseCache, cache_key
from inquicker.web.responses import (
    conditional,
    document_response_bytes,
    document_tag,
    etag_of,
)

log = logging.getLogger("inquicker.api")

ApiRoute = Route[Handler]
ApiRoutes = RouteTable[Handler]

# A write that lost a race is retried this many times in all before giving up.
WRITE_ATTEMPTS = 4
# PostgreSQL's "try again" answers: serialization failure, deadlock detected.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
# Where the fast path leaves a request it parsed but could not answer (or the refusal the
# parse raised), for ``Api.handle``.
PARSED = "inquicker.parsed"


@dataclass(frozen=True, slots=True)
class Parsed:
    """A request routed and read (without its body), with the base of its links."""

    route: ApiRoute
    request: ApiRequest
    hostname: str
    base: str


@dataclass
class Api:
    settings: Settings
    sessions: sessionmaker[Session]
    registry: Registry
    routes: ApiRoutes
    clock: Callable[[], datetime]
    memo: Memo = field(default_factory=Memo)
    directory: Directory = field(default_factory=Directory)
    rates: RateLimits | None = None
    replicas: Replicas | None = None

    def __post_init__(self) -> None:
        self.documents = ResponseCache(self.settings.response_cache_bytes)
        self.kept_times = KeptTimes(self.settings.availability_cache_bytes)

    async def handle(self, request: Request) -> Response:
        parsed: Parsed | ApiError | None = request.scope.get(PARSED)
        if isinstance(parsed, ApiError):
            raise parsed
        if parsed is None:
            parsed = self.parse(
                request.scope, request.path_params["hostname"], request.path_params.get("rest", "")
            )
        api_request = parsed.request
        if api_request.method not in READ_METHODS:
            # Edge has bounded the body (64 KiB); its nesting is bounded before any parser.
            body = await request.body()
            if too_deep(body):
                raise ApiError([_too_deep()])
            api_request = replace(api_request, body=body)
        # Cached reads that need no database were answered by the fast path; the threaded
        # path checks the cache again once it has read the tenant and the key.
        try:
            response = await run_in_threadpool(
                self.run, parsed.route, parsed.hostname, parsed.base, api_request
            )
        except Exception as exc:
            refusal = unavailable_error(exc)
            if refusal is None:
                raise
            raise refusal from None
        return conditional(
            api_request.method, api_request.headers, response, parsed.route.cache_control
        )

    def parse(self, scope: Scope, hostname: str, rest: str) -> Parsed:
        """Route, method and negotiation checks (ApiError), then the request as handlers see
        it (without its body) and the base of its links."""
        method: str = scope["method"]
        path = tuple(s for s in rest.split("/") if s)
        if "\x00" in hostname or "\x00" in rest:
            raise not_found("No such route.")  # PostgreSQL text cannot hold NUL bytes
        match = self.routes.match(path)
        if match is None:
            raise not_found("No such route.")
        route = match.by_method.get(method)
        if route is None:
            raise _method_not_allowed(method, match.allowed)
        # ASGI header names are lower-case already; read them once (repeated names: last wins).
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        check_accept(headers.get("accept"))
        # As Starlette's request.query_params reads them.
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        _refuse_nul(params)
        origin = self.origin(scope, headers)
        url_path: str = scope["path"]
        request = ApiRequest(
            method, match.params, params, headers, b"", origin + url_path.rstrip("/")
        )
        base = f"{origin}{'/api/v3' if url_path.startswith('/api/') else '/v3'}/{hostname}"
        return Parsed(route, request, hostname, base)

    def cached(self, parsed: Parsed) -> tuple[CachedDocument, Principal] | None:
        """The document of a catalog read this request may have without asking the
        database: the response cache's, else one its handler builds from memory alone
        (``answer_from_memory``). None sends the request down the threaded path."""
        route, req = parsed.route, parsed.request
        if not route.cacheable or req.method not in READ_METHODS:
            return None
        tenant = self.directory.known_tenant(parsed.hostname)
        raw = api_key_of(req)
        if tenant is None or raw is None:
            return None
        principal = self.directory.known_principal(tenant, raw)
        if principal is None or principal.touch or route.scope not in principal.scopes:
            return None  # the full path answers 401/403 or records the key's use
        key = cache_key(tenant, parsed.base, req.url, req.params)
        hit = self.documents.get(key) or self.answer_from_memory(
            route, tenant, parsed.base, req.with_principal(principal), key
        )
        return None if hit is None else (hit, principal)

    def answer_from_memory(
        self, route: ApiRoute, tenant: Tenant, base: str, req: ApiRequest, key: CacheKey
    ) -> CachedDocument | None:
        """The route's handler run without a database (on the event loop: no thread, no
        session), for a cacheable read of a tenant and key known to the directory: the warm
        catalog requests that replay recorded pages and kept objects (jsonapi.fragments).
        Anything that would read the database (the session, or a memo value being built)
        raises ``NeedsDatabase`` and the request takes the threaded path, as does any
        refusal (which that path renders). The document is cached as that path would."""
        generation = changes.generation()  # before any data, as in _attempt
        ctx = RequestContext(
            NO_DATABASE,
            tenant,
            base,
            self.settings,
            self.clock(),
            self.memo,
            self.directory,
            generation,
            self.kept_times,
        )
        try:
            with memory_only():
                result = route.handler(ctx, req)
        except (NeedsDatabase, ApiError):
            return None
        if isinstance(result, Response):  # not a document: the threaded path sends those
            return None
        body = orjson.dumps(result)
        return self.documents.put(key, body, document_tag(result, body), generation)

    def count(self, principal: Principal) -> RateState | None:
        """Count one request of the key against its rate limit (None: not limited)."""
        if self.rates is None:
            return None
        return self.rates.hit(principal.key_id, principal.rate_limit)

    def run(self, route: ApiRoute, hostname: str, base: str, req: ApiRequest) -> Response:
        """The route's handler in the request's transaction (blocking: call it in a thread).
        Shared by the FHIR face, so both faces are one pipeline."""
        if not route.writes:
            return self._attempt(route, hostname, base, req)
        for _ in range(WRITE_ATTEMPTS - 1):
            try:
                with immediate_writes():
                    return self._attempt(route, hostname, base, req)
            except WriteConflictError:
                log.info("write conflict; retrying")
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES:
                    raise
                log.info("serialization failure or deadlock; retrying")
        with immediate_writes():
            return self._attempt(route, hostname, base, req)

    def _attempt(self, route: ApiRoute, hostname: str, base: str, req: ApiRequest) -> Response:
        """One transaction: the request owns it, committing on success only."""
        now = self.clock()
        # Read before any data: a change committed meanwhile must invalidate what we store.
        generation = changes.generation()
        with self.sessions() as session, session.begin():
            tenant = self.directory.tenant(session, hostname)
            if tenant is None:
                raise not_found(f"No site answers to the partner hostname '{hostname}'.")
            ctx = RequestContext(
                session,
                tenant,
                base,
                self.settings,
                now,
                self.memo,
                self.directory,
                generation,
                self.kept_times,
            )
            rate: RateState | None = None
            if route.scope is not None:
                req = req.with_principal(authorize(ctx, req, route.scope))
                assert req.principal is not None
                rate = self.count(req.principal)
                if rate is not None and not rate.allowed:
                    raise rate.refusal()
            cacheable = route.cacheable and req.method in READ_METHODS
            key = cache_key(tenant, base, req.url, req.params) if cacheable else None
            # Checked here too: when the tenant/key memo lapses (every second), concurrent
            # requests for a cached document must not all render it again.
            hit = self.documents.get(key) if key is not None else None
            result: Response | dict[str, Any]
            try:
                if hit is not None:
                    result = document_response_bytes(hit.body, ETag=hit.etag)
                elif route.replica_reads and self.replicas is not None:
                    # Tenant and key came from the primary (or its memo); the handler reads a
                    # replica that has replayed the tenant's data versions, else the primary.
                    handler = route.handler
                    result = self.replicas.run(
                        tenant.health_system_pks,
                        tenant.data_versions,
                        lambda replica: handler(replace(ctx, session=replica), req),
                        lambda: handler(ctx, req),
                    )
                else:
                    result = route.handler(ctx, req)
            except ApiError as exc:
                if rate is not None:  # every answer to a counted request says where it stands
                    exc.headers.update(rate.headers())
                raise
        if req.principal is not None and req.principal.touch:
            self._touch(req.principal.key_pk, now)
            raw = api_key_of(req)
            if raw is not None:
                self.directory.touched(tenant, raw, req.principal)
        if isinstance(result, Response):
            response = result
        else:
            body = orjson.dumps(result)
            if req.method in READ_METHODS:  # the ETag of every successful GET (conditional)
                response = document_response_bytes(body, ETag=document_tag(result, body))
            else:
                response = document_response_bytes(body)
        if rate is not None:
            response.headers.update(rate.headers())
        if key is not None and hit is None and response.status_code == 200:
            body = bytes(response.body)
            tag = response.headers.get("etag")
            if tag is None:
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

    def origin(self, scope: Scope, headers: dict[str, str]) -> str:
        """scheme://host of the request's links (X-Forwarded-* when the proxy is trusted)."""
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


def _method_not_allowed(method: str, allowed: frozenset[str]) -> ApiError:
    allow = ", ".join(sorted(allowed))
    return ApiError(
        [
            ErrorObject(
                405,
                "method-not-allowed",
                "Method not allowed",
                f"{method} is not allowed here; allowed: {allow}.",
            )
        ],
        headers={"Allow": allow},
    )


def _refuse_nul(params: Sequence[tuple[str, str]]) -> None:
    # api_key is only hashed, never sent to the database: a NUL there is just a wrong key (401).
    bad = [k for k, v in params if k != "api_key" and ("\x00" in k or "\x00" in v)]
    if bad:
        raise ApiError(
            [bad_parameter(key, "Query parameters may not contain NUL characters.") for key in bad]
        )
