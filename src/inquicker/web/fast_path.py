"""Cached catalog reads answered before Starlette's routing, request and response objects."""

from __future__ import annotations

import re

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from inquicker.jsonapi.errors import ApiError
from inquicker.jsonapi.routing import READ_METHODS
from inquicker.tenancy.resolve import Principal
from inquicker.web.pipeline import PARSED, Api, Parsed
from inquicker.web.ratelimit import RateState
from inquicker.web.response_cache import CachedDocument
from inquicker.web.responses import MEDIA_TYPE_BYTES, error_response, not_modified

# The API routes of create_app: /api/v3/{hostname}[/{rest}] and /v3/{hostname}[/{rest}].
API_PATH = re.compile(r"/(?:api/)?v3/([^/]+)(?:/(.*))?")


class CachedReads:
    """Answers a cached catalog read before Starlette's routing, request and response objects.

    Innermost of the middleware, so request ids, the access log and CORS apply as to any
    response; the checks and the answer are ``Api``'s own (``parse`` against the route table,
    ``cached``, ``not_modified``), so the bytes and headers are those of the full path.
    Anything else, including every request the checks refuse, goes on to the app with what
    the parse here gave (``PARSED``: the request, or the refusal), so it is not parsed twice.
    """

    def __init__(self, app: ASGIApp, api: Api) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._lookup(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        hit, parsed, principal = found
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
        await _send_cached(send, hit, parsed, rate)

    def _lookup(self, scope: Scope) -> tuple[CachedDocument, Parsed, Principal] | None:
        """(document, request, key) of a cached read this request may have."""
        match = API_PATH.fullmatch(scope["path"])
        if scope["method"] not in READ_METHODS or match is None:
            return None
        try:
            parsed = self.api.parse(scope, match[1], match[2] or "")
        except ApiError as refusal:
            scope[PARSED] = refusal  # the app renders it (inside the middleware)
            return None
        found = self.api.cached(parsed)
        if found is None:
            scope[PARSED] = parsed
            return None
        return found[0], parsed, found[1]


async def _send_cached(
    send: Send, hit: CachedDocument, parsed: Parsed, rate: RateState | None
) -> None:
    tag = hit.etag.encode("latin-1")
    control = parsed.route.cache_control.encode("latin-1")
    if not_modified(hit.etag, parsed.request.headers.get("if-none-match")):
        status, body = 304, b""
        headers = [(b"etag", tag), (b"cache-control", control)]
    else:
        status, body = 200, hit.body
        headers = [
            (b"etag", tag),
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", MEDIA_TYPE_BYTES),
            (b"cache-control", control),
        ]
    if rate is not None:
        headers.extend(
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in rate.headers().items()
        )
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
