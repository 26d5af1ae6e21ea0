"""Holds work across server processes (SPEC section 6): racing GET /visit-token for one slot
through two real servers issues exactly as many tokens as the slot has seats, and refuses
the rest with 422 ``slot-unavailable`` (never a 500, SPEC section 9).

The CROWD case (15 seats, 40 racers) is the one where writers really collide on seats:
each picks a free seat from what it read, and many pick the same one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.availability.models import SeatClaim
from inquicker.booking.models import VisitToken
from tests.reliability.fixture import (
    CELLS_PER_VISIT,
    CROWD,
    GROUP,
    SECRET,
    SOLO,
    TYPE,
    build,
    days_ahead,
)
from tests.reliability.helpers import PREFIX, fire_together, offered_times
from tests.reliability.servers import Server, running_servers

RACERS = 40


@pytest.fixture
def setup(
    engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[tuple[str, list[httpx2.Client], list[Server]]]:
    with session_factory() as session, session.begin():
        key = build(session, hold_minutes=30).key
    url = engine.url.render_as_string(hide_password=False)
    with running_servers(url, SECRET) as servers:
        clients = [httpx2.Client(base_url=s.base, timeout=60.0) for s in servers]
        try:
            yield key, clients, servers
        finally:
            for client in clients:
                client.close()


@pytest.mark.parametrize(("schedule_id", "seats"), [(SOLO, 1), (GROUP, 3), (CROWD, 15)])
def test_racing_token_requests_hold_each_seat_once(
    schedule_id: str,
    seats: int,
    setup: tuple[str, list[httpx2.Client], list[Server]],
    session_factory: sessionmaker[Session],
) -> None:
    key, clients, servers = setup
    slot = offered_times(clients[0], key, schedule_id, days_ahead(3).isoformat())[8]

    def request(n: int) -> Any:
        params = {
            "schedule_id": schedule_id,
            "appointment_at": slot,
            "appointment_type": TYPE,
            "api_key": key,
        }
        return lambda: clients[n % 2].get(f"{PREFIX}/visit-token", params=params)

    outcomes = fire_together([request(n) for n in range(RACERS)])

    statuses = Counter(o.status for o in outcomes)
    logs = "\n".join(s.output()[-4000:] for s in servers)
    assert statuses == {200: seats, 422: RACERS - seats}, f"{statuses}\n{logs}"
    assert {tuple(o.codes) for o in outcomes if o.status == 422} == {("slot-unavailable",)}
    with session_factory() as session:
        tokens = session.scalars(select(VisitToken.jti)).all()
        claims = session.scalars(select(SeatClaim)).all()
    # A refused request leaves no token row behind, and every issued token holds its seats.
    assert len(tokens) == seats
    assert len(claims) == seats * CELLS_PER_VISIT
    assert Counter(c.hold_jti for c in claims) == dict.fromkeys(tokens, CELLS_PER_VISIT)
    assert sorted(c.seat for c in claims) == sorted(list(range(seats)) * CELLS_PER_VISIT)
