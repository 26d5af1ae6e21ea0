"""Real server processes for the reliability tests: ``uvicorn`` with the app factory.

Each server is a separate process (its own engine, connection pool and threadpool), so
what the tests observe is what several deployed processes sharing one database would do.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx2

ROOT = Path(__file__).resolve().parents[2]
UVICORN = ROOT / ".venv" / "bin" / "uvicorn"
STARTUP_SECONDS = 30.0


@dataclass
class Server:
    base: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def output(self) -> str:
        """Everything the server wrote to stdout/stderr so far (tracebacks of a 500...)."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited at start-up:\n{server.output()}")
        try:
            if httpx2.get(f"{server.base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy after {STARTUP_SECONDS}s:\n{server.output()}")


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
    server.log.close()


@contextmanager
def running_servers(database_url: str, secret: str, count: int = 2) -> Iterator[list[Server]]:
    """``count`` uvicorn processes (one worker each) on free ports; always stopped after."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INQUICKER_")},
        "INQUICKER_ENV": "test",
        "INQUICKER_DATABASE_URL": database_url,
        "INQUICKER_SECRET_KEY": secret,
        "INQUICKER_ACCESS_LOG": "false",
        # Load tools measure the server, not the per-key rate limit.
        "INQUICKER_RATE_LIMIT": "",
    }
    with ExitStack() as stack:
        servers = []
        for _ in range(count):
            port = free_port()
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
                    "--workers",
                    "1",
                    "--no-access-log",
                ],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            server = Server(f"http://127.0.0.1:{port}", process, log)
            stack.callback(_stop, server)
            servers.append(server)
        for server in servers:
            _wait_healthy(server)
        yield servers
