"""The visit lifecycle through HTTP (SPEC section 10): management token, read, cancel,
reschedule, calendar, and the events each change writes (SPEC section 11), on both engines.

Bookings are on CHEN_PC (New York, capacity 1, 15-minute grid, bookable from 10:00 EST on
2026-12-01, the clock's day).
"""

from __future__ import annotations

from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from inquicker.availability.models import SeatClaim
from inquicker.booking import visits_endpoint
from inquicker.booking.models import Visit, VisitToken
from inquicker.events.models import Event
from inquicker.tenancy.models import HealthSystem
from tests.booking_http.helpers import (
    EMAIL,
    FIRST_NAME,
    LAST_NAME,
    PHONE,
    issue,
    ny,
    only_error,
    path,
    post_visit,
    times,
    visit_body,
)
from tests.booking_http.world import CHEN_PC, GARCIA_PC, OTHER_HOST, OTHER_SCHEDULE, Clock, World
from tests.conftest import ApiClient

JSONAPI = "application/vnd.api+json"
AT = ny(1, "11:00")
LATER = ny(1, "14:00")


def booked(api: ApiClient, world: World, at: str = AT, schedule: str = CHEN_PC) -> dict[str, Any]:
    token = issue(api, world.book, schedule, at)
    response = post_visit(api, token, visit_body(schedule, at))
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def patch(api: ApiClient, visit: dict[str, Any], body: Any, token: str | None = None) -> Any:
    token = token or visit["meta"]["management-token"]
    return api.patch(
        path(f"/visits/{visit['id']}"),
        json=body,
        headers={**bearer(token), "Content-Type": JSONAPI},
    )


def cancel_body(visit_id: str, reason: str | None = "Feeling better") -> dict[str, Any]:
    attributes: dict[str, Any] = {"status": "cancelled"}
    if reason is not None:
        attributes["cancellation-reason"] = reason
    return {"data": {"type": "visits", "id": visit_id, "attributes": attributes}}


def move_body(visit_id: str, at: str, visit_token: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "visits",
            "id": visit_id,
            "attributes": {"appointment-at": at},
            "meta": {"visit-token": visit_token},
        }
    }


def events_of(session_factory: sessionmaker[Session], visit_id: str) -> list[tuple[str, Any]]:
    with session_factory() as session:
        pk = session.scalar(select(Visit.pk).where(Visit.visit_id == visit_id))
        rows = session.execute(
            select(Event.type, Event.payload).where(Event.visit_pk == pk).order_by(Event.pk)
        ).all()
    return [(t, p) for t, p in rows]


def claims_of(session_factory: sessionmaker[Session], visit_id: str) -> int:
    with session_factory() as session:
        pk = session.scalar(select(Visit.pk).where(Visit.visit_id == visit_id))
        return len(session.scalars(select(SeatClaim.pk).where(SeatClaim.visit_pk == pk)).all())


# --- management token ------------------------------------------------------------------


def test_booking_returns_a_management_token_that_reads_the_visit(
    api: ApiClient, world: World
) -> None:
    visit = booked(api, world)
    token = visit["meta"]["management-token"]
    assert token.startswith("vmt_") and len(token) >= 40  # 256 bits, base64url
    assert visit["attributes"]["status"] == "booked"
    assert visit["meta"]["calendar"].endswith(f"/visits/{visit['id']}/calendar.ics?token={token}")

    shown = api.get(path(f"/visits/{visit['id']}"), headers=bearer(token))
    assert shown.status_code == 200, shown.text
    data = shown.json()["data"]
    assert data["id"] == visit["id"]
    assert data["attributes"]["appointment-at"] == AT
    assert data["attributes"]["confirmation-number"] == 1
    for value in (FIRST_NAME, LAST_NAME, EMAIL, PHONE):
        assert value not in shown.text
    # A bare token works too (as some reference pages send credentials).
    assert (
        api.get(path(f"/visits/{visit['id']}"), headers={"Authorization": token}).status_code == 200
    )


