"""Writing events: in the transaction of the change they describe (a transactional outbox).

A change and its event commit together or not at all, so no subscriber ever hears of a
change that did not happen, nor misses one that did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CTE, Connection, Insert, Table, bindparam, insert, select

from inquicker.availability.zones import format_times
from inquicker.booking.models import Visit
from inquicker.catalog.models import AppointmentType, Location, Provider
from inquicker.catalog.schedule_models import Schedule
from inquicker.events.models import Event
from inquicker.tenancy.models import HealthSystem

EVENTS: Table = Event.__table__  # type: ignore[assignment]

_VISIT_FACTS = (
    select(
        Visit.health_system_pk,
        Visit.visit_id,
        Visit.confirmation_number,
        Visit.status,
        Visit.appointment_at,
        Visit.previous_appointment_at,
        Schedule.slug.label("schedule"),
        Schedule.time_zone_name,
        Location.slug.label("location"),
        Provider.slug.label("provider"),
        AppointmentType.slug.label("appointment_type"),
        HealthSystem.slug.label("health_system"),
    )
    .join(Schedule, Schedule.pk == Visit.schedule_pk)
    .join(Location, Location.pk == Schedule.location_pk)
    .join(Provider, Provider.pk == Schedule.provider_pk)
    .join(HealthSystem, HealthSystem.pk == Visit.health_system_pk)
    .outerjoin(AppointmentType, AppointmentType.pk == Visit.appointment_type_pk)
    .where(Visit.pk == bindparam("visit_pk"))
)
_INSERT = insert(EVENTS).returning(EVENTS.c.pk)


@dataclass(frozen=True, slots=True)
class ScheduleFacts:
    """Catalog ids an event names for a visit on a schedule (read with a booking's facts,
    memoised per data version: booking.repository.BookingFacts)."""

    health_system_pk: int
    health_system: str
    schedule: str
    location: str
    provider: str
    time_zone: str


def visit_payload(
    facts: ScheduleFacts,
    *,
    visit_id: str,
    confirmation_number: int,
    status: str,
    appointment_at: int,
    previous_appointment_at: int | None,
    appointment_type: str | None,
) -> dict[str, Any]:
    """The event's data (SPEC section 11) without patient data."""
    zone = facts.time_zone
    return {
        "health-system": facts.health_system,
        "visit": {
            "id": visit_id,
            "confirmation-number": confirmation_number,
            "status": status,
            "appointment-at": format_times([appointment_at], zone)[0],
            "previous-appointment-at": (
                format_times([previous_appointment_at], zone)[0]
                if previous_appointment_at is not None
                else None
            ),
            "schedule": facts.schedule,
            "location": facts.location,
            "provider": facts.provider,
            "appointment-type": appointment_type,
        },
    }


def insert_after(change: CTE) -> Insert:
    """The event's INSERT with ``change`` (a data-modifying CTE: UPDATE, INSERT or DELETE)
    run by the same statement: a change and its event in one round trip (PostgreSQL; SQLite
    has no data-modifying CTEs). Build it once, at import, like the other statements."""
    return insert(EVENTS).add_cte(change).returning(EVENTS.c.pk)


def record_event(
    conn: Connection,
    event_type: str,
    *,
    health_system_pk: int,
    visit_pk: int,
    payload: dict[str, Any],
    now: datetime,
    statement: Insert | None = None,
    change_params: Mapping[str, Any] | None = None,
) -> int:
    """Insert the event (one statement, in the caller's transaction); its pk.

    ``statement``/``change_params``: an ``insert_after`` statement and its change's
    parameters, to run a change of the caller's in the same statement (None: the event
    alone)."""
    pk: int = conn.execute(
        statement if statement is not None else _INSERT,
        {
            **(change_params or {}),
            "health_system_pk": health_system_pk,
            "visit_pk": visit_pk,
            "type": event_type,
            "occurred_at": now,
            "payload": payload,
        },
    ).scalar_one()
    return pk


def record_visit_event(conn: Connection, event_type: str, visit_pk: int, now: datetime) -> int:
    """Write ``event_type`` for the visit as it now stands (after the change); its pk."""
    row = conn.execute(_VISIT_FACTS, {"visit_pk": visit_pk}).one()
    facts = ScheduleFacts(
        row.health_system_pk,
        row.health_system,
        row.schedule,
        row.location,
        row.provider,
        row.time_zone_name,
    )
    payload = visit_payload(
        facts,
        visit_id=row.visit_id,
        confirmation_number=row.confirmation_number,
        status=row.status,
        appointment_at=row.appointment_at,
        previous_appointment_at=row.previous_appointment_at,
        appointment_type=row.appointment_type,
    )
    return record_event(
        conn,
        event_type,
        health_system_pk=row.health_system_pk,
        visit_pk=visit_pk,
        payload=payload,
        now=now,
    )


def event_document(
    pk: int, event_type: str, occurred_at: datetime, payload: dict[str, Any]
) -> dict[str, Any]:
    """The event as subscribers see it (SPEC section 11): id, type, occurred-at, data."""
    return {
        "id": str(pk),
        "type": event_type,
        "occurred-at": occurred_at.isoformat().replace("+00:00", "Z"),
        **payload,
    }
