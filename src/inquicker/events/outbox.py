"""Writing events: in the transaction of the change they describe (a transactional outbox).

A change and its event commit together or not at all, so no subscriber ever hears of a
change that did not happen, nor misses one that did.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select

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


def record_visit_event(conn: Connection, event_type: str, visit_pk: int, now: datetime) -> int:
    """Write ``event_type`` for the visit as it now stands (after the change); its pk."""
    row = conn.execute(_VISIT_FACTS, {"visit_pk": visit_pk}).one()
    zone = row.time_zone_name
    previous = row.previous_appointment_at
    payload: dict[str, Any] = {
        "health-system": row.health_system,
        "visit": {
            "id": row.visit_id,
            "confirmation-number": row.confirmation_number,
            "status": row.status,
            "appointment-at": format_times([row.appointment_at], zone)[0],
            "previous-appointment-at": (
                format_times([previous], zone)[0] if previous is not None else None
            ),
            "schedule": row.schedule,
            "location": row.location,
            "provider": row.provider,
            "appointment-type": row.appointment_type,
        },
    }
    pk: int = conn.execute(
        _INSERT,
        {
            "health_system_pk": row.health_system_pk,
            "visit_pk": visit_pk,
            "type": event_type,
            "occurred_at": now,
            "payload": payload,
        },
    ).scalar_one()
    return pk


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