def test_the_token_is_stored_only_as_a_hash(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    visit = booked(api, world)
    token = visit["meta"]["management-token"]
    with session_factory() as session:
        row = session.scalars(select(Visit).where(Visit.visit_id == visit["id"])).one()
        stored = " ".join(str(v) for v in row.__dict__.values())
    assert token not in stored
    assert row.management_token_hash is not None and len(row.management_token_hash) == 64


def test_an_idempotent_retry_returns_the_same_management_token(
    api: ApiClient, world: World
) -> None:
    token = issue(api, world.book, CHEN_PC, AT)
    first = post_visit(api, token, visit_body(CHEN_PC, AT))
    again = post_visit(api, token, visit_body(CHEN_PC, AT))
    assert (first.status_code, again.status_code) == (201, 200)
    assert (
        first.json()["data"]["meta"]["management-token"]
        == again.json()["data"]["meta"]["management-token"]
    )


def test_another_visits_token_is_404_and_a_key_is_401(api: ApiClient, world: World) -> None:
    first = booked(api, world)
    second = booked(api, world, LATER)
    wrong = api.get(
        path(f"/visits/{first['id']}"), headers=bearer(second["meta"]["management-token"])
    )
    assert only_error(wrong, 404)["code"] == "not-found"
    forged = api.get(path(f"/visits/{first['id']}"), headers=bearer("vmt_" + "A" * 43))
    assert only_error(forged, 404)["code"] == "not-found"
    with_key = api.get(path(f"/visits/{first['id']}"), headers=bearer(world.book))
    assert only_error(with_key, 401)["code"] == "invalid-management-token"
    nothing = api.get(path(f"/visits/{first['id']}"))
    assert only_error(nothing, 401)["code"] == "missing-management-token"


def test_another_sites_visit_is_404(api: ApiClient, world: World) -> None:
    visit = booked(api, world)
    token = visit["meta"]["management-token"]
    elsewhere = api.get(path(f"/visits/{visit['id']}", OTHER_HOST), headers=bearer(token))
    assert only_error(elsewhere, 404)["code"] == "not-found"


# --- cancel -------------------------------------------------------------------------------


def test_cancel_frees_the_seat_at_once_and_repeating_is_the_same_answer(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], clock: Clock
) -> None:
    visit = booked(api, world)
    assert AT not in times(api, world.read, CHEN_PC)
    response = patch(api, visit, cancel_body(visit["id"]))
    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert attributes["status"] == "cancelled"
    assert attributes["cancelled-at"] == "2026-12-01T14:00:00Z"
    assert attributes["cancellation-reason"] == "Feeling better"
    assert AT in times(api, world.read, CHEN_PC)
    assert claims_of(session_factory, visit["id"]) == 0

    again = patch(api, visit, cancel_body(visit["id"]))
    assert again.status_code == 200
    assert again.json() == response.json()
    assert [t for t, _ in events_of(session_factory, visit["id"])] == [
        "visit.booked",
        "visit.cancelled",
    ]


def test_a_cancelled_seat_is_bookable_by_someone_else(api: ApiClient, world: World) -> None:
    visit = booked(api, world)
    assert patch(api, visit, cancel_body(visit["id"])).status_code == 200
    other = booked(api, world)
    assert other["attributes"]["appointment-at"] == AT
    assert other["id"] != visit["id"]


