"""Catalog reads on a real PostgreSQL streaming replica (INQUICKER_DATABASE_REPLICA_URLS).

A hot standby of the test server is started on this machine (tests/system/replica.py) and
the app is given it as its one replica. The replica logs every statement with its database,
so what it served is counted there, not only by the router's own counters. Proved: catalog
reads are answered by the replica and bookings (availability, visit token, visit) by the
primary; an import committed by another process, while reads go on with the response cache
as served, reaches them through the replica within the directory's one-second window; a
replica that has not replayed the tenant's data version is skipped until it has; a stopped
replica costs no error and is used again after its back-off.

In CI (CI=true) a machine that cannot run a replica is a failure; elsewhere the tests skip
saying why.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import psycopg
import pytest
from sqlalchemy import Engine, func, select

import inquicker.jsonapi.handlers as handlers
from inquicker.app import create_app
from inquicker.booking.models import Visit
from inquicker.bundle.importer import import_bundle
from inquicker.bundle.io import load_document, write_document
from inquicker.db.engine import make_sessionmaker
from inquicker.db.replicas import Replicas
from inquicker.settings import Settings
from inquicker.tenancy.directory import FRESH_SECONDS
from inquicker.tenancy.keys import create_key
from inquicker.tenancy.models import HealthSystem
from tests.conftest import IN_CI, PG_ADMIN_URL, ApiClient
from tests.reliability.fixture import SECRET, SOLO, Tenant, build, days_ahead, visit_body
from tests.reliability.helpers import PREFIX, mint, offered_times, post_visit
from tests.reliability.servers import ROOT
from tests.system.replica import Replica, ReplicaUnavailableError, streaming_replica

pytestmark = [pytest.mark.postgres, pytest.mark.system]

STEP_SECONDS = 60

INQUICKER = ROOT / ".venv" / "bin" / "inquicker"
# The demo bundle: imported once, then again with one location renamed.
BUNDLE = ROOT / "src" / "inquicker" / "bundle" / "data" / "winter-health.json"
DEMO_PREFIX = "/api/v3/winter-health.inquicker.com"
LOCATION = "chattanooga-downtown"
RENAMED = "Winter Health Chattanooga, renamed by an import"
# Catalog routes of each generic shape: list, show, related, relationship, include.
CATALOG_PATHS = (
    "/schedules",
    f"/schedules/{SOLO}",
    f"/locations/loc-{SOLO}",
    f"/schedules/{SOLO}/provider",
    f"/schedules/{SOLO}/relationships/location",
    "/providers?include=schedules",
)


@pytest.fixture(scope="module")
def replica() -> Iterator[Replica]:
    try:
        with streaming_replica(PG_ADMIN_URL) as running:
            yield running
    except ReplicaUnavailableError as exc:
        if IN_CI:
            pytest.fail(f"cannot run a streaming replica in CI: {exc}")
        pytest.skip(f"cannot run a streaming replica here: {exc}")


def _tenant(engine: Engine, replica: Replica) -> Tenant:
    """The reliability tests' booking tenant, replayed by the replica."""
    with make_sessionmaker(engine)() as session, session.begin():
        tenant = build(session)
    replica.wait_caught_up()
    return tenant


def _demo(engine: Engine, replica: Replica) -> str:
    """The demo health system, replayed by the replica; a read key for its site."""
    with make_sessionmaker(engine)() as session, session.begin():
        import_bundle(session, load_document(BUNDLE))
        key = create_key(session, "winter-health.inquicker.com", "replica tests", ("read",))
    replica.wait_caught_up()
    return key.secret


def _renamed_bundle() -> dict[str, Any]:
    document = load_document(BUNDLE)
    [location] = [loc for loc in document["locations"] if loc["id"] == LOCATION]
    location["name"] = RENAMED
    return document


