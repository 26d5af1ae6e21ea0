"""The operators' side under load (issue 13 "Performance"), on PostgreSQL by default.

    .venv/bin/python bench/bench_operators.py
    .venv/bin/python bench/bench_operators.py --visits-per-day 2000 --days 30 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/iq_bench_operators

Loads the Winter Health demo, then ``--days`` days of ``--visits-per-day`` booked visits
at one location (patient data encrypted with a PHI key, as in production), plus a scheduler
with a console session and an operator API token. Then, against real uvicorn processes
(one worker, pinned to core 0; the load generator on core 1):

1. **Day view**: ``GET /admin/visits?date=D&location=L`` with the day's 2,000 visits, one
   request at a time over a keep-alive connection: time per page (target < 150 ms).
2. **Visits list**: ``GET /admin/api/visits`` pages of 50 with patient data decrypted
   (the scheduler's token: 50 audited patient-data reads each), driven by wrk for
   ``--seconds``: requests/s (target >= 300), the server's and the PostgreSQL backends'
   CPU per request (``--profile PATH``: py-spy on the worker meanwhile).
3. **Audit cost**: the same single-visit read and 50-visit page, one at a time, against
   the server and against a second server whose audit writes are switched off
   (``app_without_audit`` below), interleaved: the median difference is what the audit
   entries add to a request (target < 2 ms). On a shared machine that difference is
   mostly scheduling noise and the WAL flush every write transaction pays, so two more
   figures separate them: the commit floor (a one-row INSERT + COMMIT against a SELECT +
   COMMIT) and ``audit.write`` itself in-process (its statement alone, and with the
   commit).

A PostgreSQL database named in ``--database-url`` is created for the run and dropped
afterwards (``--keep`` keeps it); it must not exist yet.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, make_url, select, text, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

from bench.bench_booking import cpu_seconds as process_cpu  # noqa: E402
from bench.harness import (  # noqa: E402
    Request,
    Server,
    cpu_seconds,
    create_postgres_database,
    database_version,
    drop_postgres_database,
    ensure_wrk,
    fetch,
    is_postgres,
    run_wrk,
    write_requests,
)
from bench.profiling import Profiler  # noqa: E402
from inquicker.booking import phi  # noqa: E402
from inquicker.booking.models import Visit  # noqa: E402
from inquicker.bundle.demo import load_demo  # noqa: E402
from inquicker.catalog.models import Location  # noqa: E402
from inquicker.catalog.schedule_models import Schedule  # noqa: E402
from inquicker.console.web import COOKIE  # noqa: E402
from inquicker.db.engine import make_engine, make_sessionmaker, transaction  # noqa: E402
from inquicker.db.migrate import upgrade  # noqa: E402
from inquicker.operators import accounts, audit  # noqa: E402
from inquicker.operators.auth import start_session  # noqa: E402
from inquicker.operators.models import Operator  # noqa: E402
from inquicker.tenancy.models import HealthSystem, Site, SiteHealthSystem  # noqa: E402

SECRET = "bench-operators-secret-0123456789abcdef01"  # noqa: S105 - a throwaway bench server
PHI_KEY = base64.b64encode(b"bench-operators-phi-key-32-bytes").decode()
LOCATION = "chattanooga-downtown"
EMAIL = "scheduler@bench.example"


def app_without_audit() -> Starlette:
    """The app with audit writes switched off: the baseline of the audit-cost measurement."""
    from inquicker.app import app_from_env
    from inquicker.operators import audit

    audit.write = lambda *_args, **_kwargs: None  # type: ignore[assignment]
    # A page's entries (its own fast path; older code has none).
    if hasattr(audit, "write_reads"):
        audit.write_reads = lambda *_args, **_kwargs: None
    return app_from_env()


# --- the data set --------------------------------------------------------------------------


def build(url: str, days: int, per_day: int) -> dict[str, Any]:
    """Demo catalog, visits, a scheduler with a console session and an API token."""
    engine = make_engine(url)
    upgrade(engine)
    key = phi.decode_key(PHI_KEY)
    with transaction(make_sessionmaker(engine)) as session:
        load_demo(session)
        hs = session.scalars(select(HealthSystem).where(HealthSystem.slug == "winter-health")).one()
        site_pk = session.scalars(
            select(SiteHealthSystem.site_pk).where(SiteHealthSystem.health_system_pk == hs.pk)
        ).first()
        location_pk = session.scalars(
            select(Location.pk).where(Location.health_system_pk == hs.pk, Location.slug == LOCATION)
        ).one()
        schedules = session.execute(
            select(Schedule.pk, Schedule.time_zone_name).where(Schedule.location_pk == location_pk)
        ).all()
        zone = ZoneInfo(schedules[0].time_zone_name)
        first = date.today() + timedelta(days=7)
        number = _visits(session, hs.pk, site_pk, schedules, zone, first, days, per_day, key)
        session.execute(
            update(HealthSystem)
            .where(HealthSystem.pk == hs.pk)
            .values(last_confirmation_number=number)
        )
        accounts.create(
            session,
            health_system="winter-health",
            email=EMAIL,
            role="scheduler",
        )
        token = accounts.issue_token(session, EMAIL)[1]
        operator = session.scalars(select(Operator).where(Operator.email == EMAIL)).one()
        cookie = start_session(session, operator, datetime.now(UTC))
        some_visit = session.scalars(
            select(Visit.visit_id).where(Visit.health_system_pk == hs.pk).limit(1)
        ).one()
        hostname = session.scalars(select(Site.hostname).where(Site.pk == site_pk)).one()
    engine.dispose()
    return {
        "day": first.isoformat(),
        "token": token,
        "cookie": cookie,
        "visit": some_visit,
        "hostname": hostname,
        "visits": days * per_day,
    }


def _visits(
    session: Session,
    hs_pk: int,
    site_pk: int,
    schedules: list[Any],
    zone: ZoneInfo,
    first: date,
    days: int,
    per_day: int,
    key: bytes,
) -> int:
    """``per_day`` visits on each of ``days`` days from ``first``, 08:00-18:00 local, spread
    over the location's schedules; the last confirmation number."""
    number = 0
    for offset in range(days):
        day = first + timedelta(days=offset)
        opens = int(datetime(day.year, day.month, day.day, 8, tzinfo=zone).timestamp())
        rows = []
        for n in range(per_day):
            number += 1
            patient = {
                "first-name": f"Pat{n:04d}",
                "last-name": f"Bench{offset:02d}",
                "email": f"pat{number}@example.org",
                "phone-number": "423-555-0100",
                "birthdate": "1980-01-01",
                "patient-complaint": "Annual check-up",
            }
            rows.append(
                {
                    "visit_id": uuid.uuid4().hex,
                    "health_system_pk": hs_pk,
                    "site_pk": site_pk,
                    "schedule_pk": schedules[n % len(schedules)].pk,
                    "appointment_at": opens + (n * 10 * 3600 // per_day) // 900 * 900,
                    "confirmation_number": number,
                    "token_jti": str(uuid.uuid4()),
                    "fingerprint": "0" * 64,
                    "patient_data": phi.seal(patient, key),
                }
            )
        session.execute(insert(Visit), rows)
    session.execute(text("ANALYZE"))
    return number


# --- measurements --------------------------------------------------------------------------


def timed_gets(
    port: int, paths: list[str], headers: dict[str, str], rounds: int
) -> tuple[list[float], int]:
    """Each path ``rounds`` times, one at a time on one keep-alive connection: the
    milliseconds of each request (after one warm-up round) and the last body's size."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times: list[float] = []
    size = 0
    for round_ in range(rounds + 1):
        for path in paths:
            began = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - began) * 1000
            if response.status != 200:
                raise SystemExit(f"GET {path}: {response.status} {body[:300]!r}")
            size = len(body)
            if round_:
                times.append(elapsed)
    conn.close()
    return times, size


def commit_floor(url: str, rounds: int) -> dict[str, float]:
    """A one-row INSERT + COMMIT against a SELECT + COMMIT on the same database,
    interleaved: what any write transaction pays for the WAL flush on this disk, whatever
    it writes (an audited read is a write transaction; the same read unaudited is not)."""
    engine = make_engine(url)
    reads: list[float] = []
    writes: list[float] = []
    with engine.connect() as conn:
        # A logged table (a temporary one writes no WAL, so it would flush nothing).
        conn.execute(text("CREATE TABLE bench_floor_probe (n integer)"))
        conn.commit()
        for _ in range(rounds):
            for sql, into in (
                ("SELECT 1", reads),
                ("INSERT INTO bench_floor_probe VALUES (1)", writes),
            ):
                began = time.perf_counter()
                conn.execute(text(sql))
                conn.commit()
                into.append((time.perf_counter() - began) * 1000)
        conn.execute(text("DROP TABLE bench_floor_probe"))
        conn.commit()
    engine.dispose()
    a, b = statistics.median(writes), statistics.median(reads)
    return {"write_commit_p50_ms": round(a, 3), "read_commit_p50_ms": round(b, 3)}


def audit_write_cost(url: str, rounds: int) -> dict[str, Any]:
    """audit.write itself, in-process and interleaved with an empty transaction: the
    statement alone (rolled back) and the statement with its commit (the WAL flush)."""
    engine = make_engine(url)
    out: dict[str, Any] = {}
    for entries in (1, 50):
        records = [
            # Random ids, as visits have: sequential ones would touch one page of the
            # visit_id index where real entries touch one per entry.
            audit.Record(EMAIL, "visit.read", None, uuid.uuid4().hex, True, "127.0.0.1")
            for _ in range(entries)
        ]
        empty: list[float] = []
        rolled: list[float] = []
        committed: list[float] = []
        with engine.connect() as conn:
            for _ in range(rounds):
                for into, write, keep in (
                    (empty, False, False),
                    (rolled, True, False),
                    (committed, True, True),
                ):
                    began = time.perf_counter()
                    with conn.begin() as txn:
                        conn.execute(text("SELECT 1"))
                        if write:
                            audit.write(conn, datetime.now(UTC), *records)
                        if not keep:
                            txn.rollback()
                    into.append((time.perf_counter() - began) * 1000)
        base = statistics.median(empty)
        out[f"{entries}_entries"] = {
            "statement_ms": round(statistics.median(rolled) - base, 3),
            "with_commit_ms": round(statistics.median(committed) - base, 3),
        }
    engine.dispose()
    return out


def _free_port() -> int:
    """A port nobody listens on now (other benchmarks may run on this machine)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
        "max_ms": round(ordered[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/iq_bench_operators",
    )
    parser.add_argument("--visits-per-day", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30, help="days of visits in the table")
    parser.add_argument("--rounds", type=int, default=30, help="day-view pages timed")
    parser.add_argument("--seconds", type=float, default=10, help="wrk run of the visits list")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--audit-rounds", type=int, default=300)
    parser.add_argument(
        "--port", type=int, default=0, help="first of two ports (default: two free ones)"
    )
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy the worker during the visits list's timed run (collapsed stacks here)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    url = args.database_url
    if is_postgres(url):
        create_postgres_database(url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-operators-"))
    servers: list[Server] = []
    try:
        began = time.monotonic()
        data = build(url, args.days, args.visits_per_day)
        print(f"data: {data['visits']} visits in {time.monotonic() - began:.1f} s", flush=True)
        env = {
            "INQUICKER_ENV": "production",
            "INQUICKER_DATABASE_URL": url,
            "INQUICKER_SECRET_KEY": SECRET,
            "INQUICKER_PHI_KEY": PHI_KEY,
            "INQUICKER_RATE_LIMIT": "",
            "INQUICKER_ACCESS_LOG": "false",
            "INQUICKER_LOG_LEVEL": "WARNING",
            "INQUICKER_RUN_WORKER": "false",
        }
        ports = (args.port, args.port + 1) if args.port else (_free_port(), _free_port())
        server = Server(
            "inquicker.app:app_from_env", ports[0], env, workdir / "server.log", factory=True
        ).start()
        servers.append(server)
        bare = Server(
            "bench.bench_operators:app_without_audit",
            ports[1],
            env,
            workdir / "bare.log",
            factory=True,
        ).start()
        servers.append(bare)
        results: dict[str, Any] = {
            "database": database_version(url),
            "visits_in_table": data["visits"],
            "load_average_at_start": os.getloadavg(),
        }

        # 1. The day view of one location, 2,000 visits.
        cookie = {"Cookie": f"{COOKIE}={data['cookie']}"}
        page = f"/admin/visits?date={data['day']}&location={LOCATION}"
        times, size = timed_gets(server.port, [page], cookie, args.rounds)
        results["day_view"] = {**summary(times), "bytes": size, "target_ms": 150}
        print("day view:", results["day_view"], flush=True)

        # 2. The operator visits list, pages of 50 with patient data, under wrk.
        auth = f"Bearer {data['token']}"
        base = (
            f"/admin/api/visits?filter[from]={data['day']}&filter[to]={data['day']}"
            f"&filter[location]={LOCATION}&page[size]=50"
        )
        pages = args.visits_per_day // 50
        requests = [
            Request("GET", f"{base}&page[number]={n % pages + 1}", auth) for n in range(pages)
        ]
        status, body = fetch(server.base, requests[0])
        assert status == 200, body[:300]
        document = json.loads(body)
        assert len(document["data"]) == 50 and "patient" in document["data"][0]["attributes"]
        wrk = ensure_wrk()
        listing = write_requests(workdir / "list.txt", requests)
        run_wrk(wrk, server.base, listing, seconds=2, connections=args.connections)  # warm-up
        pid = server.worker_pid()
        profiler = Profiler(pid, args.profile) if args.profile else None
        if profiler is not None:
            profiler.__enter__()
        database = make_url(url).database if is_postgres(url) else None
        cpu_before = cpu_seconds(pid)
        backends_before = process_cpu(database=database) if database else 0.0
        loaded = run_wrk(
            wrk, server.base, listing, seconds=args.seconds, connections=args.connections
        )
        cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / max(loaded.requests, 1)
        backends_ms = (
            (process_cpu(database=database) - backends_before) * 1000 / max(loaded.requests, 1)
            if database
            else None
        )
        if profiler is not None:
            profiler.__exit__()
            for inclusive, own, frame in profiler.summary(25):
                print(f"  {inclusive:5.1f}% {own:5.1f}%  {frame}", flush=True)
        results["visits_list"] = {
            **loaded.as_dict(),
            "target_rps": 300,
            # The server's own CPU per request: on a shared machine the load-independent
            # figure (one idle core serves about 1000 / cpu_ms_per_request requests/s,
            # the database's work aside).
            "server_cpu_ms_per_request": round(cpu_ms, 2),
            # The PostgreSQL backends' CPU per request: on this 2-core machine they share
            # the other core with wrk, so they bound requests/s too.
            "postgres_cpu_ms_per_request": round(backends_ms, 2) if backends_ms else None,
        }
        print("visits list:", results["visits_list"], flush=True)

        # 3. What audit writes add: interleaved runs against the server and the bare one.
        headers = {"Authorization": auth}
        one = f"/admin/api/visits/{data['visit']}"
        cost: dict[str, Any] = {}
        for name, path, entries in (("one_visit", one, 1), ("page_of_50", requests[0].path, 50)):
            with_audit: list[float] = []
            without: list[float] = []
            for _ in range(5):
                with_audit += timed_gets(server.port, [path], headers, args.audit_rounds // 5)[0]
                without += timed_gets(bare.port, [path], headers, args.audit_rounds // 5)[0]
            a, b = statistics.median(with_audit), statistics.median(without)
            cost[name] = {
                "audit_entries": entries,
                "with_audit_p50_ms": round(a, 3),
                "without_audit_p50_ms": round(b, 3),
                "added_ms": round(a - b, 3),
                "target_ms": 2,
            }
            print(f"audit cost {name}:", cost[name], flush=True)
        cost["commit_flush_floor"] = commit_floor(url, args.audit_rounds)
        print("commit flush floor:", cost["commit_flush_floor"], flush=True)
        cost["in_process"] = audit_write_cost(url, args.audit_rounds)
        print("audit.write in process:", cost["in_process"], flush=True)
        results["audit_cost"] = cost
        results["load_average_at_end"] = os.getloadavg()
        print(json.dumps(results, indent=2))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        for s in servers:
            s.stop()
        if is_postgres(url) and not args.keep:
            drop_postgres_database(url)


if __name__ == "__main__":
    main()
