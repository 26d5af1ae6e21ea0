"""The console's reschedule page over HTTP (no browser): the times offered are the partner
API's, a move is the operator API's (audited, seats moved), a lost race changes nothing,
roles, other health systems, CSRF and escaping. Both engines.

The visit is on CHEN_PC (New York, capacity 1, 15-minute grid), booked at 11:00 on
2026-12-01, the clock's day.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from inquicker.booking.models import Visit
from inquicker.catalog.models import Provider
from inquicker.operators.models import AuditEntry
from tests.booking_http.conftest import MakeApi
from tests.booking_http.helpers import book, ny, path, times
from tests.booking_http.test_lifecycle import claims_of, events_of
from tests.booking_http.world import CHEN_PC, World
from tests.console.helpers import login
from tests.operators.conftest import Staff, email

AT = ny(1, "11:00")
LATER = ny(1, "14:00")
DAY = "2026-12-01"
RADIO = re.compile(r'name="at" value="([^"]+)"')
SCRIPT = "<script>alert(1)</script>"


def offered_on(api: Any, world: World, day: str) -> list[str]:
    """The partner API's answer for CHEN_PC on one local date."""
    params = [("schedule_ids[]", CHEN_PC), ("api_key", world.read), ("from", day), ("to", day)]
    response = api.get(path("/available-appointment-times"), params=params)
    assert response.status_code == 200, response.text
    found: list[str] = response.json()[0]["times"]
    return found


@pytest.fixture
def visit(make_api: MakeApi, world: World, staff: Staff) -> dict[str, Any]:
    return book(make_api(), world.book, CHEN_PC, AT)


def test_the_page_offers_what_partners_are_offered_and_the_move_is_audited(
    make_api: MakeApi,
    world: World,
    visit: dict[str, Any],
    session_factory: sessionmaker[Session],
) -> None:
    api = make_api()
    csrf = login(api, email("scheduler"))
    detail = api.get(f"/admin/visits/{visit['id']}")
    assert f'href="/admin/visits/{visit["id"]}/reschedule"' in detail.text
    # Without a date: the visit's own day.
    page = api.get(f"/admin/visits/{visit['id']}/reschedule")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    shown = RADIO.findall(page.text)
    assert shown == offered_on(api, world, DAY) and shown
    assert AT not in shown and LATER in shown
    # Another day, the same engine.
    other = api.get(f"/admin/visits/{visit['id']}/reschedule", params={"date": "2026-12-03"})
    assert RADIO.findall(other.text) == offered_on(api, world, "2026-12-03")
    moved = api.post(
        f"/admin/visits/{visit['id']}/reschedule",
        data={"csrf": csrf, "at": LATER, "date": DAY},
        follow_redirects=False,
    )
    assert moved.status_code == 303, moved.text
    assert moved.headers["location"] == f"/admin/visits/{visit['id']}?done=rescheduled"
    after = api.get(moved.headers["location"])
    assert "Rescheduled: the visit is now Tue 1 Dec 2026, 14:00." in after.text
    assert "Moved from" in after.text
    offered = times(api, world.read, CHEN_PC)
    assert AT in offered and LATER not in offered
    assert claims_of(session_factory, visit["id"]) == 1
    assert [t for t, _ in events_of(session_factory, visit["id"])] == [
        "visit.booked",
        "visit.rescheduled",
    ]
    with session_factory() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "visit.reschedule")
        ).all()
        assert (entry.actor, entry.visit_id, entry.patient_data) == (
            email("scheduler"),
            visit["id"],
            False,
        )
        assert entry.details["from"] == AT and entry.details["to"] == LATER