@contextmanager
def _client(
    engine: Engine, replica: Replica, replicas: Replicas | None = None, *, cache: bool = False
) -> Iterator[tuple[ApiClient, Replicas]]:
    """The app with ``replica`` as its one replica (from the setting unless ``replicas``);
    without a response cache nor the replay of recorded answers unless ``cache``, so that
    every read reaches a database (a replayed read is answered from memory, on the event
    loop, by no database: tests/web/test_memory_reads.py)."""
    settings = Settings(
        env="test",
        access_log=False,
        secret_key=SECRET,
        response_cache_bytes=64 * 1024 * 1024 if cache else 0,
        database_url=engine.url.render_as_string(hide_password=False),
        database_replica_urls=replica.url(_database(engine)),
    )
    app = create_app(settings, engine=engine, replicas=replicas)
    replay = handlers.REPLAY
    handlers.REPLAY = cache
    try:
        with ApiClient(app, base_url="http://testserver") as client:
            routed: Replicas = app.state.replicas
            yield client, routed
    finally:
        handlers.REPLAY = replay


def _database(engine: Engine) -> str:
    name = engine.url.database
    assert name is not None
    return name


def _get(client: ApiClient, key: str, path: str, prefix: str = PREFIX) -> dict[str, Any]:
    path, _, query = path.partition("?")
    params = [("api_key", key), *parse_qsl(query)]
    response = client.get(prefix + path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _location_name(client: ApiClient, key: str) -> str:
    document = _get(client, key, f"/locations/{LOCATION}", DEMO_PREFIX)
    name: str = document["data"]["attributes"]["name"]
    return name


def _served(replicas: Replicas) -> int:
    [stats] = replicas.stats()
    return stats.served


def test_catalog_reads_on_the_replica_and_bookings_on_the_primary(
    engine: Engine, replica: Replica
) -> None:
    tenant = _tenant(engine, replica)
    database = _database(engine)
    with _client(engine, replica) as (client, replicas):
        mark = replica.log_size()
        for path in CATALOG_PATHS:
            _get(client, tenant.key, path)
        [stats] = replicas.stats()
        assert (stats.served, stats.behind, stats.failures) == (len(CATALOG_PATHS), 0, 0)
        assert replicas.primary_reads == 0
        # Counted on the replica itself: it ran the catalog queries of every request.
        ran = replica.statements(database, mark)
        for table in ("schedules", "locations", "providers"):
            assert any(f"FROM {table}" in line for line in ran), (table, ran)

        mark = replica.log_size()
        day = days_ahead(2).isoformat()
        [first, *_] = offered_times(client, tenant.key, SOLO, day)
        token = mint(client, tenant.key, SOLO, first)
        booked = post_visit(client, token, visit_body(SOLO, first, "Rita"))
        assert booked.status_code == 201, booked.text
        # Availability, the visit token and the visit never touched the replica.
        assert replica.statements(database, mark) == []
        assert _served(replicas) == len(CATALOG_PATHS)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Visit)) == 1


