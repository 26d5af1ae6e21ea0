"""The webhook POST: a small keep-alive HTTP/1.1 client, one connection per thread and origin.

A webhook is one POST of a few hundred bytes whose answer matters only by its status and
first KiB, so the deliverer needs none of a general client's machinery (cookies, auth
flows, redirects, decoding, a shared pool and its locks). ``http.client`` from the
standard library does it at about a quarter of httpx's CPU per request (measured in
bench/bench_webhooks.py: the sender was most of the worker's CPU), which is what one
worker's delivery rate is bound by.

Behaviour kept from the httpx client this replaces: the same TLS trust (httpx2's
``create_ssl_context``), a timeout on connecting and on each read and write, redirects
never followed, keep-alive with a stale connection detected before reuse, and failures
named as httpx names them (``ConnectError``, ``ReadTimeout``...) in recorded attempts.
When an HTTP(S) proxy is configured in the environment, ``HttpxClient`` (httpx honours
those variables) does the sending instead.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from urllib.parse import urlsplit

import httpx2

EXCERPT_BYTES = 1024
# After the excerpt, an answer's rest is read (so the connection can be reused) up to this
# much; a longer answer closes the connection instead of being read.
DRAIN_BYTES = 64 * 1024
# Origins one thread keeps a connection open to (least recently used closed first).
ORIGINS_PER_THREAD = 8
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    location: str | None  # the Location header of a redirect
    excerpt: bytes  # at most EXCERPT_BYTES


class SendError(Exception):
    """A failed POST, named as httpx names its errors (the recorded excerpt starts with it)."""

    def __init__(self, name: str, detail: str, *, timeout: bool = False) -> None:
        super().__init__(f"{name}: {detail}")
        self.name = name
        self.timeout = timeout


class WebhookClient(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Target:
    https: bool
    host: str
    port: int
    head: bytes  # the request line and the fixed headers, up to the per-request ones


_CONTROL = frozenset(chr(c) for c in (*range(0x21), 0x7F))


@lru_cache(maxsize=1024)
def _target(url: str) -> _Target:
    parts = urlsplit(url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not host or _CONTROL.intersection(path + host):
        # Subscriptions are checked when created; this keeps a request line intact anyway.
        raise SendError("UnsupportedProtocol", "the URL cannot be sent")
    shown = f"[{host}]" if ":" in host else host
    authority = shown if port == (443 if https else 80) else f"{shown}:{port}"
    head = f"POST {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: */*\r\n"
    return _Target(https, host, port, head.encode("ascii", "strict"))


class _Connection:
    """One socket and how to read answers from it."""

    __slots__ = ("sock",)

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def stale(self) -> bool:
        """An idle keep-alive connection with something to read has been closed by the
        server (or sent garbage): it must not carry the next request."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        self.sock.close()


