"""The FHIR face's route table and dispatcher: /fhir/r4/{partner_hostname}/...

It reuses the API's request pipeline (tenant, key and scope, one transaction, write
retries, ETag/304) through ``Api.run``, and renders every refusal, wherever it was raised,
as an OperationOutcome. FHIR's paths are its own (a pattern per route, below), outside the
JSON:API route table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from inquicker.fhir import appointments, book, bulk, reads
from inquicker.fhir.capability import capability_statement
from inquicker.fhir.outcome import fhir_error, fhir_response, outcome_response
from inquicker.jsonapi.errors import ApiError
from inquicker.jsonapi.routing import Route as ApiRoute
from inquicker.web.context import RequestContext
from inquicker.web.pipeline import Api
from inquicker.web.request import ApiRequest
from inquicker.web.responses import conditional

PREFIX = "/fhir/r4"
READABLE = tuple(reads.SEARCH_PARAMS)
Handler = Callable[[RequestContext, ApiRequest], Any]


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    handler: Handler
    scope: str | None
    writes: bool = False


GET = frozenset({"GET", "HEAD"})
GET_POST = frozenset({"GET", "HEAD", "POST"})
POST = frozenset({"POST"})


def route(path: tuple[str, ...]) -> tuple[Route, dict[str, str]]:
    """The route of a path below the base and its path parameters; 404 (OperationOutcome)
    for anything else."""
    match path:
        case ("metadata",):
            return Route(GET, capability_statement, None), {}
        case ("$bulk-publish",):
            return Route(GET, bulk.manifest, None), {}
        case ("$bulk-publish", name):
            return Route(GET, bulk.ndjson_file, None), {"file": name}
        case ("Appointment", "$find"):
            return Route(GET_POST, appointments.find, "read"), {}
        case ("Appointment", "$hold"):
            return Route(POST, appointments.hold, "book", writes=True), {}
        case ("Appointment", "$book"):
            return Route(POST, book.book, "book", writes=True), {}
        case ("Appointment", ident):
            return Route(GET, appointments.read_appointment, None), {"id": ident}
        case (kind,) if kind in READABLE:
            return Route(GET, reads.search, "read"), {"type": kind}
        case (kind, ident) if kind in READABLE:
            return Route(GET, reads.read, "read"), {"type": kind, "id": ident}
    raise fhir_error(404, "No such FHIR route on this server (see metadata).", "not-found")


def _rendered(handler: Handler) -> Callable[[RequestContext, ApiRequest], Response]:
    def run(ctx: RequestContext, req: ApiRequest) -> Response:
        result = handler(ctx, req)
        return result if isinstance(result, Response) else fhir_response(result)

    return run


class FhirApi:
    def __init__(self, api: Api) -> None:
        self.api = api

    async def handle(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except ApiError as exc:
            return outcome_response(exc)

    async def _handle(self, request: Request) -> Response:
        hostname: str = request.path_params["hostname"]
        rest: str = request.path_params.get("rest", "")
        path = tuple(s for s in rest.split("/") if s)
        if "\x00" in hostname or "\x00" in rest:
            raise fhir_error(404, "No such route.", "not-found")
        found, path_params = route(path)
        method = request.method
        if method not in found.methods:
            allow = ", ".join(sorted(found.methods))
            exc = fhir_error(405, f"{method} is not allowed here; allowed: {allow}.", "method")
            exc.headers["Allow"] = allow
            raise exc
        scope = request.scope
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if any("\x00" in k or "\x00" in v for k, v in params):
            raise fhir_error(400, "Query parameters may not contain NUL characters.", "invalid")
        body = await request.body() if method == "POST" else b""
        origin = self.api.origin(scope, headers)  # honours X-Forwarded-* as the API does
        base = f"{origin}{PREFIX}/{hostname}"
        url = base + ("/" + "/".join(path) if path else "")
        req = ApiRequest(method, path_params, params, headers, body, url)
        pipeline_route = ApiRoute(
            PREFIX + "/" + "/".join(path),
            found.methods,
            _rendered(found.handler),
            scope=found.scope,
            writes=found.writes,
        )
        # The JSON:API face's pipeline: tenant (404), key and scope (401/403), the request's
        # transaction, write retries.
        response = await run_in_threadpool(self.api.run, pipeline_route, hostname, base, req)
        return conditional(method, headers, response, "no-cache")