def test_cancellation_cutoff_refuses_partners_late(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        session.execute(update(HealthSystem).values(cancellation_cutoff_minutes=24 * 60))
    visit = booked(api, world)  # 11:00 today, 2 hours from now: inside the 24 h cutoff
    error = only_error(patch(api, visit, cancel_body(visit["id"])), 422)
    assert error["code"] == "too-late-to-cancel"
    assert error["source"]["pointer"] == "/data/attributes/status"
    assert "1440 minutes" in error["detail"]
    shown = api.get(
        path(f"/visits/{visit['id']}"), headers=bearer(visit["meta"]["management-token"])
    )
    assert shown.json()["data"]["attributes"]["status"] == "booked"


def test_partners_cannot_set_operator_statuses_and_cancelled_is_final(
    api: ApiClient, world: World
) -> None:
    visit = booked(api, world)
    body = {"data": {"type": "visits", "id": visit["id"], "attributes": {"status": "no-show"}}}
    assert only_error(patch(api, visit, body), 403)["code"] == "operator-only-status"
    assert patch(api, visit, cancel_body(visit["id"])).status_code == 200
    back = {"data": {"type": "visits", "id": visit["id"], "attributes": {"status": "booked"}}}
    error = only_error(patch(api, visit, back), 422)
    assert error["code"] == "invalid-transition"
    assert error["meta"] == {"status": "cancelled", "requested-status": "booked"}
    bogus = {"data": {"type": "visits", "id": visit["id"], "attributes": {"status": "gone"}}}
    assert only_error(patch(api, visit, bogus), 422)["source"]["pointer"] == (
        "/data/attributes/status"
    )


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        (
            {"data": {"type": "visits", "attributes": {"first-name": "Eve"}}},
            422,
            "/data/attributes/first-name",
        ),
        (
            {"data": {"type": "visits", "attributes": {"email": "x@y.org"}}},
            422,
            "/data/attributes/email",
        ),
        ({"data": {"type": "people", "attributes": {"status": "cancelled"}}}, 409, "/data/type"),
        ({"data": {"type": "visits", "id": "0" * 32, "attributes": {}}}, 409, "/data/id"),
        ({"data": {"type": "visits", "attributes": []}}, 400, "/data/attributes"),
        (
            {"data": {"type": "visits", "relationships": {"provider": {}}}},
            422,
            "/data/relationships/provider",
        ),
        (
            {
                "data": {
                    "type": "visits",
                    "attributes": {"appointment-at": "2026-12-01T12:00:00-05:00"},
                }
            },
            422,
            "/data/meta/visit-token",
        ),
        (
            {"data": {"type": "visits", "attributes": {"cancellation-reason": "x"}}},
            422,
            "/data/attributes/cancellation-reason",
        ),
        ([], 400, "/data"),
    ],
)
def test_bad_changes_are_refused_with_a_pointer_and_change_nothing(
    api: ApiClient,
    world: World,
    session_factory: sessionmaker[Session],
    body: Any,
    status: int,
    pointer: str,
) -> None:
    visit = booked(api, world)
    error = only_error(patch(api, visit, body), status)
    assert error["source"]["pointer"] == pointer
    assert [t for t, _ in events_of(session_factory, visit["id"])] == ["visit.booked"]
    assert claims_of(session_factory, visit["id"]) == 1


def test_malformed_json_is_400(api: ApiClient, world: World) -> None:
    visit = booked(api, world)
    response = api.patch(
        path(f"/visits/{visit['id']}"),
        content=b"{not json",
        headers={**bearer(visit["meta"]["management-token"]), "Content-Type": JSONAPI},
    )
    assert only_error(response, 400)["code"] == "invalid-json"


# --- reschedule ---------------------------------------------------------------------------


