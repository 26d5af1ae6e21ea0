"""uvicorn's httptools protocol with a bound on request heads (request line + headers).

httptools accepts headers of any size and gathers each one whole before handing it over
(measured: eight 32 MB headers cost the server +411 MB). Here the bytes of a request's
head are counted as they arrive, before the parser sees them; past ``MAX_HEAD_BYTES`` the
connection gets a JSON:API 431 and is closed. ``inquicker serve`` uses this protocol; with
plain uvicorn, pass ``--http inquicker.web.protocol:BoundedHttpToolsProtocol``.
"""

from __future__ import annotations

from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from inquicker.web.edge import MAX_HEAD_BYTES, head_too_large

_END_OF_HEAD = b"\r\n\r\n"


def _refusal() -> bytes:
    error = head_too_large(MAX_HEAD_BYTES)
    body = orjson.dumps(error.render())
    return b"".join(
        [
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            b"content-type: application/vnd.api+json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"cache-control: no-store\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


REFUSAL = _refusal()


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._tail = b""  # the last bytes seen, for an end of head split across reads

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            end = (self._tail + data).find(_END_OF_HEAD)
            counted = len(data) if end < 0 else end + len(_END_OF_HEAD) - len(self._tail)
            self._head_bytes += counted
            if self._head_bytes > MAX_HEAD_BYTES:
                self.transport.write(REFUSAL)
                self.transport.close()
                return
            if end < 0:
                self._tail = data[-3:]
            else:
                self._in_head = False  # until this request's message is complete
        super().data_received(data)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0
        self._tail = b""
