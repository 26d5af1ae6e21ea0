"""The webhook HTTP client (events/http.py) against real sockets: keep-alive, stale
connections, long and chunked answers, failures named as recorded."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from inquicker.events.http import EXCERPT_BYTES, KeepAliveClient, SendError, make_client

HEADERS = {"webhook-id": "1", "content-type": "application/json"}


@contextmanager
def raw_server(
    handle: Callable[[socket.socket, list[bytes]], None],
) -> Iterator[tuple[str, list[bytes], list[int]]]:
    """A TCP server running ``handle(connection, requests_seen)`` per connection; yields
    (base URL, every request head seen, a one-item list counting connections)."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []
    connections = [0]
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            connections[0] += 1
            threading.Thread(target=handle, args=(conn, seen), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen, connections
    finally:
        stopping.set()
        listener.close()


def read_request(conn: socket.socket) -> bytes | None:
    """One request (head and Content-Length body); None when the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = conn.recv(65536)
        except OSError:  # reset by a client that closed with an answer unread
            return None
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head


def answering(*answers: bytes, close_after: int | None = None) -> Callable[..., None]:
    """Answer each request on a connection with the next of ``answers`` (the last one
    repeats); close the connection after ``close_after`` answers."""

    def handle(conn: socket.socket, seen: list[bytes]) -> None:
        with conn:
            n = 0
            while close_after is None or n < close_after:
                head = read_request(conn)
                if head is None:
                    return
                seen.append(head)
                try:
                    conn.sendall(answers[min(n, len(answers) - 1)])
                except OSError:
                    return  # the client closed without reading it all
                n += 1

    return handle


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_one_connection_carries_every_request_of_a_thread() -> None:
    with raw_server(answering(OK)) as (base, seen, connections):
        client = KeepAliveClient(timeout=2.0)
        answers = [client.post(base + "/in?x=1", b"{}", HEADERS) for _ in range(5)]
        client.close()
    assert [(a.status, a.excerpt) for a in answers] == [(200, b"ok")] * 5
    assert connections[0] == 1
    first = seen[0].decode()
    assert first.startswith("POST /in?x=1 HTTP/1.1\r\n")
    assert f"Host: {base.removeprefix('http://')}" in first
    assert "webhook-id: 1" in first and "Content-Length: 2" in first


def test_a_connection_the_server_closed_is_not_reused() -> None:
    # The server answers once per connection, then closes it (as an idle timeout would).
    with raw_server(answering(OK, close_after=1)) as (base, seen, connections):
        client = KeepAliveClient(timeout=2.0)
        for _ in range(3):
            assert client.post(base, b"{}", HEADERS).status == 200
            # Let the close reach the client before the next request.
            threading.Event().wait(0.05)
        client.close()
    assert len(seen) == 3
    assert connections[0] == 3


def test_connection_close_is_honoured() -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    with raw_server(answering(closing, close_after=1)) as (base, _seen, connections):
        client = KeepAliveClient(timeout=2.0)
        assert [client.post(base, b"{}", HEADERS).status for _ in range(2)] == [200, 200]
        client.close()
    assert connections[0] == 2


def test_a_long_chunked_answer_gives_its_first_kib_and_the_next_request_works() -> None:
    text = b"x" * 3000
    chunked = (
        b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (500, text[i : i + 500]) for i in range(0, 3000, 500))
        + b"0\r\n\r\n"
    )
    with raw_server(answering(chunked, OK)) as (base, _seen, connections):
        client = KeepAliveClient(timeout=2.0)
        first = client.post(base, b"{}", HEADERS)
        second = client.post(base, b"{}", HEADERS)
        client.close()
    assert (first.status, first.excerpt) == (500, b"x" * EXCERPT_BYTES)
    assert (second.status, second.excerpt) == (200, b"ok")
    assert connections[0] == 1  # the rest was read, so the connection stayed usable


def test_a_redirect_carries_its_location() -> None:
    redirect = b"HTTP/1.1 307 Moved\r\nLocation: /else\r\nContent-Length: 0\r\n\r\n"
    with raw_server(answering(redirect)) as (base, _seen, _connections):
        client = KeepAliveClient(timeout=2.0)
        answer = client.post(base, b"{}", HEADERS)
        client.close()
    assert (answer.status, answer.location) == (307, "/else")


def test_failures_are_named_as_recorded() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    client = KeepAliveClient(timeout=1.0)
    with pytest.raises(SendError) as refused:
        client.post(f"http://127.0.0.1:{port}/", b"{}", HEADERS)
    assert refused.value.name == "ConnectError" and not refused.value.timeout

    def silent(conn: socket.socket, seen: list[bytes]) -> None:
        with conn:
            read_request(conn)
            threading.Event().wait(2.0)

    with raw_server(silent) as (base, _seen, _connections):
        client = KeepAliveClient(timeout=0.3)
        with pytest.raises(SendError) as slow:
            client.post(base, b"{}", HEADERS)
        client.close()
    assert slow.value.name == "ReadTimeout" and slow.value.timeout

    garbage = b"NOT HTTP\r\n\r\n"
    with raw_server(answering(garbage)) as (base, _seen, _connections):
        client = KeepAliveClient(timeout=1.0)
        with pytest.raises(SendError) as bad:
            client.post(base, b"{}", HEADERS)
        client.close()
    assert bad.value.name == "RemoteProtocolError"


def test_a_header_with_a_line_break_is_refused() -> None:
    client = KeepAliveClient(timeout=1.0)
    with pytest.raises(SendError):
        client.post("http://127.0.0.1:9/", b"{}", {"x": "a\r\nInjected: 1"})


def test_a_configured_proxy_keeps_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    client = make_client(1.0, 4)
    assert type(client).__name__ == "HttpxClient"
    client.close()
    monkeypatch.delenv("HTTPS_PROXY")
    for name in ("HTTP_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(make_client(1.0, 4), KeepAliveClient)


def test_a_long_answer_is_not_read_to_its_end() -> None:
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"y" * 100000
    with raw_server(answering(big)) as (base, _seen, connections):
        client = KeepAliveClient(timeout=2.0)
        answers = [client.post(base, b"{}", HEADERS) for _ in range(2)]
        client.close()
    assert [(a.status, a.excerpt) for a in answers] == [(200, b"y" * EXCERPT_BYTES)] * 2
    assert connections[0] == 2  # each connection closed after its answer, not drained
