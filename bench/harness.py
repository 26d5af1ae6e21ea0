"""Load-test plumbing shared by bench/suite.py and bench/serve_load.py.

Servers are one uvicorn worker pinned to core 0 (``taskset``); ``wrk`` runs pinned to
core 1 with one thread and walks a request list through bench/wrk_requests.lua. Memory is
read from /proc (VmRSS, VmHWM). PostgreSQL databases named in a URL are created for a run
and dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import make_url

from inquicker.db.engine import make_engine

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "wrk_requests.lua"
SECRET = "bench-suite-secret-0123456789abcdef012345"  # noqa: S105 - a throwaway bench server
SERVER_CPU, LOAD_CPU = "0", "1"


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's packages when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing it from Debian's packages (apt-get)", flush=True)
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install).returncode:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(install, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed and apt-get could not install it")
    return found


def pinned(cpu: str, command: list[str]) -> list[str]:
    """``command`` pinned to ``cpu`` when the machine has two cores and taskset."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", cpu, *command]
    return command


# --- databases -----------------------------------------------------------------------------


def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


def database_variant(url: str, suffix: str) -> str:
    """The URL of a sibling database: ``<name>_<suffix>`` (PostgreSQL) or file (SQLite)."""
    parsed = make_url(url)
    name = parsed.database or "bench"
    if is_postgres(url):
        return parsed.set(database=f"{name}_{suffix}").render_as_string(hide_password=False)
    stem = Path(name)
    return parsed.set(
        database=str(stem.with_name(f"{stem.stem}_{suffix}{stem.suffix}"))
    ).render_as_string(hide_password=False)


def create_postgres_database(url: str) -> None:
    """Create the database ``url`` names; it must not exist yet."""
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def drop_postgres_database(url: str) -> None:
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def database_version(url: str) -> str:
    if not is_postgres(url):
        return f"SQLite {sqlite3.sqlite_version}"
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    engine = make_engine(admin)
    with engine.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar())
    engine.dispose()
    return f"PostgreSQL {version}"


# --- servers -------------------------------------------------------------------------------


@dataclass
class Server:
    """One uvicorn process (one worker) serving ``app`` on ``port``."""

    app: str
    port: int
    env: dict[str, str]
    log_path: Path
    factory: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        command = [
            str(ROOT / ".venv/bin/uvicorn"),
            self.app,
            *(["--factory"] if self.factory else []),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            pinned(SERVER_CPU, command),
            env={**os.environ, **self.env},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.app} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit(f"{self.app} not healthy after 60 s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def worker_pid(self) -> int:
        """The process serving requests: the uvicorn worker (with --workers 1, uvicorn
        serves from its own process; a supervisor's child is taken if there is one)."""
        assert self.process is not None
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        found = children.read_text().split() if children.exists() else []
        return int(found[0]) if found else pid


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, timeout: float = 60.0) -> float:
    """Wait until ``pid`` stops using CPU: requests wrk gave up on still run to the end in
    the threadpool, and the next scenario must not pay for them. Seconds waited."""
    began = time.monotonic()
    last = cpu_seconds(pid)
    while time.monotonic() - began < timeout:
        time.sleep(0.2)
        now = cpu_seconds(pid)
        if now - last < 0.02:  # under 10% of a core over 0.2 s
            break
        last = now
    return time.monotonic() - began


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak resident) of ``pid`` in MB, from /proc."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = round(int(value.split()[0]) / 1024, 1)
    return out


@dataclass
class RssSampler:
    """Samples VmRSS of a process every ``interval`` seconds on a background thread."""

    pid: int
    interval: float = 0.25
    samples: list[tuple[float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        began = time.monotonic()

        def run() -> None:
            while not self._stop.is_set():
                try:
                    rss = memory_mb(self.pid)["VmRSS"]
                except (OSError, KeyError):
                    return
                self.samples.append((time.monotonic() - began, rss))
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


# --- wrk -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One line of a wrk request list."""

    method: str
    path: str
    authorization: str = ""
    body: str = ""

    def line(self) -> str:
        for part in (self.path, self.authorization, self.body):
            if "\t" in part or "\n" in part:
                raise ValueError("request parts may not contain tabs or newlines")
        return "\t".join([self.method, self.path, self.authorization, self.body])


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    bytes_per_response: int
    errors: int  # HTTP status >= 400, timeouts and socket errors
    exhausted: bool  # a LIMIT run used up its list (the duration is the thread's own)
    # CPU time of the server's worker per completed request (user + system, every thread,
    # until it is idle again): steadier than req/s on a machine other work shares.
    server_cpu_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def write_requests(path: Path, requests: list[Request]) -> Path:
    path.write_text("".join(r.line() + "\n" for r in requests))
    return path


def run_wrk(
    wrk: str,
    base: str,
    requests_file: Path,
    *,
    seconds: float,
    connections: int,
    nonce: str | None = None,
    limit: int = 0,
) -> LoadResult:
    """Drive ``base`` with the request list; one wrk thread pinned to the load core."""
    command = pinned(
        LOAD_CPU,
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            base,
            "--",
            str(requests_file),
            nonce or "-",
            str(limit),
        ],
    )
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    exhausted = False
    for line in process.stdout:
        lines.append(line)
        if line.startswith("WRKDONE") and process.poll() is None:
            exhausted = True
            process.send_signal(signal.SIGINT)  # wrk would otherwise wait out -d
    stderr = process.stderr.read() if process.stderr else ""
    process.wait()
    found = [line for line in lines if line.startswith("WRKJSON ")]
    if not found:
        raise SystemExit(f"wrk gave no result:\n{''.join(lines)}{stderr}")
    raw = orjson.loads(found[-1].removeprefix("WRKJSON "))
    seconds_run = raw["duration_us"] / 1e6
    count = raw["requests"]
    errors = sum(
        raw[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return LoadResult(
        requests=count,
        seconds=round(seconds_run, 2),
        rps=round(count / seconds_run, 1) if seconds_run else 0.0,
        p50_ms=round(raw["p50_us"] / 1000, 2),
        p90_ms=round(raw["p90_us"] / 1000, 2),
        p99_ms=round(raw["p99_us"] / 1000, 2),
        max_ms=round(raw["max_us"] / 1000, 2),
        bytes_per_response=round(raw["bytes"] / count) if count else 0,
        errors=errors,
        exhausted=exhausted,
    )


def fetch(url: str, request: Request) -> tuple[int, bytes]:
    """One request outside wrk (to check a scenario answers and learn its body size)."""
    headers = {"Authorization": request.authorization} if request.authorization else {}
    data = request.body.encode() if request.body else None
    if data is not None:
        headers["Content-Type"] = "application/vnd.api+json"
    req = urllib.request.Request(url + request.path, data, headers, method=request.method)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