def test_an_import_reaches_replica_reads_within_the_window(
    engine: Engine, replica: Replica, tmp_path: Path
) -> None:
    key = _demo(engine, replica)
    bundle = tmp_path / "renamed.json"
    write_document(_renamed_bundle(), bundle)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INQUICKER_")},
        "INQUICKER_ENV": "test",
        "INQUICKER_DATABASE_URL": engine.url.render_as_string(hide_password=False),
    }
    # With the response cache, as served: documents are kept under the data versions read
    # with the tenant, so a replica that had not replayed the import would have them kept.
    with _client(engine, replica, cache=True) as (client, replicas):
        original = _location_name(client, key)
        assert original != RENAMED
        version = _data_version(engine)
        # Another process imports while this one keeps reading (so its memo of the tenant
        # is always fresh when the import commits): it learns of the import only through
        # the data version, read again once the memo's second has run out.
        importing = subprocess.Popen(
            [str(INQUICKER), "import", str(bundle)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        committed: float | None = None  # when the primary was first seen to have it
        answers: list[tuple[float, str, bool]] = []  # (started, name, by the replica)
        deadline = time.monotonic() + STEP_SECONDS
        while committed is None or time.monotonic() < committed + FRESH_SECONDS + 0.6:
            assert time.monotonic() < deadline, "the import did not commit"
            started = time.monotonic()
            if committed is None and _data_version(engine) > version:
                committed = started
            before = _served(replicas)
            name = _location_name(client, key)
            answers.append((started, name, _served(replicas) == before + 1))
            time.sleep(0.02)
        output, _ = importing.communicate(timeout=STEP_SECONDS)
        assert importing.returncode == 0, output
    timeline = [(round(at - committed, 3), name == RENAMED, by) for at, name, by in answers]
    names = [name for _, name, _ in answers]
    assert set(names) <= {original, RENAMED}
    # Requests begun a window after the commit all see the import (a little slack for the
    # request that read the tenant just before the commit), and none goes back to the old.
    late = [new for at, new, _ in timeline if at >= FRESH_SECONDS + 0.1]
    assert late and all(late), timeline
    first = names.index(RENAMED)
    assert names[first:] == [RENAMED] * (len(names) - first), timeline
    # ... and the replica served the imported data.
    assert any(new and by_replica for _, new, by_replica in timeline), timeline


def _data_version(engine: Engine) -> int:
    with engine.connect() as conn:
        version = conn.scalar(
            select(HealthSystem.data_version).where(HealthSystem.slug == "winter-health")
        )
    assert version is not None
    return version


def test_a_replica_behind_the_tenant_is_skipped_until_it_caught_up(
    engine: Engine, replica: Replica
) -> None:
    key = _demo(engine, replica)
    database = _database(engine)
    document = _renamed_bundle()
    with _client(engine, replica) as (client, replicas):
        assert _location_name(client, key) != RENAMED
        assert (_served(replicas), replicas.primary_reads) == (1, 0)
        with replica.connect() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
        try:
            with make_sessionmaker(engine)() as session, session.begin():
                import_bundle(session, document)
            # The replica has not replayed the import's data version: the primary answers.
            for _ in range(3):
                assert _location_name(client, key) == RENAMED
            [stats] = replicas.stats()
            assert (stats.served, stats.failures, replicas.primary_reads) == (1, 0, 3)
            assert stats.behind == 3
            assert _replica_location_name(replica, database) != RENAMED
        finally:
            with replica.connect() as conn:
                conn.execute("SELECT pg_wal_replay_resume()")
        replica.wait_caught_up()
        time.sleep(0.15)  # past the router's re-check interval for a replica found behind
        assert _location_name(client, key) == RENAMED
        assert _served(replicas) == 2


def test_a_stopped_replica_costs_no_error_and_is_retried(engine: Engine, replica: Replica) -> None:
    key = _demo(engine, replica)
    backoff = 1.0
    replicas = Replicas.from_urls(
        [replica.url(_database(engine))], retry_first=backoff, retry_max=backoff
    )
    with _client(engine, replica, replicas) as (client, routed):
        assert routed is replicas
        assert _location_name(client, key)
        assert _served(replicas) == 1
        replica.stop()
        try:
            started = time.monotonic()
            for path in ("/schedules", "/locations", f"/locations/{LOCATION}", "/services"):
                _get(client, key, path, DEMO_PREFIX)
            elapsed = time.monotonic() - started
            [stats] = replicas.stats()
            assert (stats.served, stats.down) == (1, True)
            assert stats.failures >= 1  # tried again only once a back-off has passed
            assert replicas.primary_reads == 4
            # A refused connection fails at once, and in its back-off it is not even tried.
            assert elapsed < 5, elapsed
        finally:
            replica.start()
        replica.wait_caught_up()
        time.sleep(backoff + 0.05)
        assert _location_name(client, key)
        [stats] = replicas.stats()
        assert (stats.served, stats.down) == (2, False)


def _replica_location_name(replica: Replica, database: str) -> str:
    """The location's name as the replica has it now (read directly, not through the app)."""
    with psycopg.connect(replica.url(database).replace("+psycopg", "")) as conn:
        row = conn.execute("SELECT name FROM locations WHERE slug = %s", (LOCATION,)).fetchone()
    assert row is not None
    return str(row[0])
