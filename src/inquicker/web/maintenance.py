"""Maintenance mode (`inquicker maintenance on|off`): API routes answer 503 + Retry-After.

The switch is a row in the database, so every worker of every server sees it. Reading it
per request would cost a query on the cached-read fast path, so each process re-reads it
at most once a second (``FRESH_SECONDS``), in a thread, while other requests keep using the
value last read: switching on reaches every process within about a second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from inquicker.db.base import utcnow
from inquicker.jsonapi.errors import ApiError, ErrorObject
from inquicker.web.models import ServiceFlag
from inquicker.web.responses import error_response

log = logging.getLogger("inquicker.maintenance")

FLAG = "maintenance"
FRESH_SECONDS = 1.0
DEFAULT_RETRY_AFTER = 300


@dataclass(frozen=True, slots=True)
class Maintenance:
    on: bool
    retry_after: int = DEFAULT_RETRY_AFTER
    detail: str | None = None
    since: datetime | None = None

    def error(self) -> ApiError:
        return ApiError(
            [
                ErrorObject(
                    503,
                    "maintenance",
                    "Service unavailable",
                    self.detail or "The service is down for maintenance; please retry later.",
                )
            ],
            headers={"Retry-After": str(self.retry_after)},
        )


OFF = Maintenance(False)


def read_state(session: Session) -> Maintenance:
    row = session.get(ServiceFlag, FLAG)
    if row is None or not row.enabled:
        return OFF
    return Maintenance(True, row.retry_after, row.detail, row.changed_at)


def set_state(
    session: Session, on: bool, retry_after: int = DEFAULT_RETRY_AFTER, detail: str | None = None
) -> None:
    """Switch maintenance on or off (the CLI's one writer)."""
    row = session.get(ServiceFlag, FLAG)
    if row is None:
        row = ServiceFlag(name=FLAG)
        session.add(row)
    row.enabled = on
    row.retry_after = retry_after
    row.detail = detail
    row.changed_at = utcnow()


class MaintenanceSwitch:
    """This process's view of the switch: at most ``FRESH_SECONDS`` old."""

    def __init__(
        self,
        engine: Engine,
        ttl: float = FRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl = ttl
        self._clock = clock
        self._state = OFF
        self._read_at = -1e18
        self._reading = False
        self._statement = select(
            ServiceFlag.enabled, ServiceFlag.retry_after, ServiceFlag.detail, ServiceFlag.changed_at
        ).where(ServiceFlag.name == FLAG)

    def expire(self) -> None:
        """Read the switch again on the next request (tests, and the process that set it)."""
        self._read_at = -1e18

    @property
    def known(self) -> Maintenance:
        """The last state read, without waiting (health checks)."""
        return self._state

    async def current(self) -> Maintenance:
        """The state, re-read when stale by one caller at a time; the others (and that
        caller, when the database fails) go on with the last state read."""
        if self._clock() - self._read_at < self._ttl or self._reading:
            return self._state
        self._reading = True
        try:
            self._state = await anyio.to_thread.run_sync(self.read)
        except Exception as exc:  # an unreadable database must not take the switch down
            log.warning("could not read the maintenance switch", extra={"error": repr(exc)})
        finally:
            self._read_at = self._clock()
            self._reading = False
        return self._state

    def read(self) -> Maintenance:
        with self._engine.connect() as conn:
            row = conn.execute(self._statement).one_or_none()
        if row is None or not row.enabled:
            return OFF
        return Maintenance(True, row.retry_after, row.detail, row.changed_at)


class MaintenanceGate:
    """ASGI middleware: while maintenance is on, API routes answer its 503 (health checks
    and anything outside the API prefixes still answer)."""

    def __init__(self, app: ASGIApp, switch: MaintenanceSwitch) -> None:
        self.app = app
        self.switch = switch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_api(scope["path"]):
            state = await self.switch.current()
            if state.on:
                await error_response(state.error())(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _is_api(path: str) -> bool:
    return path.startswith(("/api/v3/", "/v3/")) or path in ("/api/v3", "/v3")
