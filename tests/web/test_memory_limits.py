"""Oversized requests cost a real server process almost no memory (SPEC 8b).

Before the limits, one 256 MB body to an unknown site cost +506 MB RSS and eight 32 MB
headers +411 MB. Here a uvicorn process with the server's protocol gets the same shapes on
loopback (bounded: the client stops sending once the server has answered) and its RSS may
grow by at most ``GROWTH_MB``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.servers import ROOT, UVICORN, Server, _stop, _wait_healthy, free_port

GROWTH_MB = 40
CHUNK = b"x" * (1 << 20)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the server's RSS")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INQUICKER_")},
        "INQUICKER_ENV": "test",
        "INQUICKER_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db",
        "INQUICKER_ACCESS_LOG": "false",
    }
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _stop
    process = subprocess.Popen(
        [
            str(UVICORN),
            "inquicker.app:app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--http",
            "inquicker.web.protocol:BoundedHttpToolsProtocol",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    running = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_healthy(running)
        yield running
    finally:
        _stop(running)


def _send(port: int, head: bytes, body_mb: int) -> bytes:
    """Send ``head`` then up to ``body_mb`` MB; stop when the server answers or closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(head)
            sock.setblocking(False)
            for _ in range(body_mb):
                try:
                    answer = sock.recv(65536)
                    if answer:
                        return answer
                except BlockingIOError:
                    pass
                sock.setblocking(True)
                sock.sendall(CHUNK)
                sock.setblocking(False)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.setblocking(True)
        try:
            return sock.recv(65536)
        except ConnectionResetError:
            return b""


def test_oversized_bodies_and_headers_leave_rss_bounded(server: Server) -> None:
    port = int(server.base.rsplit(":", 1)[1])
    before = rss_mb(server.process.pid)
    declared = (
        b"POST /api/v3/unknown.example.com/visits HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/vnd.api+json\r\nContent-Length: 268435456\r\n\r\n"
    )
    assert _send(port, declared, 64).startswith(b"HTTP/1.1 413")
    chunked = (
        b"POST /api/v3/unknown.example.com/visits HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/vnd.api+json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    answer = _send(port, chunked + b"100000\r\n", 64)  # one 1 MiB chunk announced, then data
    assert answer.startswith(b"HTTP/1.1 413") or answer == b""
    for _ in range(8):
        big_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
        assert _send(port, big_header, 32).startswith(b"HTTP/1.1 431")
    growth = rss_mb(server.process.pid) - before
    assert growth < GROWTH_MB, f"RSS grew by {growth:.0f} MB"
