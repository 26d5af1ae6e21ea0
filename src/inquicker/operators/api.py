"""The operator JSON API under /admin/api/ (SPEC sections 11 and 12): a declared route table,
Bearer operator tokens, role checks, and JSON:API documents and errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from inquicker.booking.errors import BookingError
from inquicker.db.base import utcnow
from inquicker.db.engine import WriteConflictError, immediate_writes
from inquicker.events.sequencer import assign_positions
from inquicker.jsonapi.errors import ApiError, ErrorObject
from inquicker.jsonapi.negotiation import check_accept
from inquicker.memo import Memo
from inquicker.operators import roles
from inquicker.operators.api_handlers import (
    OperatorRequest,
    events_feed,
    visit_show,
    visit_update,
    visits_list,
)
from inquicker.operators.auth import by_token
from inquicker.operators.schedules_api import (
    change_preview,
    change_save,
    schedule_show,
    schedules_list,
)
from inquicker.operators.visits import Caller
from inquicker.settings import Settings
from inquicker.web.domain_errors import to_api_error
from inquicker.web.responses import document_response, error_response

log = logging.getLogger("inquicker.operators")
PREFIX = "/admin/api"

Handler = Callable[[Session, Caller, OperatorRequest], dict[str, Any]]


@dataclass(frozen=True)
class OperatorRoute:
    """One method on one path shape, with the permission it needs."""

    method: str
    pattern: str  # below /admin/api/, e.g. "visits/{id}"
    permission: str
    handler: Handler
    # Run the event sequencer in its own short transaction first (the feed reads positions).
    sequence_first: bool = False

    @cached_property  # matched on every request: compiled once (2% of a list's CPU)
    def regex(self) -> re.Pattern[str]:
        return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern))


# The route table: tests iterate it to try every route with every role.
ROUTES: tuple[OperatorRoute, ...] = (
    OperatorRoute("GET", "visits", roles.READ_VISITS, visits_list),
    OperatorRoute("GET", "visits/{id}", roles.READ_VISITS, visit_show),
    OperatorRoute("PATCH", "visits/{id}", roles.CHANGE_VISITS, visit_update),
    OperatorRoute("GET", "events", roles.READ_EVENTS, events_feed, sequence_first=True),
    OperatorRoute("GET", "schedules", roles.MANAGE_SCHEDULES, schedules_list),
    OperatorRoute("GET", "schedules/{id}", roles.MANAGE_SCHEDULES, schedule_show),
    OperatorRoute("POST", "schedules/{id}/changes/preview", roles.MANAGE_SCHEDULES, change_preview),
    OperatorRoute("POST", "schedules/{id}/changes", roles.MANAGE_SCHEDULES, change_save),
)
_UNAUTHORIZED = ErrorObject(
    401,
    "unauthorized",
    "Unauthorized",
    "Send a live operator API token as 'Authorization: Bearer <token>' "
    "(`inquicker operators token EMAIL`).",
    header="Authorization",
)


def _match(rest: str, method: str) -> tuple[OperatorRoute, dict[str, str]]:
    shapes = [(r, m) for r in ROUTES if (m := r.regex.fullmatch(rest)) is not None]
    if not shapes:
        raise ApiError([ErrorObject(404, "not-found", "Not found", "No such route.")])
    for route, found in shapes:
        if route.method == method or (method == "HEAD" and route.method == "GET"):
            return route, found.groupdict()
    methods = {r.method for r, _ in shapes}
    allow = ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))
    raise ApiError(
        [ErrorObject(405, "method-not-allowed", "Method not allowed", f"Allowed: {allow}.")],
        headers={"Allow": allow},
    )


def client_address(request: Request, settings: Settings) -> str | None:
    if settings.trust_proxy:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.client.host if request.client else None


@dataclass
class OperatorApi:
    settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = utcnow
    # Catalog-derived values the operator API reads often (schedule time zones), keyed by
    # the health systems' data versions: one per app, so two apps never share one.
    memo: Memo = field(default_factory=Memo)

    async def handle(self, request: Request) -> Response:
        try:
            rest = request.path_params.get("rest", "").strip("/")
            route, path_params = _match(rest, request.method)
            check_accept(request.headers.get("accept"))
            body = await request.body() if request.method in ("PATCH", "POST") else b""
            origin = f"{request.url.scheme}://{request.url.netloc}"
            req = OperatorRequest(
                path_params,
                parse_qsl(request.url.query, keep_blank_values=True),
                dict(request.headers),
                body,
                origin + PREFIX,
                origin + request.url.path.rstrip("/"),
            )
            client = client_address(request, self.settings)
            doc = await run_in_threadpool(self._run, route, req, client)
        except ApiError as exc:
            return error_response(exc)
        response = document_response(doc)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _run(
        self, route: OperatorRoute, req: OperatorRequest, client: str | None
    ) -> dict[str, Any]:
        try:
            if route.sequence_first:
                # Committed before the read: positions exist only for committed events, in
                # commit order, so a cursor on them never skips nor repeats one.
                with immediate_writes(), self.sessions() as session, session.begin():
                    assign_positions(session.connection())
            # Audit entries are written by reads too: take SQLite's write lock up front.
            with immediate_writes(), self.sessions() as session, session.begin():
                caller = self._caller(session, route, req, client)
                return route.handler(session, caller, req)
        except BookingError as exc:
            raise to_api_error(exc) from None
        except (WriteConflictError, OperationalError):
            log.info("operator request met a busy database")
            raise ApiError(
                [ErrorObject(503, "busy", "Busy", "The database is busy; try again shortly.")],
                headers={"Retry-After": "1"},
            ) from None

    def _caller(
        self, session: Session, route: OperatorRoute, req: OperatorRequest, client: str | None
    ) -> Caller:
        auth = req.headers.get("authorization", "").strip()
        scheme, _, raw = auth.partition(" ")
        principal = by_token(session, raw.strip()) if scheme.lower() == "bearer" else None
        if principal is None:
            raise ApiError([_UNAUTHORIZED], headers={"WWW-Authenticate": 'Bearer realm="admin"'})
        if not roles.may(principal.role, route.permission):
            raise ApiError(
                [
                    ErrorObject(
                        403,
                        "forbidden",
                        "Forbidden",
                        f"The {principal.role} role may not do this.",
                    )
                ]
            )
        return Caller(principal, client, self.clock(), self.settings, self.memo)
