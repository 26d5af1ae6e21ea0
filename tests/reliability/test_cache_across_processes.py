"""Cached catalog documents follow an import made by another process within a second.

Two real server processes cache a location; this test process (a third one, like an
operator's ``inquicker import``) imports a bundle renaming it into the shared database.
Neither server learns of it directly: each reads the health system's new data version once
its tenant memo is older than ``FRESH_SECONDS``, and from then on serves the new document.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx2
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from inquicker.bundle.exporter import export_bundle
from inquicker.bundle.importer import import_bundle
from inquicker.tenancy.directory import FRESH_SECONDS, REFRESH_SHARE
from tests.reliability.fixture import SECRET, SOLO, build
from tests.reliability.helpers import JSONAPI, PREFIX
from tests.reliability.servers import Server, running_servers

LOCATION = f"loc-{SOLO}"
OLD_NAME = f"Clinic {SOLO}"
NEW_NAME = "Solo Clinic North"
# One public host for both servers, so their documents (whose links hold it) are the same
# bytes and carry the same ETag.
PUBLIC_HOST = "api.example.com"


@pytest.fixture
def key(engine: Engine, session_factory: sessionmaker[Session]) -> str:
    with session_factory() as session, session.begin():
        return build(session).key


@pytest.fixture
def servers(engine: Engine, key: str) -> Iterator[list[Server]]:
    with running_servers(engine.url.render_as_string(hide_password=False), SECRET) as servers:
        yield servers


def read(client: httpx2.Client, key: str) -> tuple[str, str, str]:
    """(name, ETag, self link) of the location as this server serves it."""
    response = client.get(
        f"{PREFIX}/locations/{LOCATION}",
        headers={"X-Api-Key": key, "Accept": JSONAPI, "Host": PUBLIC_HOST},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, max-age=60"
    data = response.json()["data"]
    assert data["id"] == LOCATION
    return data["attributes"]["name"], response.headers["etag"], data["links"]["self"]


def rename_by_import(session_factory: sessionmaker[Session]) -> int:
    """Import a bundle holding only the health system and the renamed location."""
    with session_factory() as session, session.begin():
        exported = export_bundle(session, "reliable")
        [location] = [loc for loc in exported["locations"] if loc["id"] == LOCATION]
        result = import_bundle(
            session,
            {
                "format": exported["format"],
                "health_system": exported["health_system"],
                "locations": [{**location, "name": NEW_NAME}],
            },
        )
    assert result.counts["locations"].updated == 1
    return result.data_version


def test_both_servers_serve_an_import_from_another_process_within_a_second(
    servers: list[Server], key: str, session_factory: sessionmaker[Session]
) -> None:
    clients = [httpx2.Client(base_url=s.base, timeout=30.0) for s in servers]
    try:
        before = []
        # Each server memoises the tenant and key at its first read (never later), so both
        # stay fresh until at least a window after this instant.
        started = time.monotonic()
        for client in clients:
            # The key's first use is recorded; the next two are the cached document.
            answers = [read(client, key) for _ in range(3)]
            assert len(set(answers)) == 1, answers
            before.append(answers[0])
        assert before[0] == before[1]  # same bytes from both processes
        old_name, old_tag, link = before[0]
        assert old_name == OLD_NAME
        assert link == f"http://{PUBLIC_HOST}{PREFIX}/locations/{LOCATION}"

        assert rename_by_import(session_factory) == 2
        stale = [read(client, key) for client in clients]
        if time.monotonic() < started + FRESH_SECONDS * (1 - REFRESH_SHARE):
            # Still within both windows (unless this machine is very slow): the servers
            # cannot have looked at the database yet, so they answer from memory.
            assert stale == before
        time.sleep(FRESH_SECONDS + 0.1)

        after = [read(client, key) for client in clients]
        for name, tag, _ in after:
            assert name == NEW_NAME
            assert tag != old_tag
        assert after[0] == after[1]
        # ... and the new document is what each now keeps serving.
        assert [read(client, key) for client in clients] == after
    finally:
        for client in clients:
            client.close()
    for server in servers:
        assert server.process.poll() is None, server.output()[-4000:]
