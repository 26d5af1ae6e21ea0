"""Property: whatever sequence of bookings, cancellations and reschedules, the seat claims
are exactly the cells of the live (non-cancelled) visits — no orphan, no double.

A seeded random walk through HTTP on both engines (deterministic, so a failure replays).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.availability.models import SeatClaim
from inquicker.booking.models import Visit
from tests.booking_http.helpers import JSONAPI, issue, path, post_visit, times, visit_body
from tests.booking_http.world import DISCHARGE, World
from tests.conftest import ApiClient

STEPS = 40
# DISCHARGE: capacity 3, 30-minute grid, 30-minute type: one cell per visit.
REFERRAL = {"referring-provider-name": "Dr. Lee"}


def _ledger_holds(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        visits = session.scalars(select(Visit)).all()
        claims = session.scalars(select(SeatClaim).where(SeatClaim.visit_pk.is_not(None))).all()
    live = {v.pk: v for v in visits if v.status != "cancelled"}
    claimed: dict[int, list[int]] = {}
    for claim in claims:
        assert claim.visit_pk in live, "a cancelled visit still holds a seat"
        claimed.setdefault(claim.visit_pk, []).append(claim.cell_start)
    assert {pk: sorted(cells) for pk, cells in claimed.items()} == {
        pk: [v.appointment_at] for pk, v in live.items()
    }
    seats = [(c.schedule_pk, c.cell_start, c.seat) for c in claims]
    assert len(seats) == len(set(seats))


@pytest.mark.parametrize("seed", [7, 2026])
def test_claims_always_equal_the_live_visits_cells(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], seed: int
) -> None:
    rng = random.Random(seed)
    slots = times(api, world.read, DISCHARGE)[:6]  # a few times, so visits collide
    visits: list[dict[str, Any]] = []
    for _ in range(STEPS):
        action = rng.choice(["book", "book", "cancel", "move"])
        at = rng.choice(slots)
        if action == "book":
            response = api.get(
                path("/visit-token"),
                params={"schedule_id": DISCHARGE, "appointment_at": at, "api_key": world.book},
            )
            if response.status_code == 200:
                created = post_visit(api, response.text, visit_body(DISCHARGE, at, REFERRAL))
                assert created.status_code in (201, 422), created.text
                if created.status_code == 201:
                    visits.append(created.json()["data"])
            else:
                assert response.status_code == 422, response.text
        elif visits:
            visit = rng.choice(visits)
            token = visit["meta"]["management-token"]
            if action == "cancel":
                body: dict[str, Any] = {"status": "cancelled"}
                meta: dict[str, Any] = {}
            else:
                offered = times(api, world.read, DISCHARGE)
                if at not in offered:
                    continue
                body, meta = (
                    {"appointment-at": at},
                    {"visit-token": issue(api, world.book2, DISCHARGE, at)},
                )
            response = api.patch(
                path(f"/visits/{visit['id']}"),
                json={
                    "data": {"type": "visits", "id": visit["id"], "attributes": body, "meta": meta}
                },
                headers={"Authorization": f"Bearer {token}", "Content-Type": JSONAPI},
            )
            assert response.status_code in (200, 422), response.text
        _ledger_holds(session_factory)
    assert visits, "the walk booked nothing: the property was not exercised"
