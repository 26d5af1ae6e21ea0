"""Structured JSON logs, and an access log that never records query strings or bodies.

Query strings can carry API keys and request bodies carry patient data, so neither is
ever logged.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("inquicker.access")

# uvicorn adds color_message (terminal escape codes) to its records: not for JSON logs.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's errors) through the JSON formatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log would print query strings (API keys): ours replaces it.
    logging.getLogger("uvicorn.access").disabled = True


# Request ids: a random per-process prefix and a counter are unique without a syscall each.
_REQUEST_PREFIX = secrets.token_hex(8)
_request_numbers = itertools.count(1)


def new_request_id() -> str:
    return f"{_REQUEST_PREFIX}{next(_request_numbers):016x}"


class RequestMiddleware:
    """Per request: an id (X-Request-Id), one access log line, and a crash barrier.

    The access line has method, path, status and duration, never the query string. An
    unhandled exception becomes our JSON:API 500 (with an error id in the log); handling it
    here, rather than in Starlette's server-error middleware, keeps the exception from
    reaching uvicorn, which would log it a second time without the id. One middleware, not
    three, because each layer wraps every response message (measured in bench/).
    """

    def __init__(self, app: ASGIApp, respond: Callable[[], Response], log: bool = True) -> None:
        self.app = app
        self.respond = respond
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")[:64]
        request_id = incoming if incoming.isprintable() and incoming else new_request_id()
        status = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            if status:  # the response has started: too late for one of our own
                raise
            await self.respond()(scope, receive, send_wrapper)
        finally:
            if self.log:
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status or 500,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
