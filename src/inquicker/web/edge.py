"""Limits enforced before a request is read into memory, and WebSocket refusals.

- Headers (request line included) over ``MAX_HEAD_BYTES``: 431. The server's protocol
  (``web.protocol``) refuses them while they arrive; this check covers any other ASGI
  server, which hands us headers it has already read.
- Bodies over ``MAX_BODY_BYTES``: 413 at once when Content-Length says so, else as soon as
  the streamed bytes pass the limit (chunked uploads), before the rest is read. The
  refusal closes the connection, so the client's remaining bytes are never read.
- A WebSocket upgrade: a JSON:API 400 (the API speaks HTTP only), sent as the ASGI
  denial response where the server supports it, never the server's bare 403.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inquicker.jsonapi.errors import ApiError, ErrorObject
from inquicker.logs import new_request_id
from inquicker.web.responses import error_response

MAX_BODY_BYTES = 64 * 1024
MAX_HEAD_BYTES = 16 * 1024
# Paths that take a file upload, with their own limit: the console's bundle upload takes a
# whole health system's catalog (the CLI's `inquicker import` reads the same files).
UPLOAD_LIMITS: dict[str, int] = {"/admin/bundle": 20 * 1024 * 1024}


def body_too_large(limit: int = MAX_BODY_BYTES) -> ApiError:
    return ApiError(
        [
            ErrorObject(
                413,
                "body-too-large",
                "Request body too large",
                f"Request bodies may be at most {limit} bytes.",
            )
        ],
        # The unread rest of the body must not be read (nor parsed as a next request).
        headers={"Connection": "close"},
    )


def head_too_large(limit: int = MAX_HEAD_BYTES) -> ApiError:
    return ApiError(
        [
            ErrorObject(
                431,
                "headers-too-large",
                "Request header fields too large",
                f"The request line and headers may be at most {limit} bytes together.",
            )
        ],
        headers={"Connection": "close"},
    )


def _websocket_refusal() -> ApiError:
    return ApiError(
        [
            ErrorObject(
                400,
                "websocket-not-supported",
                "WebSocket not supported",
                "This API speaks HTTP only; send a plain GET or POST.",
                header="Upgrade",
            )
        ]
    )


class Edge:
    def __init__(
        self, app: ASGIApp, max_body: int = MAX_BODY_BYTES, max_head: int = MAX_HEAD_BYTES
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_head = max_head

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._refuse_websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = len(scope["raw_path"] or b"") + len(scope["query_string"])
        declared: bytes | None = None
        for name, value in scope["headers"]:
            head += len(name) + len(value) + 4  # ": " and CRLF
            if name == b"content-length":
                declared = value
        if head > self.max_head:
            await error_response(head_too_large(self.max_head))(scope, receive, send)
            return
        limit = UPLOAD_LIMITS.get(scope["path"], self.max_body)
        if declared is not None and not (declared.isdigit() and int(declared) <= limit):
            await error_response(body_too_large(limit))(scope, receive, send)
            return
        await self.app(scope, self._counting(receive, limit), send)

    def _counting(self, receive: Receive, limit: int) -> Receive:
        """``receive`` that refuses (413, an ApiError the app renders) once the streamed
        body passes the limit, so at most the limit plus one chunk is ever held."""
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise body_too_large(limit)
            return message

        return counted

    async def _refuse_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()  # websocket.connect
        if message["type"] != "websocket.connect":
            return
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1003})  # the server allows no more
            return
        response = error_response(_websocket_refusal())
        headers = [
            *response.raw_headers,
            (b"x-request-id", new_request_id().encode("latin-1")),
        ]
        await send(
            {
                "type": "websocket.http.response.start",
                "status": response.status_code,
                "headers": headers,
            }
        )
        await send({"type": "websocket.http.response.body", "body": bytes(response.body)})