def test_a_time_taken_meanwhile_is_refused_and_nothing_changes(
    make_api: MakeApi,
    world: World,
    visit: dict[str, Any],
    session_factory: sessionmaker[Session],
) -> None:
    api = make_api()
    csrf = login(api, email("admin"))
    page = api.get(f"/admin/visits/{visit['id']}/reschedule")
    assert LATER in RADIO.findall(page.text)
    book(api, world.book2, CHEN_PC, LATER)  # another partner is faster
    refused = api.post(
        f"/admin/visits/{visit['id']}/reschedule",
        data={"csrf": csrf, "at": LATER, "date": DAY},
    )
    assert refused.status_code == 409
    assert "That time is no longer available." in refused.text
    # The page comes back with the day's times as they are now.
    assert LATER not in RADIO.findall(refused.text)
    with session_factory() as session:
        row = session.scalars(select(Visit).where(Visit.visit_id == visit["id"])).one()
        assert row.previous_appointment_at is None and row.sequence == 0
        assert not session.scalars(
            select(AuditEntry).where(AuditEntry.action == "visit.reschedule")
        ).all()
    assert claims_of(session_factory, visit["id"]) == 1
    assert [t for t, _ in events_of(session_factory, visit["id"])] == ["visit.booked"]
    assert AT not in times(api, world.read, CHEN_PC)


def test_bad_input_is_refused_on_the_page(
    make_api: MakeApi, visit: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    api = make_api()
    csrf = login(api, email("scheduler"))
    url = f"/admin/visits/{visit['id']}/reschedule"
    assert api.get(url, params={"date": "yesterday"}).status_code == 400
    missing = api.post(url, data={"csrf": csrf, "date": DAY})
    assert missing.status_code == 422 and "Pick a new time." in missing.text
    closed = api.post(url, data={"csrf": csrf, "at": ny(1, "03:00"), "date": DAY})
    assert closed.status_code == 422 and "cannot start at that time" in closed.text
    garbage = api.post(url, data={"csrf": csrf, "at": SCRIPT, "date": DAY})
    assert garbage.status_code == 422
    assert SCRIPT not in garbage.text
    assert claims_of(session_factory, visit["id"]) == 1


def test_html_in_names_is_escaped(
    make_api: MakeApi, visit: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        session.execute(update(Provider).values(name=SCRIPT))
    api = make_api()
    login(api, email("admin"))
    page = api.get(f"/admin/visits/{visit['id']}/reschedule")
    assert page.status_code == 200
    assert SCRIPT not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_viewers_and_auditors_may_not(
    make_api: MakeApi, visit: dict[str, Any], role: str, session_factory: sessionmaker[Session]
) -> None:
    api = make_api()
    csrf = login(api, email(role))
    url = f"/admin/visits/{visit['id']}/reschedule"
    assert api.get(url).status_code == 403
    assert api.post(url, data={"csrf": csrf, "at": LATER}).status_code == 403
    if role == "viewer":
        assert url not in api.get(f"/admin/visits/{visit['id']}").text
    assert claims_of(session_factory, visit["id"]) == 1


def test_another_health_system_csrf_and_a_cancelled_visit(
    make_api: MakeApi, visit: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    url = f"/admin/visits/{visit['id']}/reschedule"
    other = make_api()
    other_csrf = login(other, "admin@elsewhere.example")
    assert other.get(url).status_code == 404
    assert other.post(url, data={"csrf": other_csrf, "at": LATER}).status_code == 404
    api = make_api()
    csrf = login(api, email("admin"))
    expired = api.post(url, data={"at": LATER})
    assert expired.status_code == 403 and "Form expired" in expired.text
    assert claims_of(session_factory, visit["id"]) == 1
    api.post(f"/admin/visits/{visit['id']}/status", data={"csrf": csrf, "status": "cancelled"})
    page = api.get(url)
    assert "A visit that is cancelled cannot be moved." in page.text
    assert not RADIO.findall(page.text)
    assert url not in api.get(f"/admin/visits/{visit['id']}").text
    refused = api.post(url, data={"csrf": csrf, "at": LATER, "date": DAY})
    assert refused.status_code == 422 and "cannot become rescheduled" in refused.text
