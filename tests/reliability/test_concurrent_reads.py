"""Concurrent reads through two real server processes never fail (SPEC section 9: never a 500).

A read authenticates its API key and, at most once a minute per key, records when the key
was last used: a write inside a read request. Many partners' first requests arrive
together (a page load fans out), so a burst of reads with a key not used for a while must
all succeed on both databases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from inquicker.tenancy.keys import create_key
from tests.reliability.fixture import HOST, SECRET, SOLO, build, days_ahead
from tests.reliability.helpers import PREFIX, fire_together
from tests.reliability.servers import Server, running_servers

ROUNDS = 3
READERS = 20


@pytest.fixture
def servers(engine: Engine, session_factory: sessionmaker[Session]) -> Iterator[list[Server]]:
    with session_factory() as session, session.begin():
        build(session)
    with running_servers(engine.url.render_as_string(hide_password=False), SECRET) as servers:
        yield servers


def test_a_burst_of_reads_with_a_fresh_key_all_succeed(
    servers: list[Server], session_factory: sessionmaker[Session]
) -> None:
    clients = [httpx2.Client(base_url=s.base, timeout=60.0) for s in servers]
    day = days_ahead(2).isoformat()
    statuses: Counter[int] = Counter()
    try:
        for round_ in range(ROUNDS):
            with session_factory() as session, session.begin():
                key = create_key(session, HOST, f"fresh {round_}", ("read",)).secret

            def read(n: int, key: str = key) -> Any:
                return lambda: clients[n % 2].get(
                    f"{PREFIX}/available-appointment-times",
                    params={"schedule_ids[]": SOLO, "from": day, "to": day, "api_key": key},
                )

            statuses.update(o.status for o in fire_together([read(n) for n in range(READERS)]))
    finally:
        for client in clients:
            client.close()
    logs = "\n".join(s.output()[-4000:] for s in servers)
    assert statuses == {200: ROUNDS * READERS}, f"{statuses}\n{logs}"
