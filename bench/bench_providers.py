"""Provider search on a large generated health system (issue: search surface performance).

    .venv/bin/python bench/bench_providers.py [--providers 5000 --schedules 20000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]

Imports a generated bundle through the real importer, then times requests in-process
through the ASGI app (no network), printing p50/p95 per request and the queries per request.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import HOSTNAME, generate
from inquicker.app import create_app
from inquicker.bundle.importer import import_bundle
from inquicker.db.engine import make_engine, make_sessionmaker, transaction
from inquicker.db.migrate import upgrade
from inquicker.settings import Settings
from inquicker.tenancy.keys import create_key

QUERIES = [
    "providers?filter[near]=[36.16,-86.78]&include=schedules",
    "providers?filter[near]=[36.16,-86.78]&include=schedules&page[size]=50",
    "providers?filter[gender]=female&filter[language]=spanish&include=schedules",
    "schedules?filter[service]=service-3&include=location,provider,insurance-plans",
    "locations/location-7/schedules?include=insurance-plans",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--providers", type=int, default=5000)
    parser.add_argument("--schedules", type=int, default=20000)
    parser.add_argument("--locations", type=int, default=500)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with transaction(make_sessionmaker(engine)) as session:
        import_bundle(session, generate(args.providers, args.schedules, args.locations))
        key = create_key(session, HOSTNAME, "bench", ("read",)).secret
    print(
        f"database: {engine.url.get_backend_name()}; import took "
        f"{time.perf_counter() - started:.1f} s"
    )

    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    app = create_app(Settings(env="test", access_log=False), engine=engine)
    print(f"{'request':<80} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    with TestClient(app) as client:
        for query in QUERIES:
            path = (
                f"/api/v3/{HOSTNAME}/{query}&api_key={key}"
                if "?" in query
                else f"/api/v3/{HOSTNAME}/{query}?api_key={key}"
            )
            client.get(path)  # warm caches and the pool
            samples = []
            for _ in range(args.runs):
                statements = 0
                t0 = time.perf_counter()
                response = client.get(path)
                samples.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, response.text
            samples.sort()
            p95 = samples[int(len(samples) * 0.95) - 1]
            print(f"{query:<80} {statistics.median(samples):8.1f} {p95:8.1f} {statements:8d}")


if __name__ == "__main__":
    main()
