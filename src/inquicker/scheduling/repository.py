"""The SQL of schedule management: read a schedule with its rules, its booked visits and
their seats; write a change; bump the health system's data version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from inquicker.availability.models import SeatClaim
from inquicker.booking import lifecycle
from inquicker.booking.models import Visit
from inquicker.catalog.models import AppointmentType, Location, Provider
from inquicker.catalog.schedule_models import (
    Schedule,
    ScheduleBlock,
    ScheduleException,
    ScheduleHours,
)
from inquicker.scheduling.changes import ScheduleChange
from inquicker.tenancy.models import HealthSystem


@dataclass(frozen=True)
class StoredBlock:
    pk: int
    starts_at: datetime
    ends_at: datetime
    reason: str | None


@dataclass(frozen=True)
class StoredException:
    on_date: date
    opens: time | None
    closes: time | None


@dataclass(frozen=True)
class ScheduleState:
    """One schedule as operators manage it."""

    pk: int
    id: str
    health_system_pk: int
    name: str
    location_name: str
    provider_name: str
    time_zone: str
    slot_minutes: int
    capacity: int
    lead_minutes: int
    horizon_days: int
    weekly: tuple[tuple[int, time, time], ...]
    exceptions: tuple[StoredException, ...]
    blocks: tuple[StoredBlock, ...]


@dataclass(frozen=True)
class BookedSeats:
    """A booked visit and the cells its seats occupy (no patient data)."""

    pk: int
    visit_id: str
    confirmation_number: int
    appointment_at: int
    appointment_type_name: str | None
    cells: tuple[int, ...]


_COLUMNS = (
    "pk",
    "slug",
    "health_system_pk",
    "name",
    "time_zone_name",
    "slot_minutes",
    "capacity",
    "lead_minutes",
    "horizon_days",
)
_LIST = (
    select(
        Schedule.slug,
        Schedule.name,
        Schedule.time_zone_name,
        Schedule.capacity,
        Schedule.slot_minutes,
        Location.name.label("location_name"),
        Provider.name.label("provider_name"),
    )
    .join(Location, Location.pk == Schedule.location_pk)
    .join(Provider, Provider.pk == Schedule.provider_pk)
    .where(Schedule.active.is_(True))
    .order_by(Schedule.name, Schedule.slug)
)


def schedules(conn: Connection, hs_pks: Sequence[int]) -> list[Any]:
    """The active schedules of these health systems, by name."""
    return list(conn.execute(_LIST.where(Schedule.health_system_pk.in_(list(hs_pks)))).all())


def load(
    conn: Connection, schedule_id: str, hs_pks: Sequence[int], *, lock: bool = False
) -> ScheduleState | None:
    """The schedule (None if not these health systems'); ``lock`` takes the booking path's
    schedule lock, so no booking commits between a change's conflict check and its save."""
    table = Schedule.__table__
    stmt = (
        select(
            *[table.c[name] for name in _COLUMNS],
            Location.name.label("location_name"),
            Provider.name.label("provider_name"),
        )
        .join(Location, Location.pk == Schedule.location_pk)
        .join(Provider, Provider.pk == Schedule.provider_pk)
        .where(
            Schedule.slug == schedule_id,
            Schedule.active.is_(True),
            Schedule.health_system_pk.in_(list(hs_pks)),
        )
    )
    if lock:
        # NO KEY UPDATE, as booking takes it (booking/seats.py): bookings queue behind us.
        stmt = stmt.with_for_update(of=table, key_share=True)
    row = conn.execute(stmt).first()
    if row is None:
        return None
    pk = row.pk
    weekly = conn.execute(
        select(ScheduleHours.weekday, ScheduleHours.opens, ScheduleHours.closes)
        .where(ScheduleHours.schedule_pk == pk)
        .order_by(ScheduleHours.weekday, ScheduleHours.opens)
    ).all()
    exceptions = conn.execute(
        select(ScheduleException.on_date, ScheduleException.opens, ScheduleException.closes)
        .where(ScheduleException.schedule_pk == pk)
        .order_by(ScheduleException.on_date, ScheduleException.opens)
    ).all()
    blocks = conn.execute(
        select(
            ScheduleBlock.pk, ScheduleBlock.starts_at, ScheduleBlock.ends_at, ScheduleBlock.reason
        )
        .where(ScheduleBlock.schedule_pk == pk)
        .order_by(ScheduleBlock.starts_at, ScheduleBlock.pk)
    ).all()
    return ScheduleState(
        pk=pk,
        id=row.slug,
        health_system_pk=row.health_system_pk,
        name=row.name,
        location_name=row.location_name,
        provider_name=row.provider_name,
        time_zone=row.time_zone_name,
        slot_minutes=row.slot_minutes,
        capacity=row.capacity,
        lead_minutes=row.lead_minutes,
        horizon_days=row.horizon_days,
        weekly=tuple((w, o, c) for w, o, c in weekly),
        exceptions=tuple(StoredException(d, o, c) for d, o, c in exceptions),
        blocks=tuple(StoredBlock(*b) for b in blocks),
    )


def booked_seats(conn: Connection, schedule_pk: int, since: int) -> list[BookedSeats]:
    """Booked visits of the schedule with a seat in a cell starting at or after ``since``,
    by time, each with every cell it occupies."""
    rows = conn.execute(
        select(
            Visit.pk,
            Visit.visit_id,
            Visit.confirmation_number,
            Visit.appointment_at,
            AppointmentType.name,
            SeatClaim.cell_start,
        )
        .join(SeatClaim, SeatClaim.visit_pk == Visit.pk)
        .outerjoin(AppointmentType, AppointmentType.pk == Visit.appointment_type_pk)
        .where(
            Visit.schedule_pk == schedule_pk,
            Visit.status == lifecycle.BOOKED,
            SeatClaim.schedule_pk == schedule_pk,
            Visit.pk.in_(
                select(SeatClaim.visit_pk).where(
                    SeatClaim.schedule_pk == schedule_pk, SeatClaim.cell_start >= since
                )
            ),
        )
        .order_by(Visit.appointment_at, Visit.pk, SeatClaim.cell_start)
    ).all()
    out: dict[int, BookedSeats] = {}
    for pk, visit_id, number, at, type_name, cell in rows:
        found = out.get(pk)
        cells = (*found.cells, cell) if found else (cell,)
        out[pk] = BookedSeats(pk, visit_id, number, at, type_name, cells)
    return list(out.values())


def save(conn: Connection, state: ScheduleState, change: ScheduleChange) -> None:
    """Write the change to the schedule's rows (validated beforehand)."""
    pk = state.pk
    if change.weekly_hours is not None:
        conn.execute(delete(ScheduleHours).where(ScheduleHours.schedule_pk == pk))
        if change.weekly_hours:
            conn.execute(
                insert(ScheduleHours),
                [
                    {"schedule_pk": pk, "weekday": h.weekday, "opens": h.opens, "closes": h.closes}
                    for h in change.weekly_hours
                ],
            )
    # Added exceptions replace the date's old ones: "other hours" means these hours.
    dates = {*change.remove_exceptions, *(e.on_date for e in change.add_exceptions)}
    if dates:
        conn.execute(
            delete(ScheduleException).where(
                ScheduleException.schedule_pk == pk, ScheduleException.on_date.in_(dates)
            )
        )
    if change.add_exceptions:
        conn.execute(
            insert(ScheduleException),
            [
                {"schedule_pk": pk, "on_date": e.on_date, "opens": e.opens, "closes": e.closes}
                for e in change.add_exceptions
            ],
        )
    if change.remove_blocks:
        conn.execute(
            delete(ScheduleBlock).where(
                ScheduleBlock.schedule_pk == pk, ScheduleBlock.pk.in_(change.remove_blocks)
            )
        )
    if change.add_blocks:
        conn.execute(
            insert(ScheduleBlock),
            [
                {
                    "schedule_pk": pk,
                    "starts_at": b.starts_at,
                    "ends_at": b.ends_at,
                    "reason": b.reason,
                }
                for b in change.add_blocks
            ],
        )
    values = {
        name: value
        for name, value in (
            ("capacity", change.capacity),
            ("slot_minutes", change.slot_minutes),
            ("lead_minutes", change.lead_minutes),
        )
        if value is not None
    }
    if values:
        conn.execute(update(Schedule).where(Schedule.pk == pk).values(**values))


def bump_data_version(conn: Connection, health_system_pk: int) -> None:
    """Every process's caches key on the data version: bumping it is what makes them serve
    the change (docs/operations.md, "Caches and freshness")."""
    conn.execute(
        update(HealthSystem)
        .where(HealthSystem.pk == health_system_pk)
        .values(data_version=HealthSystem.data_version + 1)
    )
