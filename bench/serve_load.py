"""One URL under load against a real server process (a quick look; the full suite is
bench/suite.py): one uvicorn worker pinned to core 0, wrk pinned to core 1.

    .venv/bin/python bench/serve_load.py availability [--seconds 10] [--connections 16]
    .venv/bin/python bench/serve_load.py providers [--distinct]
    .venv/bin/python bench/serve_load.py health

Generates and imports a synthetic health system (bench/dataset.py: the 10 availability
schedules ~30% booked), starts ``uvicorn`` with one worker, drives it with ``wrk``
(installed from Debian's packages if missing) and prints requests/s and latency
percentiles. ``--distinct`` gives every request its own query string (no response cache).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import dataset
from bench.harness import (
    SECRET,
    Request,
    Server,
    create_postgres_database,
    drop_postgres_database,
    ensure_wrk,
    fetch,
    is_postgres,
    run_wrk,
    write_requests,
)
from bench.scenarios import get_paths

PATHS = {"availability": "availability", "providers": "providers-near"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=["availability", "providers", "health"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--providers", type=int, default=1000)
    parser.add_argument("--schedules", type=int, default=4000)
    parser.add_argument("--locations", type=int, default=100)
    parser.add_argument("--booked-seats", type=int, default=20_000)
    parser.add_argument("--distinct", action="store_true", help="a distinct URL per request")
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--database-url", default=None, help="default: a temp SQLite file")
    args = parser.parse_args()

    wrk = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="serve-load-"))
    url = args.database_url or f"sqlite:///{workdir}/load.db"
    if is_postgres(url):
        create_postgres_database(url)
    server = None
    try:
        data = dataset.build(url, args.providers, args.locations, args.schedules, args.booked_seats)
        print(f"imported in {data.import_seconds} s; {data.booked_seats} seats booked")
        env = {
            "INQUICKER_ENV": "production",
            "INQUICKER_DATABASE_URL": url,
            "INQUICKER_SECRET_KEY": SECRET,
            "INQUICKER_ACCESS_LOG": "false",
            "INQUICKER_LOG_LEVEL": "WARNING",
        }
        server = Server(
            "inquicker.app:app_from_env", args.port, env, workdir / "server.log", factory=True
        ).start()
        if args.scenario == "health":
            request = Request("GET", "/healthz")
        else:
            request = Request("GET", get_paths(data)[PATHS[args.scenario]], data.auth)
        status, body = fetch(server.base, request)
        print(f"status {status}, {len(body)} bytes per response")
        result = run_wrk(
            wrk,
            server.base,
            write_requests(workdir / "requests.txt", [request]),
            seconds=args.seconds,
            connections=args.connections,
            nonce="d" if args.distinct else None,
        )
        print(
            f"latency ms  p50 {result.p50_ms}  p90 {result.p90_ms}  p99 {result.p99_ms}  "
            f"max {result.max_ms}; {result.requests} requests, errors {result.errors}"
        )
        print(f"RESULT {args.scenario}: {result.rps} req/s")
    finally:
        if server is not None:
            server.stop()
        if is_postgres(url):
            drop_postgres_database(url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