def test_reschedule_moves_the_seats_and_keeps_id_and_number(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    visit = booked(api, world)
    new_token = issue(api, world.book, CHEN_PC, LATER)
    response = patch(api, visit, move_body(visit["id"], LATER, new_token))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["id"] == visit["id"]
    assert data["attributes"]["confirmation-number"] == visit["attributes"]["confirmation-number"]
    assert data["attributes"]["appointment-at"] == LATER
    assert data["attributes"]["previous-appointment-at"] == AT
    assert data["attributes"]["status"] == "booked"
    offered = times(api, world.read, CHEN_PC)
    assert AT in offered and LATER not in offered
    assert claims_of(session_factory, visit["id"]) == 1
    [(_, booked_event), (kind, moved)] = events_of(session_factory, visit["id"])
    assert kind == "visit.rescheduled"
    assert moved["visit"]["appointment-at"] == LATER
    assert moved["visit"]["previous-appointment-at"] == AT
    assert booked_event["visit"]["appointment-at"] == AT
    # The token is used up: a second move with it is refused.
    again = patch(api, visit, move_body(visit["id"], LATER, new_token))
    assert only_error(again, 422)["code"] == "token-used"


def test_reschedule_to_a_taken_time_changes_nothing(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], clock: Clock
) -> None:
    visit = booked(api, world)
    # Holds off: a token for LATER does not keep it, and someone else books LATER.
    with session_factory() as session, session.begin():
        session.execute(update(HealthSystem).values(hold_minutes=0))
    stale = issue(api, world.book, CHEN_PC, LATER)
    other_token = issue(api, world.book2, CHEN_PC, LATER)
    assert post_visit(api, other_token, visit_body(CHEN_PC, LATER)).status_code == 201
    refused = patch(api, visit, move_body(visit["id"], LATER, stale))
    error = only_error(refused, 422)
    assert error["code"] == "slot-unavailable"
    assert error["source"]["pointer"] == "/data/attributes/appointment-at"
    token = visit["meta"]["management-token"]
    shown = api.get(path(f"/visits/{visit['id']}"), headers=bearer(token))
    assert shown.json()["data"]["attributes"]["appointment-at"] == AT
    assert shown.json()["data"]["attributes"]["previous-appointment-at"] is None
    assert claims_of(session_factory, visit["id"]) == 1
    assert AT not in times(api, world.read, CHEN_PC)
    assert [t for t, _ in events_of(session_factory, visit["id"])] == ["visit.booked"]
    # The token was not used up by the refusal.
    clock.advance(minutes=1)
    with session_factory() as session:
        assert session.scalars(
            select(VisitToken.used_at).where(VisitToken.visit_pk.is_(None))
        ).all() == [None]


def test_an_expired_visit_token_cannot_reschedule(
    api: ApiClient, world: World, clock: Clock
) -> None:
    visit = booked(api, world)
    stale = issue(api, world.book, CHEN_PC, LATER)
    clock.advance(minutes=31)
    error = only_error(patch(api, visit, move_body(visit["id"], LATER, stale)), 422)
    assert error["code"] == "expired-token"
    assert error["source"]["pointer"] == "/data/meta/visit-token"


def test_reschedule_with_a_token_for_another_time_is_a_mismatch(
    api: ApiClient, world: World
) -> None:
    visit = booked(api, world)
    new_token = issue(api, world.book, CHEN_PC, LATER)
    error = only_error(patch(api, visit, move_body(visit["id"], ny(1, "15:00"), new_token)), 422)
    assert error["code"] == "token-mismatch"
    assert error["source"]["pointer"] == "/data/attributes/appointment-at"


def test_reschedule_to_another_schedule_of_the_same_health_system(
    api: ApiClient, world: World
) -> None:
    visit = booked(api, world)
    at = times(api, world.read, GARCIA_PC)[0]
    new_token = issue(api, world.book, GARCIA_PC, at)
    body = move_body(visit["id"], at, new_token)
    body["data"]["relationships"] = {"schedule": {"data": {"type": "schedules", "id": GARCIA_PC}}}
    response = patch(api, visit, body)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["appointment-at"] == at
    related = api.get(path(f"/visits/{visit['id']}/schedule"), params={"api_key": world.read})
    assert related.json()["data"]["id"] == GARCIA_PC


def test_reschedule_with_another_sites_token_is_refused(api: ApiClient, world: World) -> None:
    visit = booked(api, world)
    foreign = api.get(
        path("/visit-token", OTHER_HOST),
        params={
            "schedule_id": OTHER_SCHEDULE,
            "appointment_at": ny(1, "13:00"),
            "api_key": world.other_book,
        },
    )
    assert foreign.status_code == 200, foreign.text
    error = only_error(patch(api, visit, move_body(visit["id"], ny(1, "13:00"), foreign.text)), 422)
    assert error["code"] == "wrong-site"
    assert error["source"]["pointer"] == "/data/meta/visit-token"