class KeepAliveClient:
    """Thread-safe by construction: each thread uses only its own connections."""

    def __init__(self, timeout: float, ssl_context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self._ssl = ssl_context or httpx2.create_ssl_context()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[_Connection] = set()
        self._closed = False

    def _pool(self) -> OrderedDict[tuple[bool, str, int], _Connection]:
        found: OrderedDict[tuple[bool, str, int], _Connection] | None = getattr(
            self._local, "pool", None
        )
        if found is None:
            found = OrderedDict()
            self._local.pool = found
        return found

    def _connect(self, target: _Target) -> _Connection:
        try:
            sock = socket.create_connection((target.host, target.port), self.timeout)
        except TimeoutError as exc:
            raise SendError("ConnectTimeout", str(exc) or "timed out", timeout=True) from None
        except OSError as exc:  # refused, unreachable, no such host
            raise SendError("ConnectError", str(exc)) from None
        try:
            # One write per request (head and body together) and no waiting for an ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if target.https:
                sock = self._ssl.wrap_socket(sock, server_hostname=target.host)
        except TimeoutError as exc:
            sock.close()
            raise SendError("ConnectTimeout", str(exc) or "timed out", timeout=True) from None
        except OSError as exc:  # ssl.SSLError is an OSError: a TLS failure
            sock.close()
            raise SendError("ConnectError", str(exc)) from None
        conn = _Connection(sock)
        with self._lock:
            self._open.add(conn)
        return conn

    def _forget(self, conn: _Connection) -> None:
        conn.close()
        with self._lock:
            self._open.discard(conn)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        target = _target(url)
        key = (target.https, target.host, target.port)
        pool = self._pool()
        conn = pool.pop(key, None)
        if conn is not None and conn.stale():
            self._forget(conn)
            conn = None
        reused = conn is not None
        request = _request(target, body, headers)
        if conn is None:
            conn = self._connect(target)
        try:
            answer, keep = _exchange(conn.sock, request)
        except _StaleError:
            # The server closed a reused connection before answering (its idle timeout
            # racing this request): once more on a new one. At least once allows it, and
            # the webhook-id lets a receiver drop a duplicate.
            self._forget(conn)
            if not reused:
                raise SendError("RemoteProtocolError", "server closed the connection") from None
            conn = self._connect(target)
            try:
                answer, keep = _exchange(conn.sock, request)
            except _StaleError:
                self._forget(conn)
                raise SendError("RemoteProtocolError", "server closed the connection") from None
            except BaseException:
                self._forget(conn)
                raise
        except BaseException:
            self._forget(conn)
            raise
        if keep and not self._closed:
            pool[key] = conn
            while len(pool) > ORIGINS_PER_THREAD:
                self._forget(pool.popitem(last=False)[1])
        else:
            self._forget(conn)
        return answer

    def close(self) -> None:
        self._closed = True
        with self._lock:
            connections, self._open = self._open, set()
        for conn in connections:
            conn.close()


def _request(target: _Target, body: bytes, headers: dict[str, str]) -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    if _CONTROL.intersection(lines.replace("\r\n", "").replace(" ", "")):
        raise SendError("LocalProtocolError", "a header value holds a control character")
    tail = f"{lines}Content-Length: {len(body)}\r\n\r\n".encode("latin-1")
    return target.head + tail + body


def _exchange(sock: socket.socket, request: bytes) -> tuple[Answer, bool]:
    """Send one request and read its answer; (answer, whether the connection may be reused)."""
    try:
        sock.sendall(request)
    except TimeoutError as exc:
        raise SendError("WriteTimeout", str(exc) or "timed out", timeout=True) from None
    except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
        raise _StaleError from None
    except OSError as exc:
        raise SendError("WriteError", str(exc)) from None
    response = http.client.HTTPResponse(sock, method="POST")
    try:
        try:
            response.begin()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            raise _StaleError from None
        excerpt = response.read(EXCERPT_BYTES)
        # A short rest is read so the connection can carry the next request; a long one, or
        # one that lasts until the server closes, is not waited for.
        if not response.isclosed() and (
            response.chunked or (response.length is not None and response.length <= DRAIN_BYTES)
        ):
            response.read(DRAIN_BYTES)
    except TimeoutError as exc:
        response.close()
        raise SendError("ReadTimeout", str(exc) or "timed out", timeout=True) from None
    except http.client.HTTPException as exc:
        response.close()
        raise SendError("RemoteProtocolError", f"{type(exc).__name__}: {exc}") from None
    except OSError as exc:
        response.close()
        raise SendError("ReadError", str(exc)) from None
    # Still unread (a long answer), or the server said it closes: not reusable.
    keep = response.isclosed() and not response.will_close
    location = response.getheader("location") if response.status in REDIRECTS else None
    if not keep:
        response.close()
    return Answer(response.status, location, excerpt), keep


class _StaleError(Exception):
    """A reused connection turned out closed before any answer."""


class HttpxClient:
    """httpx, for when a proxy is configured in the environment (httpx honours it)."""

    def __init__(self, timeout: float, connections: int) -> None:
        self._client = httpx2.Client(
            timeout=timeout,
            follow_redirects=False,
            limits=httpx2.Limits(
                max_connections=connections, max_keepalive_connections=connections
            ),
            headers={"accept": "*/*"},
        )

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        try:
            with self._client.stream("POST", url, content=body, headers=headers) as response:
                chunk = b""
                for part in response.iter_bytes():
                    chunk += part
                    if len(chunk) >= EXCERPT_BYTES:
                        break
                location = response.headers.get("location") if response.is_redirect else None
                return Answer(response.status_code, location, chunk[:EXCERPT_BYTES])
        except httpx2.TimeoutException as exc:
            raise SendError(type(exc).__name__, str(exc), timeout=True) from None
        except httpx2.HTTPError as exc:
            raise SendError(type(exc).__name__, str(exc)) from None

    def close(self) -> None:
        self._client.close()


def proxied() -> bool:
    """Whether the environment names an HTTP(S) proxy (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY)."""
    return any(scheme in ("http", "https", "all") for scheme in urllib.request.getproxies())


def make_client(timeout: float, connections: int) -> WebhookClient:
    if proxied():
        return HttpxClient(timeout, connections)
    return KeepAliveClient(timeout)
