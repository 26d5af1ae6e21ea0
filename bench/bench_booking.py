"""Sustained POST /visits against real server processes: bookings/s and latency.

    .venv/bin/python bench/bench_booking.py                      # SQLite (a temp file)
    .venv/bin/python bench/bench_booking.py --workers 2 --visits 2000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/iq_bench_booking

Creates a tenant with many capacity-1 schedules (``--schedules`` x ``--days``, open every
day 08:00-18:00 on a 15-minute grid), mints one visit token per booking BEFORE timing (the
token code itself: a ``visit_tokens`` row and a signed JWT, plus a hold when
``--hold-minutes`` > 0), starts ``uvicorn --workers N`` and drives sustained POST /visits
from a load generator in a separate process (asyncio, raw HTTP/1.1 keep-alive
connections: far lighter than an HTTP client library, so the 2 cores go to the server).
Each request uses its own token and a distinct slot, spread round-robin over schedules.

A PostgreSQL database named in ``--database-url`` is created for the run and dropped
afterwards (``--keep`` keeps it); it must not exist yet.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.harness import create_postgres_database, drop_postgres_database  # noqa: E402
from inquicker.availability.engine import format_times  # noqa: E402
from inquicker.availability.models import SeatClaim  # noqa: E402
from inquicker.booking.models import Visit, VisitToken  # noqa: E402
from inquicker.booking.tokens import TOKEN_MINUTES, mint  # noqa: E402
from inquicker.catalog.models import AppointmentType, Location, Provider, Service  # noqa: E402
from inquicker.catalog.schedule_models import (  # noqa: E402
    Schedule,
    ScheduleAppointmentType,
    ScheduleHours,
)
from inquicker.db.engine import make_engine, make_sessionmaker, transaction  # noqa: E402
from inquicker.db.migrate import upgrade  # noqa: E402
from inquicker.tenancy.keys import create_key  # noqa: E402
from inquicker.tenancy.models import ApiKey, HealthSystem, Site, SiteHealthSystem  # noqa: E402

HOST = "bench-booking.example.com"
ZONE = "America/Chicago"
TYPE = "bench-visit"
SLOT_MINUTES = 15
OPENS, CLOSES = 8, 18  # local hours, every day
CELLS_PER_DAY = (CLOSES - OPENS) * 60 // SLOT_MINUTES
SECRET = "bench-booking-secret-0123456789abcdef0123"  # noqa: S105 - a throwaway bench server


# --- the data set --------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    token: str
    body: bytes


def build_tenant(session: Session, schedules: int, hold_minutes: int) -> list[tuple[int, str]]:
    """The health system, site, key and schedules; (pk, id) of each schedule."""
    hs = HealthSystem(
        slug="bench-booking",
        name="Bench Booking",
        features=[],
        visit_settings={},
        hold_minutes=hold_minutes,
    )
    site = Site(hostname=HOST, name="Bench Booking")
    session.add_all([hs, site])
    session.flush()
    session.add(SiteHealthSystem(site_pk=site.pk, health_system_pk=hs.pk))
    kind = AppointmentType(
        health_system_pk=hs.pk, slug=TYPE, name="Bench Visit", priority=1, duration_minutes=15
    )
    location = Location(health_system_pk=hs.pk, slug="bench-clinic", name="Bench Clinic")
    service = Service(health_system_pk=hs.pk, slug="bench-care", name="Bench Care")
    providers = [
        Provider(health_system_pk=hs.pk, slug=f"dr-{n}", name=f"Dr {n:04d}")
        for n in range(schedules)
    ]
    session.add_all([kind, location, service, *providers])
    session.flush()
    rows = [
        Schedule(
            health_system_pk=hs.pk,
            slug=f"schedule-{n:04d}",
            name=f"Schedule {n:04d}",
            provider_pk=provider.pk,
            location_pk=location.pk,
            service_pk=service.pk,
            time_zone_name=ZONE,
            slot_minutes=SLOT_MINUTES,
            capacity=1,
            lead_minutes=0,
            horizon_days=60,
            visit_settings={},
        )
        for n, provider in enumerate(providers)
    ]
    session.add_all(rows)
    session.flush()
    for schedule in rows:
        session.add(ScheduleAppointmentType(schedule_pk=schedule.pk, appointment_type_pk=kind.pk))
        session.add_all(
            ScheduleHours(
                schedule_pk=schedule.pk,
                weekday=day,
                opens=clock_time(OPENS),
                closes=clock_time(CLOSES),
            )
            for day in range(7)
        )
    session.flush()
    create_key(session, HOST, "bench", ("read", "book"))
    return [(s.pk, s.slug) for s in rows]


def slot_starts(first_day: date, days: int) -> list[int]:
    """Every cell start (UTC epoch seconds) of the open hours of ``days`` days."""
    zone = ZoneInfo(ZONE)
    starts = []
    for d in range(days):
        day = first_day + timedelta(days=d)
        opening = datetime.combine(day, clock_time(OPENS), zone)
        starts += [int(opening.timestamp()) + n * SLOT_MINUTES * 60 for n in range(CELLS_PER_DAY)]
    return starts


def visit_body(schedule_id: str, appointment_at: str, n: int) -> bytes:
    return orjson.dumps(
        {
            "data": {
                "type": "visits",
                "attributes": {
                    "appointment-at": appointment_at,
                    "appointment-type": TYPE,
                    "birthdate": "1985-06-15",
                    "email": f"patient{n}@example.com",
                    "first-name": f"Patient{n}",
                    "last-name": "Bench",
                    "gender": "female" if n % 2 else "male",
                    "new-patient": "yes",
                    "phone-number": "(615) 555-0100",
                },
                "relationships": {"schedule": {"data": {"type": "schedules", "id": schedule_id}}},
            }
        }
    )


def mint_tokens(
    session: Session, schedules: list[tuple[int, str]], count: int, days: int, hold_minutes: int
) -> list[Job]:
    """``count`` tokens for distinct slots, round-robin over schedules, as GET /visit-token
    would record them (with a hold on the slot's cell when holds are on)."""
    starts = slot_starts(datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=1), days)
    if count > len(schedules) * len(starts):
        raise SystemExit(f"only {len(schedules) * len(starts)} slots; raise --schedules/--days")
    site_pk = session.scalars(select(Site.pk).where(Site.hostname == HOST)).one()
    key_pk = session.scalars(select(ApiKey.pk).where(ApiKey.site_pk == site_pk)).one()
    type_pk = session.scalars(select(AppointmentType.pk).where(AppointmentType.slug == TYPE)).one()
    now = int(time.time())
    tokens, holds, jobs = [], [], []
    for n in range(count):
        schedule_pk, schedule_id = schedules[n % len(schedules)]
        start = starts[n // len(schedules)]
        local = format_times([start], ZONE)[0]
        jti = str(uuid.uuid4())
        tokens.append(
            {
                "jti": jti,
                "site_pk": site_pk,
                "api_key_pk": key_pk,
                "schedule_pk": schedule_pk,
                "appointment_at": start,
                "appointment_type_pk": type_pk,
                "issued_at": now,
                "expires_at": now + TOKEN_MINUTES * 60,
            }
        )
        if hold_minutes:
            holds.append(
                {
                    "schedule_pk": schedule_pk,
                    "cell_start": start,
                    "seat": 0,
                    "hold_jti": jti,
                    "expires_at": now + hold_minutes * 60,
                }
            )
        token = mint(
            SECRET,
            jti=jti,
            schedule_id=schedule_id,
            appointment_at=local,
            audience=HOST,
            issued_at=now,
        )
        jobs.append(Job(token, visit_body(schedule_id, local, n)))
    session.execute(insert(VisitToken), tokens)
    if holds:
        session.execute(insert(SeatClaim), holds)
    return jobs


# --- databases and servers -------------------------------------------------------------------


def start_server(
    url: str,
    port: int,
    workers: int,
    log_path: Path,
    threads: int | None = None,
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **({"INQUICKER_THREADS": str(threads)} if threads else {}),
        "INQUICKER_ENV": "test",
        "INQUICKER_DATABASE_URL": url,
        "INQUICKER_SECRET_KEY": SECRET,
        "INQUICKER_ACCESS_LOG": "false",
        # Load tools measure the server, not the per-key rate limit.
        "INQUICKER_RATE_LIMIT": "",
        "INQUICKER_LOG_LEVEL": "WARNING",
    }
    log = log_path.open("wb")
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/uvicorn"),
            "inquicker.app:app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited:\n{log_path.read_text()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit(f"server not healthy after 30 s:\n{log_path.read_text()}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the load generator (a separate process) --------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length) if length else b""


