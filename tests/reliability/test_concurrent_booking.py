"""Many clients racing for the same seats through two real server processes.

SPEC section 7: "no two visits ever take the same seat, whatever the concurrency, the
number of server processes, or the database"; the losers get 422 ``slot-unavailable``,
never a 500. Holds are off (hold_minutes = 0), so every racer holds a valid token for the
same slot and the database alone decides at booking time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.availability.models import SeatClaim
from inquicker.booking.models import Visit, VisitToken
from tests.reliability.fixture import (
    CELLS_PER_VISIT,
    CROWD,
    GROUP,
    SECRET,
    SOLO,
    Tenant,
    build,
    days_ahead,
    visit_body,
)
from tests.reliability.helpers import Outcome, fire_together, mint, offered_times, post_visit
from tests.reliability.servers import Server, running_servers


@pytest.fixture
def tenant(session_factory: sessionmaker[Session]) -> Tenant:
    with session_factory() as session, session.begin():
        return build(session, hold_minutes=0)


@pytest.fixture
def servers(engine: Engine, tenant: Tenant) -> Iterator[list[Server]]:
    with running_servers(engine.url.render_as_string(hide_password=False), SECRET) as servers:
        yield servers


@pytest.fixture
def clients(servers: list[Server]) -> Iterator[list[httpx2.Client]]:
    opened = [httpx2.Client(base_url=s.base, timeout=60.0) for s in servers]
    try:
        yield opened
    finally:
        for client in opened:
            client.close()


def _logs(servers: list[Server]) -> str:
    return "\n".join(f"--- server {s.base} ---\n{s.output()}" for s in servers)


def _race(
    clients: list[httpx2.Client], key: str, schedule_id: str, racers: int, day_offset: int
) -> tuple[str, list[Outcome]]:
    """Mint ``racers`` tokens for one slot (alternating servers), then book them all at once."""
    day = days_ahead(day_offset).isoformat()
    slot = offered_times(clients[0], key, schedule_id, day)[4]  # 09:00 local
    tokens = [mint(clients[n % 2], key, schedule_id, slot) for n in range(racers)]

    def call(n: int) -> Any:
        body = visit_body(schedule_id, slot, f"Racer{n}")
        return lambda: post_visit(clients[n % 2], tokens[n], body)

    return slot, fire_together([call(n) for n in range(racers)])


def _check_statuses(
    outcomes: list[Outcome], winners: int, servers: list[Server]
) -> list[dict[str, Any]]:
    statuses = Counter(o.status for o in outcomes)
    assert statuses == {201: winners, 422: len(outcomes) - winners}, (
        f"{statuses}\n{[o for o in outcomes if o.status not in (201, 422)][:3]}\n{_logs(servers)}"
    )
    for loser in (o for o in outcomes if o.status == 422):
        assert loser.codes == ["slot-unavailable"], loser.body
        assert loser.body["errors"][0]["source"] == {"pointer": "/data/attributes/appointment-at"}
    return [o.body for o in outcomes if o.status == 201]


def test_fifty_racers_for_one_seat_book_it_once(
    clients: list[httpx2.Client],
    servers: list[Server],
    tenant: Tenant,
    session_factory: sessionmaker[Session],
) -> None:
    slot, outcomes = _race(clients, tenant.key, SOLO, racers=50, day_offset=3)

    [created] = _check_statuses(outcomes, 1, servers)
    assert created["data"]["attributes"]["appointment-at"] == slot
    assert created["data"]["attributes"]["confirmation-number"] == 1
    with session_factory() as session:
        visits = session.scalars(select(Visit)).all()
        assert [v.visit_id for v in visits] == [created["data"]["id"]]
        [visit] = visits
        claims = session.scalars(select(SeatClaim).order_by(SeatClaim.cell_start)).all()
        assert len(claims) == CELLS_PER_VISIT
        assert {(c.visit_pk, c.seat, c.hold_jti, c.expires_at) for c in claims} == {
            (visit.pk, 0, None, None)
        }
        assert [c.cell_start - visit.appointment_at for c in claims] == [0, 900]
        used = session.scalars(select(VisitToken).where(VisitToken.used_at.is_not(None))).all()
        assert [(t.jti, t.visit_pk) for t in used] == [(visit.token_jti, visit.pk)]
    # Availability agrees: the slot is no longer offered, through either server.
    for client in clients:
        assert slot not in offered_times(client, tenant.key, SOLO, days_ahead(3).isoformat())


@pytest.mark.parametrize(("schedule_id", "seats", "racers"), [(GROUP, 3, 20), (CROWD, 15, 40)])
def test_racers_for_several_seats_book_each_seat_once(
    schedule_id: str,
    seats: int,
    racers: int,
    clients: list[httpx2.Client],
    servers: list[Server],
    tenant: Tenant,
    session_factory: sessionmaker[Session],
) -> None:
    _, outcomes = _race(clients, tenant.key, schedule_id, racers=racers, day_offset=4)

    created = _check_statuses(outcomes, seats, servers)
    numbers = sorted(doc["data"]["attributes"]["confirmation-number"] for doc in created)
    assert len(set(numbers)) == seats
    assert len({doc["data"]["id"] for doc in created}) == seats
    with session_factory() as session:
        visits = session.scalars(select(Visit)).all()
        assert {v.visit_id for v in visits} == {doc["data"]["id"] for doc in created}
        claims = session.scalars(select(SeatClaim)).all()
        assert len(claims) == seats * CELLS_PER_VISIT
        by_cell: dict[int, list[int]] = {}
        for c in claims:
            by_cell.setdefault(c.cell_start, []).append(c.seat)
        assert len(by_cell) == CELLS_PER_VISIT
        assert all(sorted(s) == list(range(seats)) for s in by_cell.values()), by_cell
        per_visit = Counter(c.visit_pk for c in claims)
        assert per_visit == {v.pk: CELLS_PER_VISIT for v in visits}
        assert all(c.hold_jti is None and c.expires_at is None for c in claims)


def test_the_same_token_posted_to_both_servers_books_once(
    clients: list[httpx2.Client],
    servers: list[Server],
    tenant: Tenant,
    session_factory: sessionmaker[Session],
) -> None:
    """Client retries racing each other: one 201, the twin 200 with the same visit."""
    # Every other start: a 30-minute visit covers two 15-minute cells, so neighbours overlap.
    slots = offered_times(clients[0], tenant.key, SOLO, days_ahead(5).isoformat())[0:12:2]
    tokens = [mint(clients[n % 2], tenant.key, SOLO, slot) for n, slot in enumerate(slots)]
    bodies = [visit_body(SOLO, slot, f"Twin{n}") for n, slot in enumerate(slots)]

    def call(n: int, server: int) -> Any:
        return lambda: post_visit(clients[server], tokens[n], bodies[n])

    outcomes = fire_together([call(n, s) for n in range(len(slots)) for s in (0, 1)])

    for n in range(len(slots)):
        first, second = outcomes[2 * n], outcomes[2 * n + 1]
        assert sorted((first.status, second.status)) == [200, 201], (
            f"{first}\n{second}\n{_logs(servers)}"
        )
        # Links are absolute, so each server spells its own origin; the visit is the same.
        assert first.body["data"]["id"] == second.body["data"]["id"]
        assert first.body["data"]["attributes"] == second.body["data"]["attributes"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Visit)) == len(slots)
        assert session.scalar(select(func.count()).select_from(SeatClaim)) == (
            len(slots) * CELLS_PER_VISIT
        )
