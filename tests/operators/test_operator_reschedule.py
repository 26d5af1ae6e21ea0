"""An operator reschedules without a visit token (SPEC section 10: "operators can do all of
this without the token"): PATCH /admin/api/visits/{id} with appointment-at alone, and the
booking service behind it (booking/reschedule.py), on both engines.

Bookings are on CHEN_PC (New York, capacity 1, 15-minute grid, bookable from 10:00 EST on
2026-12-01, the clock's day).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from inquicker.availability import repository as availability_repository
from inquicker.booking import holds, seats
from inquicker.booking.models import Visit, VisitToken
from inquicker.operators.models import AuditEntry
from inquicker.tenancy.models import HealthSystem
from tests.booking_http.helpers import book, issue, ny, times
from tests.booking_http.test_lifecycle import claims_of, events_of
from tests.booking_http.world import CHEN_PC, GARCIA_PC, OTHER_SCHEDULE, World
from tests.conftest import ApiClient
from tests.operators.conftest import Staff, bearer, email

JSONAPI = "application/vnd.api+json"
AT = ny(1, "11:00")
LATER = ny(1, "14:00")


def move(
    api: ApiClient,
    token: str,
    visit_id: str,
    at: str,
    *,
    schedule: str | None = None,
    meta: dict[str, Any] | None = None,
    type_id: str | None = None,
) -> Any:
    data: dict[str, Any] = {"type": "visits", "id": visit_id, "attributes": {"appointment-at": at}}
    if schedule is not None:
        data["relationships"] = {"schedule": {"data": {"type": "schedules", "id": schedule}}}
    if meta is not None:
        data["meta"] = meta
    if type_id is not None:
        data["attributes"]["appointment-type"] = type_id
    return api.patch(
        f"/admin/api/visits/{visit_id}",
        json={"data": data},
        headers={**bearer(token), "Content-Type": JSONAPI},
    )


def error_of(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    found: dict[str, Any] = error
    return found


def unchanged(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], visit_id: str
) -> None:
    """The visit is still at AT with its one seat and its one event, and no operator token
    (nor its hold) outlived the refusal."""
    with session_factory() as session:
        visit = session.scalars(select(Visit).where(Visit.visit_id == visit_id)).one()
        assert visit.previous_appointment_at is None
        assert visit.sequence == 0
        assert (
            session.scalars(select(VisitToken).where(VisitToken.api_key_pk.is_(None))).all() == []
        )
    assert claims_of(session_factory, visit_id) == 1
    assert [t for t, _ in events_of(session_factory, visit_id)] == ["visit.booked"]
    assert AT not in times(api, world.read, CHEN_PC)


def test_an_operator_moves_a_visit_without_a_visit_token(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    visit = book(api, world.book, CHEN_PC, AT)
    response = move(api, staff.tokens["scheduler"], visit["id"], LATER)
    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert response.json()["data"]["id"] == visit["id"]
    assert attributes["confirmation-number"] == visit["attributes"]["confirmation-number"]
    assert attributes["appointment-at"] == LATER
    assert attributes["previous-appointment-at"] == AT
    assert attributes["status"] == "booked"
    # The type the patient booked is kept (the schedule's default would be the same here,
    # so compare with what was booked rather than with a constant).
    assert attributes["appointment-type"] == visit["attributes"]["appointment-type"]
    # The seats moved: the old time is offered again at once, the new one is not.
    offered = times(api, world.read, CHEN_PC)
    assert AT in offered and LATER not in offered
    assert claims_of(session_factory, visit["id"]) == 1
    [(_, _), (kind, moved)] = events_of(session_factory, visit["id"])
    assert kind == "visit.rescheduled"
    assert moved["visit"]["appointment-at"] == LATER
    assert moved["visit"]["previous-appointment-at"] == AT
    with session_factory() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "visit.reschedule")
        ).all()
        assert entry.actor == email("scheduler")
        assert entry.visit_id == visit["id"]
        assert entry.patient_data is False
        assert entry.details == {
            "schedule": CHEN_PC,
            "from": AT,
            "to": LATER,
            "with-visit-token": False,
        }
        # The new time's token is recorded (used, for this visit) with no API key, and
        # counts against no partner's cap of live holds.
        [token] = session.scalars(select(VisitToken).where(VisitToken.api_key_pk.is_(None))).all()
        assert token.used_at is not None
        visit_pk = session.scalar(select(Visit.pk).where(Visit.visit_id == visit["id"]))
        assert token.visit_pk == visit_pk
        keys = session.scalars(select(VisitToken.api_key_pk).distinct()).all()
        for key_pk in keys:
            if key_pk is not None:
                assert seats.live_holds(session, key_pk, 0) == 0


def test_the_visit_token_form_still_works_for_operators(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    visit = book(api, world.book, CHEN_PC, AT)
    token = issue(api, world.book, CHEN_PC, LATER)
    response = move(api, staff.tokens["admin"], visit["id"], LATER, meta={"visit-token": token})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["appointment-at"] == LATER
    with session_factory() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "visit.reschedule")
        ).all()
        assert entry.details["with-visit-token"] is True
        assert (
            session.scalars(select(VisitToken).where(VisitToken.api_key_pk.is_(None))).all() == []
        )
    # A blank token is still a mistake, not a request for the operator's own hold.
    refused = move(api, staff.tokens["admin"], visit["id"], AT, meta={"visit-token": " "})
    assert error_of(refused)["code"] == "visit-token-required"


def test_to_another_schedule_of_the_same_health_system_only(
    api: ApiClient, world: World, staff: Staff
) -> None:
    visit = book(api, world.book, CHEN_PC, AT)
    scheduler = staff.tokens["scheduler"]
    elsewhere = move(api, scheduler, visit["id"], LATER, schedule=OTHER_SCHEDULE)
    error = error_of(elsewhere)
    assert error["code"] == "other-health-system"
    assert error["source"]["pointer"] == "/data/relationships/schedule/data/id"
    moved = move(api, scheduler, visit["id"], LATER, schedule=GARCIA_PC)
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["attributes"]["appointment-at"] == LATER
    assert LATER not in times(api, world.read, GARCIA_PC)
    assert AT in times(api, world.read, CHEN_PC)


@pytest.mark.parametrize(
    ("at", "type_id", "code"),
    [
        (ny(1, "03:00"), None, "time-not-offered"),  # closed
        (ny(1, "14:07"), None, "time-not-offered"),  # off the grid
        (LATER, "no-such-type", "appointment-type-not-offered"),
    ],
)
def test_a_time_or_type_not_offered_is_422_and_changes_nothing(
    api: ApiClient,
    world: World,
    staff: Staff,
    session_factory: sessionmaker[Session],
    at: str,
    type_id: str | None,
    code: str,
) -> None:
    visit = book(api, world.book, CHEN_PC, AT)
    refused = move(api, staff.tokens["scheduler"], visit["id"], at, type_id=type_id)
    error = error_of(refused)
    assert error["code"] == code
    assert error["source"]["pointer"].startswith("/data/attributes/")
    unchanged(api, world, session_factory, visit["id"])


def test_a_taken_time_is_slot_unavailable(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    visit = book(api, world.book, CHEN_PC, AT)
    book(api, world.book2, CHEN_PC, LATER)
    refused = move(api, staff.tokens["scheduler"], visit["id"], LATER)
    error = error_of(refused)
    assert error["code"] == "slot-unavailable"
    assert error["detail"] == "That time is no longer available."
    unchanged(api, world, session_factory, visit["id"])


@pytest.mark.parametrize("hold_minutes", [10, 0], ids=["holds", "no-holds"])
def test_a_lost_race_changes_nothing(
    api: ApiClient,
    world: World,
    staff: Staff,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    hold_minutes: int,
) -> None:
    """The time looked free when checked (as it did to the operator picking it) but another
    booking got its seat first: the seat claim fails, and the savepoint undoes the token,
    the hold and the freed old seats alike. With holds on, the hold's claim is what fails;
    with them off, the reschedule's own claim, after the old seats were freed."""
    with session_factory() as session, session.begin():
        session.execute(update(HealthSystem).values(hold_minutes=hold_minutes))
    visit = book(api, world.book, CHEN_PC, AT)
    book(api, world.book2, CHEN_PC, LATER)
    # The availability check reads the seats as they were before the other booking.
    monkeypatch.setattr(holds, "seats_taken", lambda *args, **kwargs: {})
    refused = move(api, staff.tokens["scheduler"], visit["id"], LATER)
    assert error_of(refused)["code"] == "slot-unavailable"
    monkeypatch.setattr(holds, "seats_taken", availability_repository.seats_taken)
    unchanged(api, world, session_factory, visit["id"])
    with session_factory() as session:
        assert not session.scalars(
            select(AuditEntry).where(AuditEntry.action == "visit.reschedule")
        ).all()


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_viewers_and_auditors_cannot_move_a_visit(
    api: ApiClient, world: World, staff: Staff, role: str, session_factory: sessionmaker[Session]
) -> None:
    visit = book(api, world.book, CHEN_PC, AT)
    assert error_of(move(api, staff.tokens[role], visit["id"], LATER), 403)["code"] == "forbidden"
    assert error_of(move(api, staff.other, visit["id"], LATER), 404)["code"] == "not-found"
    unchanged(api, world, session_factory, visit["id"])


