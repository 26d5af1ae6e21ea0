"""Webhook delivery: events/s from one worker, and booking -> receiver latency.

    .venv/bin/python bench/bench_webhooks.py                       # PostgreSQL (temp db)
    .venv/bin/python bench/bench_webhooks.py --events 5000 --bookings 100 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/iq_bench_webhooks

1. Throughput: ``--events`` events are written and positioned up front, one subscription
   points at a local receiver (a separate process, HTTP/1.1 keep-alive, answering 200), and
   one ``Deliverer`` (the worker's loop: fan out, claim, send concurrently, record) runs
   until every delivery is delivered. events/s = deliveries / wall time.
2. Latency: a real ``inquicker serve`` with its in-process deliverer (the default), and
   ``--bookings`` visits booked one after another through HTTP; latency = when the
   receiver got ``visit.booked`` minus when ``POST /visits`` answered.

The PostgreSQL database named is created for the run and dropped afterwards.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402
import orjson  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from tests.reliability.fixture import CROWD, SECRET, build, days_ahead, visit_body  # noqa: E402
from tests.reliability.helpers import mint, offered_times, post_visit  # noqa: E402

from bench.harness import create_postgres_database, drop_postgres_database  # noqa: E402
from inquicker.db.base import utcnow  # noqa: E402
from inquicker.db.engine import make_engine, make_sessionmaker  # noqa: E402
from inquicker.db.migrate import upgrade  # noqa: E402
from inquicker.db.models import Base  # noqa: E402
from inquicker.events.models import Event, WebhookDelivery  # noqa: E402
from inquicker.events.sequencer import assign_positions  # noqa: E402
from inquicker.events.subscriptions import create_subscription  # noqa: E402
from inquicker.events.worker import Deliverer, WorkerConfig  # noqa: E402


def _receiver(port: int, arrivals: Any) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            if arrivals is not None:
                body = orjson.loads(raw)
                arrivals.put((time.time(), body["type"], body["data"]["visit"]["id"]))
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 512
        daemon_threads = True

    Server(("127.0.0.1", port), Handler).serve_forever()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def throughput(url: str, events: int, concurrency: int) -> float:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as session, session.begin():
        hs_pk = build(session).health_system_pk
    port = _free_port()
    rx = multiprocessing.get_context("spawn").Process(target=_receiver, args=(port, None))
    rx.start()
    time.sleep(1.0)
    with factory() as session, session.begin():
        create_subscription(session, "reliable", f"http://127.0.0.1:{port}/in")
    payload = {"health-system": "reliable", "visit": {"id": "bench", "status": "booked"}}
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(Event),
            [
                {
                    "health_system_pk": hs_pk,
                    "visit_pk": None,
                    "type": "visit.booked",
                    "occurred_at": now,
                    "payload": payload,
                }
                for _ in range(events)
            ],
        )
    with engine.begin() as conn:
        assign_positions(conn)
    deliverer = Deliverer(engine, None, WorkerConfig(concurrency=concurrency))
    delivered = (
        select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.status == "delivered")
    )
    # The worker's own loop (Deliverer.run: pipelined claim/send/record), in a thread; the
    # clock stops when the database says every delivery is delivered (polled every 20 ms).
    stop = threading.Event()
    runner = threading.Thread(target=deliverer.run, args=(stop,))
    cpu_before = time.process_time()
    started = time.perf_counter()
    runner.start()
    done = 0
    while done < events:
        time.sleep(0.02)
        with engine.connect() as conn:
            done = conn.execute(delivered).scalar_one()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    stop.set()
    runner.join()
    deliverer.close()
    rx.terminate()
    engine.dispose()
    print(
        f"throughput: {events} events delivered ({done} rows) in {elapsed:.2f} s "
        f"= {events / elapsed:.0f} events/s (one worker, concurrency {concurrency}); "
        f"worker process CPU {cpu * 1000 / events:.2f} ms/event"
    )
    return events / elapsed


def latency(url: str, bookings: int) -> float:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as session, session.begin():
        tenant = build(session, hold_minutes=0)
    ctx = multiprocessing.get_context("spawn")
    arrivals = ctx.Queue()
    rx_port, port = _free_port(), _free_port()
    rx = ctx.Process(target=_receiver, args=(rx_port, arrivals))
    rx.start()
    with factory() as session, session.begin():
        create_subscription(session, "reliable", f"http://127.0.0.1:{rx_port}/in")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INQUICKER_")},
        "INQUICKER_ENV": "test",
        "INQUICKER_DATABASE_URL": url,
        "INQUICKER_SECRET_KEY": SECRET,
        "INQUICKER_ACCESS_LOG": "false",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/inquicker"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    answered: dict[str, float] = {}
    try:
        with httpx2.Client(base_url=base, timeout=30) as client:
            for _ in range(300):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.1)
            slots = offered_times(client, tenant.key, CROWD, days_ahead(3).isoformat())
            # Let the deliverer process start (imports) before timing.
            warm = post_visit(
                client,
                mint(client, tenant.key, CROWD, slots[0]),
                visit_body(CROWD, slots[0], "Warm"),
            )
            assert warm.status_code == 201
            arrivals.get(timeout=120)
            for n in range(bookings):
                slot = slots[(n + 1) % len(slots)]
                token = mint(client, tenant.key, CROWD, slot)
                response = post_visit(client, token, visit_body(CROWD, slot, f"Lat{n}"))
                assert response.status_code == 201, response.text
                answered[response.json()["data"]["id"]] = time.time()
                time.sleep(0.05)
        got: dict[str, float] = {}
        while len(got) < bookings:
            at, _kind, visit_id = arrivals.get(timeout=60)
            if visit_id in answered:
                got.setdefault(visit_id, at)
    finally:
        server.terminate()
        server.wait(timeout=30)
        rx.terminate()
        engine.dispose()
    lat = sorted(max(0.0, got[v] - answered[v]) for v in answered)
    p50 = statistics.median(lat)
    p95 = lat[int(len(lat) * 0.95) - 1]
    print(
        f"latency booking -> receiver (in-process deliverer, {bookings} bookings): "
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms"
    )
    return p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/iq_bench_webhooks"
    )
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--bookings", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    url = args.database_url
    if url.startswith("postgresql"):
        drop_postgres_database(url)
        create_postgres_database(url)
    try:
        upgrade(make_engine(url))
        throughput(url, args.events, args.concurrency)
        # A fresh tenant for the latency run (the throughput tenant's events are done).
        engine = make_engine(url)
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        engine.dispose()
        latency(url, args.bookings)
    finally:
        if url.startswith("postgresql"):
            drop_postgres_database(url)


if __name__ == "__main__":
    main()