def test_a_cancelled_visit_cannot_be_rescheduled(api: ApiClient, world: World) -> None:
    visit = booked(api, world)
    assert patch(api, visit, cancel_body(visit["id"], None)).status_code == 200
    new_token = issue(api, world.book, CHEN_PC, LATER)
    error = only_error(patch(api, visit, move_body(visit["id"], LATER, new_token)), 422)
    assert error["code"] == "invalid-transition"
    assert LATER not in times(api, world.read, CHEN_PC)  # the new token still holds it


# --- calendar -----------------------------------------------------------------------------


def test_calendar_has_the_event_without_patient_data_and_follows_changes(
    api: ApiClient, world: World
) -> None:
    visit = booked(api, world)
    token = visit["meta"]["management-token"]
    url = path(f"/visits/{visit['id']}/calendar.ics")
    first = api.get(url, params={"token": token})
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("text/calendar")
    for value in (FIRST_NAME, LAST_NAME, EMAIL, PHONE):
        assert value not in first.text
    [event] = Calendar.from_ical(first.content).walk("VEVENT")
    assert str(event["uid"]).startswith(visit["id"])
    assert event["dtstart"].dt.isoformat() == "2026-12-01T11:00:00-05:00"
    assert event["dtstart"].params["TZID"] == "America/New_York"
    assert "David Chen" in str(event["description"])
    assert "Chattanooga" in str(event["location"])
    assert int(event["sequence"]) == 0
    assert str(event["status"]) == "CONFIRMED"

    new_token = issue(api, world.book, CHEN_PC, LATER)
    assert patch(api, visit, move_body(visit["id"], LATER, new_token)).status_code == 200
    [moved] = Calendar.from_ical(api.get(url, params={"token": token}).content).walk("VEVENT")
    assert moved["dtstart"].dt.isoformat() == "2026-12-01T14:00:00-05:00"
    assert int(moved["sequence"]) == 1

    assert patch(api, visit, cancel_body(visit["id"])).status_code == 200
    [gone] = Calendar.from_ical(api.get(url, params={"token": token}).content).walk("VEVENT")
    assert str(gone["status"]) == "CANCELLED"
    assert int(gone["sequence"]) == 2


def test_calendar_needs_the_token(api: ApiClient, world: World) -> None:
    visit = booked(api, world)
    url = path(f"/visits/{visit['id']}/calendar.ics")
    assert only_error(api.get(url), 401)["code"] == "missing-management-token"
    assert only_error(api.get(url, params={"token": "vmt_" + "B" * 43}), 404)["code"] == "not-found"


# --- events -------------------------------------------------------------------------------


def test_the_booked_event_carries_the_visit_without_patient_data(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    visit = booked(api, world)
    [(kind, payload)] = events_of(session_factory, visit["id"])
    assert kind == "visit.booked"
    assert payload == {
        "health-system": "winter-health",
        "visit": {
            "id": visit["id"],
            "confirmation-number": 1,
            "status": "booked",
            "appointment-at": AT,
            "previous-appointment-at": None,
            "schedule": CHEN_PC,
            "location": "chattanooga-downtown",
            "provider": "dr-david-chen",
            "appointment-type": "sick-visit",
        },
    }


def test_no_event_without_its_change_and_no_change_without_its_event(
    api: ApiClient,
    world: World,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = issue(api, world.book, CHEN_PC, AT)

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected failure after the event insert, before commit")

    # visit_document runs after create_visit wrote the visit, its seats and its event.
    monkeypatch.setattr(visits_endpoint, "visit_document", fail)
    response = post_visit(api, token, visit_body(CHEN_PC, AT))
    assert response.status_code == 500
    with session_factory() as session:
        assert session.scalars(select(Event.pk)).all() == []
        assert session.scalars(select(Visit.pk)).all() == []
    monkeypatch.undo()
    response = post_visit(api, token, visit_body(CHEN_PC, AT))
    assert response.status_code == 201
    with session_factory() as session:
        assert len(session.scalars(select(Event.pk)).all()) == 1
