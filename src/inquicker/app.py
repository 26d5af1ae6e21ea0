"""create_app(settings): the one place routes and middleware are assembled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import anyio
import anyio.to_thread
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import Receive, Scope, Send

from inquicker.api_docs import docs_routes
from inquicker.availability.routes import ROUTES as AVAILABILITY_ROUTES
from inquicker.booking.routes import booking_routes
from inquicker.catalog.registry import build_registry
from inquicker.console.routes import console_routes
from inquicker.db.base import utcnow
from inquicker.db.engine import make_engine, make_sessionmaker
from inquicker.db.migrate import schema_head
from inquicker.db.replicas import Replicas
from inquicker.fhir.routes import PREFIX as FHIR_PREFIX
from inquicker.fhir.routes import FhirApi
from inquicker.jsonapi.errors import ApiError, ErrorObject
from inquicker.jsonapi.resource import Registry
from inquicker.jsonapi.resource_routes import resource_routes
from inquicker.jsonapi.routing import RouteTable
from inquicker.logs import RequestMiddleware, configure_logging
from inquicker.malloc import tune_for_threads
from inquicker.operators.api import OperatorApi
from inquicker.settings import Settings, get_settings
from inquicker.web.edge import Edge
from inquicker.web.fast_path import CachedReads
from inquicker.web.maintenance import MaintenanceGate, MaintenanceSwitch
from inquicker.web.pipeline import Api, ApiRoutes
from inquicker.web.ratelimit import RateLimits
from inquicker.web.responses import error_response, internal_error_response

# /readyz reads the database in a thread of its own pool, so busy request threads cannot
# delay it, and gives up after READY_SECONDS.
READY_SECONDS = 2.0
_ready_threads = anyio.CapacityLimiter(2)


class AnyMethod:
    """An ASGI endpoint taking every method: Starlette routes a class instance whatever the
    method, where it limits a function endpoint to GET."""

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = request_response(handler)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def api_routes(registry: Registry, max_page_size: int) -> ApiRoutes:
    """The route table of /api/v3/{partner_hostname}: each domain's routes, then the routes
    generated for every declared resource."""
    return RouteTable(
        [
            *booking_routes(registry),
            *AVAILABILITY_ROUTES,
            *resource_routes(registry, max_page_size),
        ]
    )


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utcnow,
    replicas: Replicas | None = None,
) -> Starlette:
    """Assemble the API for ``settings`` (or the environment's)."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url, settings.db_timeouts())
    replicas = replicas or Replicas.from_urls(settings.replica_urls(), settings.db_timeouts())
    registry = build_registry()
    api = Api(
        settings=settings,
        sessions=make_sessionmaker(engine),
        registry=registry,
        routes=api_routes(registry, settings.page_size_max),
        clock=clock,
        rates=RateLimits(settings.rate_limit or None, settings.rate_limit_storage),
        replicas=replicas,
    )
    maintenance = MaintenanceSwitch(engine)

    # Async, and never the database: it answers at once whatever the request threads do.
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", "maintenance": maintenance.known.on})

    head = schema_head()

    def read_version() -> object:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    async def readyz(_: Request) -> Response:
        try:
            with anyio.fail_after(READY_SECONDS):
                version = await anyio.to_thread.run_sync(read_version, limiter=_ready_threads)
        except Exception:  # any database failure or a slow answer means "not ready"
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        if version != head:
            return JSONResponse(
                {
                    "status": "unavailable",
                    "database": "schema is not at the latest version (run `inquicker migrate`)",
                    "schema": version,
                    "expected": head,
                },
                503,
            )
        state = await maintenance.current()
        if state.on:
            return JSONResponse(
                {"status": "maintenance", "database": "ok", "schema": version},
                503,
                headers={"Retry-After": str(state.retry_after)},
            )
        return JSONResponse({"status": "ok", "database": "ok", "schema": version})

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
        # Before the API's /{hostname} routes, which would take "openapi.json" for a site.
        *docs_routes(registry, api.routes),
    ]
    # Every method name reaches the handlers, which answer 405 with Allow (Starlette gives a
    # plain function endpoint GET only, and answers other methods itself).
    operator_api = AnyMethod(OperatorApi(settings, make_sessionmaker(engine), clock).handle)
    routes.append(Route("/admin/api", operator_api))
    routes.append(Route("/admin/api/{rest:path}", operator_api))
    routes.extend(console_routes(settings, make_sessionmaker(engine), clock))
    every_method = AnyMethod(api.handle)
    for prefix in ("/api/v3", "/v3"):
        routes.append(Route(prefix + "/{hostname}/{rest:path}", every_method))
        routes.append(Route(prefix + "/{hostname}", every_method))
    fhir = AnyMethod(FhirApi(api).handle)
    routes.append(Route(FHIR_PREFIX + "/{hostname}/{rest:path}", fhir))
    routes.append(Route(FHIR_PREFIX + "/{hostname}", fhir))

    async def on_api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc)

    async def on_http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code, title = {
            404: ("not-found", "Not found"),
            405: ("method-not-allowed", "Method not allowed"),
        }.get(exc.status_code, ("http-error", "HTTP error"))
        headers = dict(exc.headers or {})
        if "Allow" in headers:  # Starlette lists a set: keep the order stable, as Api does
            headers["Allow"] = ", ".join(sorted(m.strip() for m in headers["Allow"].split(",")))
        return error_response(
            ApiError([ErrorObject(exc.status_code, code, title, str(exc.detail))], headers=headers)
        )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield
        if replicas is not None:
            replicas.dispose()

    app = Starlette(
        lifespan=lifespan,
        routes=routes,
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "HEAD", "POST", "PATCH"],
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "Accept",
                    "X-Api-Key",
                    "Idempotency-Key",
                ],
                expose_headers=[
                    "Location",
                    "X-Request-Id",
                    "ETag",
                    "Retry-After",
                    "RateLimit-Limit",
                    "RateLimit-Remaining",
                    "RateLimit-Reset",
                ],
            ),
            # Inside CORS, so that a 500 carries the CORS headers a browser needs to read it.
            Middleware(RequestMiddleware, respond=internal_error_response, log=settings.access_log),
            # Size limits and WebSocket refusals, before anything reads the request.
            Middleware(Edge),
            Middleware(MaintenanceGate, switch=maintenance),
            # Innermost: a cached catalog read is answered before Starlette's routing.
            Middleware(CachedReads, api=api),
        ],
        exception_handlers={
            ApiError: on_api_error,
            HTTPException: on_http_error,
        },
    )
    app.state.api = api
    app.state.engine = engine
    app.state.replicas = replicas
    app.state.maintenance = maintenance
    return app


def app_from_env() -> Starlette:
    """Factory for uvicorn (--factory): settings and logging from the environment."""
    settings = get_settings()
    configure_logging(settings.log_level)
    tune_for_threads()
    return create_app(settings)
