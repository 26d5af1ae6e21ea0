"""A real HTTP receiver on 127.0.0.1 for webhook tests, verifying every signature with the
``standardwebhooks`` library as an integrator would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    verified: bool


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


# Decides the answer from the request (and how many came before it).
Behaviour = Callable[[Received, int], Answer]


class Receiver:
    def __init__(self, secret: str | None, behaviour: Behaviour | None) -> None:
        self.secret = secret
        self.behaviour = behaviour or (lambda _r, _n: Answer())
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.base = ""

    def verify(self, raw: bytes, headers: dict[str, str]) -> bool:
        if self.secret is None:
            return False
        try:
            Webhook(self.secret).verify(raw, headers)
        except WebhookVerificationError:
            return False
        return True

    def ids(self, path: str | None = None) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received if path in (None, r.path)]


@contextmanager
def running_receiver(
    secret: str | None = None, behaviour: Behaviour | None = None
) -> Iterator[Receiver]:
    receiver = Receiver(secret, behaviour)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            got = Received(self.path, headers, orjson.loads(raw), receiver.verify(raw, headers))
            with receiver.lock:
                receiver.received.append(got)
                count = len(receiver.received)
            answer = receiver.behaviour(got, count)
            if answer.delay:
                time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except OSError:
                pass  # the sender gave up (timeout) and closed the connection

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        # The default backlog (5) resets a deliverer's concurrent connections.
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