def test_a_cancelled_visit_cannot_move(api: ApiClient, world: World, staff: Staff) -> None:
    visit = book(api, world.book, CHEN_PC, AT)
    headers = {**bearer(staff.tokens["admin"]), "Content-Type": JSONAPI}
    body = {"data": {"type": "visits", "attributes": {"status": "cancelled"}}}
    assert api.patch(f"/admin/api/visits/{visit['id']}", json=body, headers=headers).is_success
    assert error_of(move(api, staff.tokens["admin"], visit["id"], LATER))["code"] == (
        "invalid-transition"
    )


def test_the_booking_switch_stops_partners_not_staff(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    # Documented in docs/operations.md: booking_enabled stops partners' online booking; staff
    # moving a visit (by phone, say) are not bound by it, as by the cancellation cutoff.
    visit = book(api, world.book, CHEN_PC, AT)
    with session_factory() as session, session.begin():
        session.execute(update(HealthSystem).values(booking_enabled=False))
    moved = move(api, staff.tokens["scheduler"], visit["id"], LATER)
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["attributes"]["appointment-at"] == LATER


def test_repeating_a_move_is_answered_with_the_same_visit(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    visit = book(api, world.book, CHEN_PC, AT)
    first = move(api, staff.tokens["scheduler"], visit["id"], LATER)
    again = move(api, staff.tokens["scheduler"], visit["id"], LATER)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert [t for t, _ in events_of(session_factory, visit["id"])] == [
        "visit.booked",
        "visit.rescheduled",
    ]
    with session_factory() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "visit.reschedule")
        ).all()
        assert len(entries) == 1
