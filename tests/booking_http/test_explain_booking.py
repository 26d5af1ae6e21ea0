"""Explain after real bookings: a visit token makes its time `held`, a visit makes it `full`.

Demo schedule CHEN_PC: Tue/Thu 08:00-17:00 EST, 15-minute grid, capacity 1, lead 60
minutes; sick-visit lasts 15 minutes. The clock is 2026-12-01T14:00Z (09:00 EST).
"""

from __future__ import annotations

from typing import Any

from tests.booking_http.helpers import issue, ny, path, post_visit, times, visit_body
from tests.booking_http.world import CHEN_PC, Clock, World
from tests.conftest import ApiClient

DAY = "2026-12-03"  # a Thursday


def reasons(api: ApiClient, key: str, appointment_type: str = "sick-visit") -> dict[str, Any]:
    """time -> reason (None when offered) for CHEN_PC on DAY."""
    response = api.get(
        path("/available-appointment-times/explain"),
        params={
            "schedule_id": CHEN_PC,
            "date": DAY,
            "appointment_type": appointment_type,
            "api_key": key,
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert len(body) == 96
    return {e["time"]: e["reason"] for e in body}


def test_a_hold_is_held_and_a_visit_is_full(api: ApiClient, world: World, clock: Clock) -> None:
    at, next_cell = ny(3, "10:00"), ny(3, "10:15")
    before = reasons(api, world.read)
    assert before[at] is None and before[next_cell] is None
    assert before[ny(3, "07:45")] == "closed"

    token = issue(api, world.book, CHEN_PC, at)
    held = reasons(api, world.read)
    assert held[at] == "held"
    assert held[next_cell] is None
    assert held[ny(3, "09:45")] is None
    # Every type of the schedule needs that cell.
    assert reasons(api, world.read, "follow-up")[at] == "held"
    assert at not in times(api, world.read, CHEN_PC, "sick-visit")

    response = post_visit(api, token, visit_body(CHEN_PC, at))
    assert response.status_code == 201, response.text
    booked = reasons(api, world.read)
    assert booked[at] == "full"
    assert booked[next_cell] is None

    # The visit keeps its seat when the hold would have lapsed; a fresh hold lapses.
    other = ny(3, "11:00")
    issue(api, world.book, CHEN_PC, other)
    assert reasons(api, world.read)[other] == "held"
    clock.advance(minutes=31)
    later = reasons(api, world.read)
    assert later[at] == "full"
    assert later[other] is None
