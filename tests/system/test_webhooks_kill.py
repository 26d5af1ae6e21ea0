"""A real `inquicker serve` and `inquicker worker` on PostgreSQL; the worker is killed with
SIGKILL in the middle of a burst of 200 bookings (and 50 cancellations) and restarted.

Every event must reach the receiver (which verifies every signature with the
``standardwebhooks`` library) at least once, each visit's events in order, and a duplicate
only ever as the same event under the same ``webhook-id``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import IO, Any

import httpx2
import orjson
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.events.models import Event
from inquicker.events.subscriptions import create_subscription
from tests.events.receiver import running_receiver
from tests.reliability.fixture import CROWD, SECRET, build, days_ahead, visit_body
from tests.reliability.helpers import JSONAPI, PREFIX, mint, offered_times, post_visit
from tests.reliability.servers import ROOT, free_port

pytestmark = pytest.mark.system

INQUICKER = ROOT / ".venv" / "bin" / "inquicker"
VISITS = 200
CANCEL_EVERY = 4  # every 4th visit is cancelled too: 250 events
KILL_AFTER = 80  # bookings done when the worker is killed


def _env(database_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("INQUICKER_")},
        "INQUICKER_ENV": "test",
        "INQUICKER_DATABASE_URL": database_url,
        "INQUICKER_SECRET_KEY": SECRET,
        "INQUICKER_ACCESS_LOG": "false",
        "INQUICKER_RUN_WORKER": "false",  # the worker runs (and dies) on its own here
        "INQUICKER_WEBHOOK_TIMEOUT": "2",
        "INQUICKER_WEBHOOK_LEASE_SECONDS": "10",  # the test waits for a lease to run out
    }


@contextmanager
def _process(
    args: list[str], env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[bytes], IO[bytes]]]:
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(INQUICKER), *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield process, log
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()


def _output(log: IO[bytes]) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, _output(log)
        try:
            if httpx2.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not healthy:\n{_output(log)}")


def _wait_for(condition: Callable[[], bool], seconds: float, log: IO[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, _output(log)
        time.sleep(0.1)


def _book_and_maybe_cancel(base: str, key: str, slot: str, n: int) -> None:
    with httpx2.Client(base_url=base, timeout=60.0) as client:
        token = mint(client, key, CROWD, slot)
        response = post_visit(client, token, visit_body(CROWD, slot, f"Burst{n}"))
        assert response.status_code == 201, response.text
        resource = response.json()["data"]
        if n % CANCEL_EVERY == 0:
            cancel = client.patch(
                f"{PREFIX}/visits/{resource['id']}",
                content=orjson.dumps(
                    {
                        "data": {
                            "type": "visits",
                            "id": resource["id"],
                            "attributes": {"status": "cancelled"},
                        }
                    }
                ),
                headers={
                    "Authorization": f"Bearer {resource['meta']['management-token']}",
                    "Content-Type": JSONAPI,
                    "Accept": JSONAPI,
                },
            )
            assert cancel.status_code == 200, cancel.text


# Several workers claim with SKIP LOCKED on PostgreSQL; SQLite runs one worker.
@pytest.mark.postgres
def test_kill_9_the_worker_mid_burst_loses_no_event(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        tenant = build(session, hold_minutes=0)
    env = _env(engine.url.render_as_string(hide_password=False))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        running_receiver() as rx,
        _process(["serve", "--port", str(port)], env) as (server, server_log),
    ):
        with session_factory() as session, session.begin():
            rx.secret = create_subscription(session, "reliable", rx.base + "/in").secret
        _wait_healthy(base, server, server_log)
        with httpx2.Client(base_url=base, timeout=60.0) as client:
            slots = offered_times(client, tenant.key, CROWD, days_ahead(2).isoformat())
        # 15 seats per slot: spread the visits over the day's slots.
        plan = [(n, slots[n % len(slots)]) for n in range(VISITS)]
        with _process(["worker"], env) as (worker, worker_log), ThreadPoolExecutor(8) as pool:
            # The first visit's event proves the worker is up (start-up is slow on a busy
            # machine) before the burst it is killed in.
            _book_and_maybe_cancel(base, tenant.key, plan[0][1], 0)
            _wait_for(lambda: len(rx.received) >= 1, 120, worker_log)
            first = [
                pool.submit(_book_and_maybe_cancel, base, tenant.key, s, n)
                for n, s in plan[1:KILL_AFTER]
            ]
            for f in first:
                f.result()
            rest = [
                pool.submit(_book_and_maybe_cancel, base, tenant.key, s, n)
                for n, s in plan[KILL_AFTER:]
            ]
            time.sleep(0.3)
            # Mid-burst: the worker has been delivering while bookings arrive.
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            received_at_kill = len(rx.received)
            for f in rest:
                f.result()
        assert received_at_kill > 1
        with _process(["worker"], env) as (_again, again_log):
            with session_factory() as session:
                events = session.execute(select(Event.pk, Event.visit_pk)).all()
            assert len(events) == VISITS + VISITS // CANCEL_EVERY
            wanted = {str(e.pk) for e in events}
            # Leases of the killed worker run out after 10 s here (60 s by default).
            _wait_for(lambda: wanted <= set(rx.ids()), 180, again_log)

    with session_factory() as session:
        positions = {pk: pos for pk, pos in session.execute(select(Event.pk, Event.position)).all()}
    assert all(r.verified for r in rx.received)
    # Duplicates only as the same event under the same webhook-id.
    bodies: dict[str, Any] = {}
    per_visit: dict[str, list[int]] = defaultdict(list)
    for r in rx.received:
        event_id = r.headers["webhook-id"]
        assert r.body["data"]["id"] == event_id
        assert bodies.setdefault(event_id, r.body) == r.body
        per_visit[r.body["data"]["visit"]["id"]].append(positions[int(event_id)])
    assert len(per_visit) == VISITS
    # Each visit's events arrive in feed order (a re-sent one never after a later event).
    for visit_positions in per_visit.values():
        assert visit_positions == sorted(visit_positions)
    types = defaultdict(set)
    for r in rx.received:
        types[r.body["data"]["visit"]["id"]].add(r.body["type"])
    assert sum(1 for t in types.values() if t == {"visit.booked", "visit.cancelled"}) == 50