def _request(port: int, job: dict[str, str]) -> bytes:
    body = job["body"].encode()
    head = (
        f"POST /api/v3/{HOST}/visits HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {job['token']}\r\n"
        "Content-Type: application/vnd.api+json\r\n"
        "Accept: application/vnd.api+json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _drive(
    port: int, requests: list[bytes], connections: int
) -> tuple[float, list[tuple[int, str, float]]]:
    """Send every request once over ``connections`` keep-alive connections."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    results: list[tuple[int, str, float]] = []
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while not queue.empty():
            request = queue.get_nowait()
            started = time.perf_counter()
            writer.write(request)
            status, body = await _read_response(reader)
            code = ""
            if status >= 400:
                try:
                    code = orjson.loads(body)["errors"][0]["code"]
                except (ValueError, KeyError, IndexError, TypeError):
                    code = "?"
            results.append((status, code, time.perf_counter() - started))
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker(r, w) for r, w in streams))
    return time.perf_counter() - began, results


def load_generator(port: int, jobs_path: str, connections: int) -> None:
    """Entry point of the load process: prints one JSON line of raw results."""
    jobs = json.loads(Path(jobs_path).read_text())
    requests = [_request(port, job) for job in jobs]
    try:
        import uvloop

        elapsed, results = uvloop.run(_drive(port, requests, connections))
    except ImportError:
        elapsed, results = asyncio.run(_drive(port, requests, connections))
    print(json.dumps({"elapsed": elapsed, "results": results}))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_load(port: int, jobs: list[Job], connections: int, workdir: Path) -> dict[str, Any]:
    path = workdir / f"jobs-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps([{"token": j.token, "body": j.body.decode()} for j in jobs]))
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--load-generator",
            str(path),
            "--port",
            str(port),
            "--connections",
            str(connections),
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"load generator failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- profiling (optional) ------------------------------------------------------------------


def worker_pids(server: subprocess.Popen[bytes]) -> list[int]:
    """The uvicorn worker processes (children of the supervisor), or the server itself."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    pids = [int(p) for p in children.read_text().split()] if children.exists() else []
    return pids or [server.pid]


