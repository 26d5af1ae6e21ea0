"""Reschedules and cancellations racing through two real server processes (SPEC section 10).

Holds are off, so every racer holds a valid visit token for the same free time and the
database alone decides: exactly one reschedule wins; every loser keeps its old time and
seats. A cancelled seat is bookable at once, by exactly one of many racers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import orjson
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.availability.models import SeatClaim
from inquicker.booking.models import Visit
from inquicker.events.models import Event
from tests.reliability.fixture import (
    CELLS_PER_VISIT,
    GROUP,
    SECRET,
    SOLO,
    Tenant,
    build,
    days_ahead,
    visit_body,
)
from tests.reliability.helpers import (
    JSONAPI,
    PREFIX,
    fire_together,
    mint,
    offered_times,
    post_visit,
)
from tests.reliability.servers import running_servers

RACERS = 30


@pytest.fixture
def tenant(session_factory: sessionmaker[Session]) -> Tenant:
    with session_factory() as session, session.begin():
        return build(session, hold_minutes=0)


@pytest.fixture
def clients(engine: Engine, tenant: Tenant) -> Iterator[list[httpx2.Client]]:
    url = engine.url.render_as_string(hide_password=False)
    with running_servers(url, SECRET) as servers:
        opened = [httpx2.Client(base_url=s.base, timeout=60.0) for s in servers]
        try:
            yield opened
        finally:
            for client in opened:
                client.close()


def _book(client: httpx2.Client, key: str, schedule_id: str, at: str, name: str) -> dict[str, Any]:
    token = mint(client, key, schedule_id, at)
    response = post_visit(client, token, visit_body(schedule_id, at, name))
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _patch(client: httpx2.Client, visit: dict[str, Any], body: dict[str, Any]) -> httpx2.Response:
    return client.patch(
        f"{PREFIX}/visits/{visit['id']}",
        content=orjson.dumps(body),
        headers={
            "Authorization": f"Bearer {visit['meta']['management-token']}",
            "Content-Type": JSONAPI,
        },
    )


def test_thirty_reschedules_into_one_seat_from_two_servers_one_wins(
    clients: list[httpx2.Client], tenant: Tenant, session_factory: sessionmaker[Session]
) -> None:
    # 30 visits spread over the GROUP schedule (capacity 3) on two days, all wanting to
    # move to one free time on the SOLO schedule (capacity 1).
    days = [days_ahead(5).isoformat(), days_ahead(6).isoformat()]
    slots = [t for day in days for t in offered_times(clients[0], tenant.key, GROUP, day)]
    # Three per time (GROUP's capacity), times 30 minutes apart (a visit's length).
    starts = [slots[::2][n // 3] for n in range(RACERS)]
    visits = [
        _book(clients[n % 2], tenant.key, GROUP, at, f"Mover{n}") for n, at in enumerate(starts)
    ]
    target = offered_times(clients[0], tenant.key, SOLO, days_ahead(7).isoformat())[2]
    tokens = [mint(clients[n % 2], tenant.key, SOLO, target) for n in range(RACERS)]

    def move(n: int) -> Any:
        body = {
            "data": {
                "type": "visits",
                "id": visits[n]["id"],
                "attributes": {"appointment-at": target},
                "relationships": {"schedule": {"data": {"type": "schedules", "id": SOLO}}},
                "meta": {"visit-token": tokens[n]},
            }
        }
        return lambda: _patch(clients[n % 2], visits[n], body)

    outcomes = fire_together([move(n) for n in range(RACERS)])
    statuses = Counter(o.status for o in outcomes)
    assert statuses == {200: 1, 422: RACERS - 1}, [o.body for o in outcomes if o.status >= 500]
    assert {c for o in outcomes if o.status == 422 for c in o.codes} == {"slot-unavailable"}
    [winner] = [n for n, o in enumerate(outcomes) if o.status == 200]
    with session_factory() as session:
        rows = {v.visit_id: v for v in session.scalars(select(Visit)).all()}
        claims = session.scalars(select(SeatClaim)).all()
        moved_events = session.scalars(select(Event).where(Event.type == "visit.rescheduled"))
        assert [e.payload["visit"]["id"] for e in moved_events] == [visits[winner]["id"]]
    by_visit: dict[int, list[SeatClaim]] = {}
    for claim in claims:
        assert claim.visit_pk is not None
        by_visit.setdefault(claim.visit_pk, []).append(claim)
    for n, visit in enumerate(visits):
        row = rows[visit["id"]]
        mine = by_visit[row.pk]
        assert len(mine) == CELLS_PER_VISIT
        if n == winner:
            assert row.schedule_pk != rows[visits[(n + 1) % RACERS]["id"]].schedule_pk
            assert row.previous_appointment_at is not None
        else:
            # Losers keep their old time and their seats on the old schedule.
            assert row.previous_appointment_at is None
            assert min(c.cell_start for c in mine) == row.appointment_at
    assert len(claims) == RACERS * CELLS_PER_VISIT
    for client in clients:
        assert target not in offered_times(client, tenant.key, SOLO, days_ahead(7).isoformat())


def test_a_cancelled_seat_is_rebooked_by_exactly_one_racer(
    clients: list[httpx2.Client], tenant: Tenant, session_factory: sessionmaker[Session]
) -> None:
    day = days_ahead(8).isoformat()
    at = offered_times(clients[0], tenant.key, SOLO, day)[0]
    visit = _book(clients[0], tenant.key, SOLO, at, "First")
    assert at not in offered_times(clients[1], tenant.key, SOLO, day)
    cancel = {"data": {"type": "visits", "id": visit["id"], "attributes": {"status": "cancelled"}}}
    assert _patch(clients[1], visit, cancel).status_code == 200
    assert at in offered_times(clients[0], tenant.key, SOLO, day)
    tokens = [mint(clients[n % 2], tenant.key, SOLO, at) for n in range(20)]

    def rebook(n: int) -> Any:
        return lambda: post_visit(clients[n % 2], tokens[n], visit_body(SOLO, at, f"Racer{n}"))

    outcomes = fire_together([rebook(n) for n in range(20)])
    assert Counter(o.status for o in outcomes) == {201: 1, 422: 19}
    with session_factory() as session:
        claims = session.scalars(select(SeatClaim)).all()
        live = session.scalars(select(Visit).where(Visit.status == "booked")).all()
    assert len(live) == 1 and live[0].visit_id != visit["id"]
    assert {c.visit_pk for c in claims} == {live[0].pk}
