"""HTTP load against a real server process: one uvicorn worker pinned to core 0, wrk on core 1.

    .venv/bin/python bench/serve_load.py availability [--seconds 10] [--connections 16]
    .venv/bin/python bench/serve_load.py providers

Generates and imports a synthetic health system (bench/generate.py sizes), books ~30% of
the cells of the schedules under test, starts `uvicorn` with one worker, drives it with
`wrk` from a second process (installed from Debian's packages if missing) and prints
requests/s and latency percentiles.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bench.generate import HOSTNAME, generate
from inquicker.availability.engine import covered_cells
from inquicker.availability.models import SeatClaim
from inquicker.availability.repository import load_schedules
from inquicker.bundle.importer import import_bundle
from inquicker.db.engine import make_engine, make_sessionmaker, transaction
from inquicker.db.migrate import upgrade
from inquicker.tenancy.keys import create_key

ROOT = Path(__file__).resolve().parent.parent


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def prepare(url: str, providers: int, schedules: int) -> tuple[str, list[str]]:
    """Import the synthetic data set, book ~30% of cells of 10 schedules; (key, ids)."""
    engine = make_engine(url)
    upgrade(engine)
    doc = generate(providers, schedules, max(10, providers // 10))
    ids = [s["id"] for s in doc["schedules"][:10]]
    now = datetime.now(UTC)
    with transaction(make_sessionmaker(engine)) as session:
        result = import_bundle(session, doc)
        key = create_key(session, HOSTNAME, "bench", ("read", "book")).secret
        loaded = load_schedules(
            session, _hs_pks(session), ids, now.date(), (now + timedelta(days=15)).date()
        )
        rows = []
        for schedule in loaded.values():
            start = int(now.timestamp()) // 900 * 900
            for n, cell in enumerate(range(start, start + 14 * 86400, 900)):
                if n % 10 < 3 and covered_cells(schedule.rules, cell, 15):
                    rows.append({"schedule_pk": schedule.pk, "cell_start": cell, "seat": 0})
        if rows:
            session.execute(insert(SeatClaim), rows)
    print(f"imported {result.health_system}; {len(rows)} seats booked", flush=True)
    engine.dispose()
    return key, ids


def _hs_pks(session: object) -> list[int]:
    from sqlalchemy import select

    from inquicker.tenancy.models import HealthSystem

    return list(session.execute(select(HealthSystem.pk)).scalars())  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["availability", "providers", "health"])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--providers", type=int, default=1000)
    parser.add_argument("--schedules", type=int, default=4000)
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    wrk = ensure_wrk()
    workdir = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{workdir}/load.db"
    key, ids = prepare(url, args.providers, args.schedules)
    base = f"http://127.0.0.1:{args.port}/api/v3/{HOSTNAME}"
    path = {
        "availability": "/available-appointment-times?"
        + "&".join(f"schedule_ids[]={i}" for i in ids),
        "providers": "/providers?filter[near]=[36.16,-86.78]&include=schedules",
        "health": "",
    }[args.scenario]
    target = f"{base}{path}{'&' if '?' in path else '?'}api_key={key}"
    if args.scenario == "health":
        target = f"http://127.0.0.1:{args.port}/healthz"

    env = {
        **os.environ,
        "INQUICKER_DATABASE_URL": url,
        "INQUICKER_ACCESS_LOG": "false",
        "INQUICKER_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            "taskset",
            "-c",
            "0",
            str(ROOT / ".venv/bin/uvicorn"),
            "inquicker.app:app_from_env",
            "--factory",
            "--port",
            str(args.port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        with urllib.request.urlopen(target, timeout=10) as response:
            print(f"status {response.status}, {len(response.read())} bytes per response")
        out = subprocess.run(
            [
                "taskset",
                "-c",
                "1",
                wrk,
                "-t1",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--latency",
                target,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        print(out.replace(key, "<key>"))
        print(f"RESULT {args.scenario}: {rps.group(1) if rps else '?'} req/s")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