def cpu_seconds(pids: list[int] | None = None, database: str | None = None) -> float:
    """User+system CPU seconds of ``pids``, or of the PostgreSQL backends serving
    ``database`` (Linux /proc; other databases' backends on the machine are not counted)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    candidates = pids if pids is not None else [int(p) for p in os.listdir("/proc") if p.isdigit()]
    for pid in candidates:
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if database is not None:
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if not title.startswith("postgres: ") or f" {database} " not in title:
                continue
        fields = raw[raw.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def start_profilers(
    server: subprocess.Popen[bytes], outdir: Path, gil_only: bool
) -> list[subprocess.Popen[bytes]]:
    """py-spy on every worker, collapsed stacks into ``outdir`` (stopped by SIGINT)."""
    py_spy = shutil.which("py-spy") or str(ROOT / ".venv/bin/py-spy")
    outdir.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(pid),
                "--rate",
                "250",
                "--format",
                "raw",
                "--nonblocking",
                *(["--gil"] if gil_only else ["--idle"]),
                "--output",
                str(outdir / f"worker-{pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in worker_pids(server)
    ]


def stop_profilers(profilers: list[subprocess.Popen[bytes]]) -> None:
    for profiler in profilers:
        profiler.send_signal(2)  # SIGINT: py-spy writes its output and exits
    for profiler in profilers:
        profiler.wait(timeout=60)


def summarize_profile(outdir: Path, top: int = 25) -> None:
    """Share of samples per function: inclusive (anywhere on the stack) and self (leaf)."""
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    for path in outdir.glob("worker-*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            # Frames: "function (file:line)"; drop the line so a function counts once.
            frames = [f.rsplit(":", 1)[0] + ")" for f in stack.split(";")]
            frames = [f.split(" (", 1)[0] + " (" + f.split(" (", 1)[-1] for f in frames]
            total += n
            leaf[frames[-1]] += n
            for frame in set(frames):
                inclusive[frame] += n
    if not total:
        print("profile: no samples (is ptrace allowed?)")
        return
    print(f"profile: {total} samples; top functions by inclusive share")
    for frame, n in inclusive.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {frame}")
    print("the project's own functions by inclusive share")
    ours = [(f, n) for f, n in inclusive.most_common() if "inquicker/" in f]
    for frame, n in ours[:top]:
        print(f"  {100 * n / total:5.1f}%  {frame}")
    print("top functions by self share")
    for frame, n in leaf.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {frame}")


# --- the report ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(result: dict[str, Any]) -> dict[str, Any]:
    elapsed = result["elapsed"]
    rows = result["results"]
    latencies = [r[2] * 1000 for r in rows]
    outcomes = Counter(f"{r[0]} {r[1]}".strip() for r in rows)
    booked = outcomes.get("201", 0)
    errors = {k: v for k, v in outcomes.items() if k != "201"}
    summary = {
        "requests": len(rows),
        "booked": booked,
        "seconds": round(elapsed, 2),
        "bookings_per_s": round(booked / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p90_ms": round(percentile(latencies, 0.90), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "errors": errors,
    }
    print(
        f"bookings/s {summary['bookings_per_s']}  ({booked} x 201 of {len(rows)} requests "
        f"in {summary['seconds']} s)\n"
        f"latency ms  p50 {summary['p50_ms']}  p90 {summary['p90_ms']}  "
        f"p99 {summary['p99_ms']}  max {summary['max_ms']}\n"
        f"errors      {errors or 'none'}",
        flush=True,
    )
    return summary


def check_database(session: Session, expected: int) -> None:
    visits = session.scalar(select(func.count()).select_from(Visit))
    claims = session.scalar(
        select(func.count()).select_from(SeatClaim).where(SeatClaim.visit_pk.is_not(None))
    )
    counts = (
        select(func.count().label("n"))
        .select_from(SeatClaim)
        .group_by(SeatClaim.schedule_pk, SeatClaim.cell_start)
        .subquery()
    )
    per_cell = session.scalar(select(func.max(counts.c.n)))
    numbers, highest = session.execute(
        select(
            func.count(Visit.confirmation_number.distinct()), func.max(Visit.confirmation_number)
        )
    ).one()
    print(
        f"database    {visits} visits, {claims} seat claims of visits, "
        f"max claims per cell {per_cell} (capacity 1); expected {expected} visits; "
        f"{numbers} distinct confirmation numbers, highest {highest}",
        flush=True,
    )


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="default: a temp SQLite file")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--visits", type=int, default=2000, help="timed bookings")
    parser.add_argument("--warmup", type=int, default=100, help="untimed bookings first")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--schedules", type=int, default=200)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--hold-minutes", type=int, default=0)
    parser.add_argument("--port", type=int, default=8941)
    parser.add_argument(
        "--threads", type=int, default=None, help="INQUICKER_THREADS per worker (default: app's)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--profile",
        choices=["cpu", "wall"],
        default=None,
        help="py-spy the workers during the timed run (cpu: GIL holders; wall: all threads)",
    )
    parser.add_argument("--load-generator", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.load_generator:
        load_generator(args.port, args.load_generator, args.connections)
        return

    workdir = Path(tempfile.mkdtemp(prefix="bench-booking-"))
    url = args.database_url or f"sqlite:///{workdir}/booking.db"
    postgres = url.startswith("postgres")
    if postgres:
        create_postgres_database(url)
    server = None
    try:
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        with transaction(make_sessionmaker(engine)) as session:
            schedules = build_tenant(session, args.schedules, args.hold_minutes)
            jobs = mint_tokens(
                session, schedules, args.warmup + args.visits, args.days, args.hold_minutes
            )
        print(
            f"{'postgresql' if postgres else 'sqlite'}: {args.schedules} schedules x "
            f"{args.days} days, {len(jobs)} tokens minted (holds "
            f"{args.hold_minutes or 'off'}) in {time.perf_counter() - started:.1f} s; "
            f"uvicorn --workers {args.workers} (threads {args.threads or 'default'}), "
            f"{args.connections} connections",
            flush=True,
        )
        server = start_server(url, args.port, args.workers, workdir / "server.log", args.threads)
        if args.warmup:
            run_load(args.port, jobs[: args.warmup], args.connections, workdir)
        profilers = (
            start_profilers(server, workdir / "profile", args.profile == "cpu")
            if args.profile
            else []
        )
        workers = worker_pids(server)
        dbname = make_url(url).database if postgres else "-"
        before = (cpu_seconds(workers), cpu_seconds(database=dbname), _children_cpu())
        result = run_load(args.port, jobs[args.warmup :], args.connections, workdir)
        after = (cpu_seconds(workers), cpu_seconds(database=dbname), _children_cpu())
        stop_profilers(profilers)
        report(result)
        used = [(b - a) * 1000 / max(1, args.visits) for a, b in zip(before, after, strict=True)]
        print(
            f"cpu ms/req  server workers {used[0]:.2f}  "
            f"postgres backends {used[1]:.2f}  "
            f"load generator {used[2]:.2f}  (machine: {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.2f})",
            flush=True,
        )
        if args.profile:
            summarize_profile(workdir / "profile")
        with make_sessionmaker(engine)() as session:
            check_database(session, len(jobs))
        engine.dispose()
        log = (workdir / "server.log").read_text()
        if log.strip():
            print(f"server log (last 2000 chars):\n{log[-2000:]}")
    finally:
        if server is not None:
            stop_server(server)
        if postgres and not args.keep:
            drop_postgres_database(url)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
