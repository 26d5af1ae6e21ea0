"""create_app(settings): the one place routes and middleware are assembled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import anyio.to_thread
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from inquicker.api_docs import docs_routes
from inquicker.availability import endpoint as availability_endpoint
from inquicker.booking import visit_settings_endpoint, visit_token_endpoint, visits_endpoint
from inquicker.catalog.registry import build_registry
from inquicker.console.routes import console_routes
from inquicker.db.base import utcnow
from inquicker.db.engine import make_engine, make_sessionmaker
from inquicker.db.migrate import schema_head
from inquicker.fhir.routes import PREFIX as FHIR_PREFIX
from inquicker.fhir.routes import FhirApi
from inquicker.jsonapi.errors import ApiError, ErrorObject
from inquicker.jsonapi.operations import Operation
from inquicker.jsonapi.routes import Api, CachedReads, error_response, internal_error_response
from inquicker.logs import RequestMiddleware, configure_logging
from inquicker.malloc import tune_for_threads
from inquicker.operators.api import OperatorApi
from inquicker.settings import Settings, get_settings

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Starlette:
    """Assemble the API for ``settings`` (or the environment's)."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    registry = build_registry()
    api = Api(
        settings=settings,
        sessions=make_sessionmaker(engine),
        registry=registry,
        clock=clock,
        endpoints={
            "visit-settings": visit_settings_endpoint.ENDPOINT,
            "available-appointment-times": availability_endpoint.ENDPOINT,
            "visit-token": visit_token_endpoint.ENDPOINT,
            "visits": visits_endpoint.make_endpoint(registry),
        },
    )

    def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    head = schema_head()

    def readyz(_: Request) -> Response:
        try:
            with engine.connect() as conn:
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # any database failure means "not ready", never a crash
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
        return JSONResponse({"status": "ok", "database": "ok", "schema": version})

    def operations() -> list[Operation]:
        # Read when the document is first asked for: every endpoint's routes.
        return [op for endpoint in api.endpoints.values() for op in endpoint.operations]

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
        # Before the API's /{hostname} routes, which would take "openapi.json" for a site.
        *docs_routes(registry, operations, settings.page_size_max),
    ]
    operator_api = OperatorApi(settings, make_sessionmaker(engine), clock)
    routes.append(Route("/admin/api", operator_api.handle, methods=ALL_METHODS))
    routes.append(Route("/admin/api/{rest:path}", operator_api.handle, methods=ALL_METHODS))
    routes.extend(console_routes(settings, make_sessionmaker(engine), clock))
    for prefix in ("/api/v3", "/v3"):
        routes.append(Route(prefix + "/{hostname}/{rest:path}", api.handle, methods=ALL_METHODS))
        routes.append(Route(prefix + "/{hostname}", api.handle, methods=ALL_METHODS))
    fhir = FhirApi(api)
    routes.append(Route(FHIR_PREFIX + "/{hostname}/{rest:path}", fhir.handle, methods=ALL_METHODS))
    routes.append(Route(FHIR_PREFIX + "/{hostname}", fhir.handle, methods=ALL_METHODS))

    async def on_api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc)

    async def on_http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        title = "Not found" if exc.status_code == 404 else "HTTP error"
        code = "not-found" if exc.status_code == 404 else "http-error"
        return error_response(
            ApiError([ErrorObject(exc.status_code, code, title, str(exc.detail))])
        )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield

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
                expose_headers=["Location", "X-Request-Id", "ETag"],
            ),
            # Inside CORS, so that a 500 carries the CORS headers a browser needs to read it.
            Middleware(RequestMiddleware, respond=internal_error_response, log=settings.access_log),
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
    return app


def app_from_env() -> Starlette:
    """Factory for uvicorn (--factory): settings and logging from the environment."""
    settings = get_settings()
    configure_logging(settings.log_level)
    tune_for_threads()
    return create_app(settings)
