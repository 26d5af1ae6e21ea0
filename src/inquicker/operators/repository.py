"""The operator side's SQL: visits with their catalog names in one query per page, and the
event feed by position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    false,
    func,
    or_,
    select,
)

from inquicker.booking.models import Visit
from inquicker.catalog.models import AppointmentType, Location, Provider
from inquicker.catalog.schedule_models import Schedule
from inquicker.events.models import Event
from inquicker.tenancy.models import Site

VISITS: Table = Visit.__table__  # type: ignore[assignment]
EVENTS: Table = Event.__table__  # type: ignore[assignment]

# Sort keys of GET /admin/api/visits and the columns they order by.
SORTS: dict[str, Any] = {
    "appointment-at": Visit.appointment_at,
    "confirmation-number": Visit.confirmation_number,
    "created-at": Visit.created_at,
    "status": Visit.status,
}


@dataclass(frozen=True)
class VisitFilters:
    health_system_pks: Sequence[int]
    date_from: date | None = None
    date_to: date | None = None
    location: str | None = None
    provider: str | None = None
    schedule: str | None = None
    statuses: Sequence[str] = ()
    confirmation_number: int | None = None
    visit_id: str | None = None


def _columns(with_patient: bool) -> list[Any]:
    cols: list[Any] = [
        Visit.pk,
        Visit.visit_id,
        Visit.health_system_pk,
        Visit.site_pk,
        Site.hostname,
        Visit.status,
        Visit.appointment_at,
        Visit.previous_appointment_at,
        Visit.confirmation_number,
        Visit.cancelled_at,
        Visit.cancellation_reason,
        Visit.created_at,
        Schedule.slug.label("schedule"),
        Schedule.name.label("schedule_name"),
        Schedule.time_zone_name,
        Location.slug.label("location"),
        Location.name.label("location_name"),
        Provider.slug.label("provider"),
        Provider.name.label("provider_name"),
        AppointmentType.slug.label("appointment_type"),
        AppointmentType.name.label("appointment_type_name"),
    ]
    if with_patient:
        cols.append(Visit.patient_data)
    return cols


def _joined(stmt: Select[Any]) -> Select[Any]:
    return (
        stmt.join(Schedule, Schedule.pk == Visit.schedule_pk)
        .join(Location, Location.pk == Schedule.location_pk)
        .join(Provider, Provider.pk == Schedule.provider_pk)
        .join(Site, Site.pk == Visit.site_pk)
        .outerjoin(AppointmentType, AppointmentType.pk == Visit.appointment_type_pk)
    )


# Built once: statements are immutable, and rebuilding 21 columns and five joins for every
# request was a visible part of a visits page's CPU.
_ROWS = {flag: _joined(select(*_columns(flag))) for flag in (False, True)}
_COUNT = _joined(select(func.count(Visit.pk)))


def _local_day_bounds(zone: str, first: date | None, last: date | None) -> ColumnElement[bool]:
    """appointment_at within local days first..last (inclusive) in ``zone``."""
    tz = ZoneInfo(zone)
    conds: list[ColumnElement[bool]] = [Schedule.time_zone_name == zone]
    if first is not None:
        start = int(datetime.combine(first, time(0), tz).timestamp())
        conds.append(Visit.appointment_at >= start)
    if last is not None:
        end = int(datetime.combine(last + timedelta(days=1), time(0), tz).timestamp())
        conds.append(Visit.appointment_at < end)
    return and_(*conds)


def time_zones(conn: Connection, hs_pks: Sequence[int]) -> list[str]:
    """The time zones of the health systems' schedules (local dates are per schedule)."""
    return list(
        conn.execute(
            select(Schedule.time_zone_name)
            .where(Schedule.health_system_pk.in_(list(hs_pks)))
            .distinct()
        )
        .scalars()
        .all()
    )


def _where(conn: Connection, f: VisitFilters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Visit.health_system_pk.in_(list(f.health_system_pks))]
    if f.date_from is not None or f.date_to is not None:
        zones = time_zones(conn, f.health_system_pks)
        conds.append(
            or_(*(_local_day_bounds(z, f.date_from, f.date_to) for z in zones))
            if zones
            else false()
        )
    if f.location:
        conds.append(Location.slug == f.location)
    if f.provider:
        conds.append(Provider.slug == f.provider)
    if f.schedule:
        conds.append(Schedule.slug == f.schedule)
    if f.statuses:
        conds.append(Visit.status.in_(list(f.statuses)))
    if f.confirmation_number is not None:
        conds.append(Visit.confirmation_number == f.confirmation_number)
    if f.visit_id is not None:
        conds.append(Visit.visit_id == f.visit_id)
    return conds


def visits_page(
    conn: Connection,
    f: VisitFilters,
    sort: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
    *,
    with_patient: bool,
) -> tuple[list[Any], int]:
    """(rows of one page, total matching): the page, and a count when the page alone does
    not tell (a full page, or an empty one past the first)."""
    conds = _where(conn, f)
    order = [SORTS[name].desc() if desc else SORTS[name] for name, desc in sort]
    stmt = _ROWS[with_patient].where(*conds).order_by(*order, Visit.pk).offset(offset).limit(limit)
    rows = list(conn.execute(stmt).all())
    if 0 < len(rows) < limit or (not rows and offset == 0):
        return rows, offset + len(rows)
    total = conn.execute(_COUNT.where(*conds)).scalar_one()
    return rows, int(total)


def visit_row(
    conn: Connection, visit_id: str, hs_pks: Sequence[int], *, with_patient: bool
) -> Any | None:
    """One visit of these health systems (None for any other: the caller answers 404)."""
    conds = _where(conn, VisitFilters(health_system_pks=hs_pks, visit_id=visit_id))
    return conn.execute(_ROWS[with_patient].where(*conds)).first()


def visit_events(conn: Connection, visit_pk: int) -> list[Any]:
    return list(
        conn.execute(
            select(EVENTS.c.pk, EVENTS.c.type, EVENTS.c.occurred_at, EVENTS.c.position)
            .where(EVENTS.c.visit_pk == visit_pk)
            .order_by(EVENTS.c.pk)
        ).all()
    )


def feed(conn: Connection, hs_pks: Sequence[int], after: int, limit: int) -> list[Any]:
    """Positioned events after ``after`` in position order (see events/sequencer.py)."""
    return list(
        conn.execute(
            select(
                EVENTS.c.pk,
                EVENTS.c.type,
                EVENTS.c.occurred_at,
                EVENTS.c.payload,
                EVENTS.c.position,
            )
            .where(
                EVENTS.c.health_system_pk.in_(list(hs_pks)),
                EVENTS.c.position.is_not(None),
                EVENTS.c.position > after,
            )
            .order_by(EVENTS.c.position)
            .limit(limit)
        ).all()
    )
