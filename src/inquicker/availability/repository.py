"""Load everything the engine needs for many schedules: one query per table per request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from inquicker.availability.models import SeatClaim
from inquicker.availability.rules import BlockedRange, DateException, OpenRange, ScheduleRules
from inquicker.catalog.models import AppointmentType
from inquicker.catalog.schedule_models import (
    Schedule,
    ScheduleAppointmentType,
    ScheduleBlock,
    ScheduleException,
    ScheduleHours,
)
from inquicker.memo import Memo
from inquicker.tenancy.resolve import Tenant


@dataclass(frozen=True, slots=True)
class OfferedType:
    pk: int
    id: str
    name: str
    priority: int
    duration_minutes: int


@dataclass(frozen=True, slots=True)
class BookableSchedule:
    """A schedule's rules and the appointment types it offers (highest priority first)."""

    pk: int
    id: str
    health_system_pk: int
    rules: ScheduleRules
    types: tuple[OfferedType, ...]

    def default_type(self) -> OfferedType | None:
        return self.types[0] if self.types else None

    def type(self, type_id: str) -> OfferedType | None:
        return next((t for t in self.types if t.id == type_id), None)


# Statements are built once: on this hot path, building them per request cost more than
# running them. Expanding parameters take the lists.
_SCHEDULES = select(
    Schedule.pk,
    Schedule.slug,
    Schedule.health_system_pk,
    Schedule.time_zone_name,
    Schedule.slot_minutes,
    Schedule.capacity,
    Schedule.lead_minutes,
    Schedule.horizon_days,
).where(
    Schedule.slug.in_(bindparam("ids", expanding=True)),
    Schedule.active.is_(True),
    Schedule.health_system_pk.in_(bindparam("hs_pks", expanding=True)),
)
_HOURS = select(
    ScheduleHours.schedule_pk, ScheduleHours.weekday, ScheduleHours.opens, ScheduleHours.closes
).where(ScheduleHours.schedule_pk.in_(bindparam("pks", expanding=True)))
_TYPES = (
    select(
        ScheduleAppointmentType.schedule_pk,
        AppointmentType.pk,
        AppointmentType.slug,
        AppointmentType.name,
        AppointmentType.priority,
        func.coalesce(ScheduleAppointmentType.duration_minutes, AppointmentType.duration_minutes),
    )
    .join(AppointmentType, AppointmentType.pk == ScheduleAppointmentType.appointment_type_pk)
    .where(ScheduleAppointmentType.schedule_pk.in_(bindparam("pks", expanding=True)))
    .order_by(AppointmentType.priority, AppointmentType.name)
)
_EXCEPTIONS = select(
    ScheduleException.schedule_pk,
    ScheduleException.on_date,
    ScheduleException.opens,
    ScheduleException.closes,
).where(
    ScheduleException.schedule_pk.in_(bindparam("pks", expanding=True)),
    ScheduleException.on_date.between(bindparam("first"), bindparam("last")),
)
# Blocks are few per schedule (staff enter them by hand): all of them, whatever the window,
# so a memoised schedule serves every window.
_BLOCKS = (
    select(ScheduleBlock.schedule_pk, ScheduleBlock.starts_at, ScheduleBlock.ends_at)
    .where(ScheduleBlock.schedule_pk.in_(bindparam("pks", expanding=True)))
    .order_by(ScheduleBlock.schedule_pk, ScheduleBlock.starts_at)
)
# Seats per cell, and the earliest expiry of a live hold there (NULL: visits only).
_SEATS = (
    select(
        SeatClaim.schedule_pk,
        SeatClaim.cell_start,
        func.count(),
        func.min(SeatClaim.expires_at),
    )
    .where(
        SeatClaim.schedule_pk.in_(bindparam("pks", expanding=True)),
        SeatClaim.cell_start >= bindparam("first"),
        SeatClaim.cell_start < bindparam("last"),
        # Expiry is part of the query: no background job frees holds.
        or_(SeatClaim.expires_at.is_(None), SeatClaim.expires_at > bindparam("now")),
    )
    .group_by(SeatClaim.schedule_pk, SeatClaim.cell_start)
)


def load_schedules(
    session: Session,
    health_system_pks: Sequence[int],
    schedule_ids: Sequence[str],
    exceptions_from: date,
    exceptions_to: date,
) -> dict[str, BookableSchedule]:
    """Active schedules of the tenant among ``schedule_ids``, keyed by id, with their rules."""
    conn = session.connection()
    rows = conn.execute(
        _SCHEDULES, {"ids": list(schedule_ids), "hs_pks": list(health_system_pks)}
    ).all()
    pks = [r.pk for r in rows]
    if not pks:
        return {}
    weekly: dict[int, list[OpenRange]] = {}
    for pk, weekday, opens, closes in conn.execute(_HOURS, {"pks": pks}).all():
        weekly.setdefault(pk, []).append(OpenRange(weekday, opens, closes))
    exceptions = _exceptions(session, pks, exceptions_from, exceptions_to)
    blocked: dict[int, list[BlockedRange]] = {}
    for pk, starts_at, ends_at in conn.execute(_BLOCKS, {"pks": pks}).all():
        blocked.setdefault(pk, []).append(BlockedRange(starts_at, ends_at))
    types: dict[int, list[OfferedType]] = {}
    for pk, type_pk, slug, name, priority, duration in conn.execute(_TYPES, {"pks": pks}).all():
        types.setdefault(pk, []).append(OfferedType(type_pk, slug, name, priority, duration))
    return {
        r.slug: BookableSchedule(
            pk=r.pk,
            id=r.slug,
            health_system_pk=r.health_system_pk,
            rules=ScheduleRules(
                time_zone=r.time_zone_name,
                slot_minutes=r.slot_minutes,
                capacity=r.capacity,
                lead_minutes=r.lead_minutes,
                horizon_days=r.horizon_days,
                weekly=tuple(weekly.get(r.pk, ())),
                exceptions=exceptions.get(r.pk, ()),
                blocked=tuple(blocked.get(r.pk, ())),
            ),
            types=tuple(types.get(r.pk, ())),
        )
        for r in rows
    }


def _exceptions(
    session: Session, pks: Sequence[int], first: date, last: date
) -> dict[int, tuple[DateException, ...]]:
    closed: set[tuple[int, date]] = set()
    ranges: dict[tuple[int, date], list[tuple[time, time]]] = {}
    params = {"pks": list(pks), "first": first, "last": last}
    for pk, on_date, opens, closes in session.connection().execute(_EXCEPTIONS, params).all():
        if opens is None or closes is None:
            closed.add((pk, on_date))
        else:
            ranges.setdefault((pk, on_date), []).append((opens, closes))
    out: dict[int, list[DateException]] = {}
    for pk, on_date in sorted(closed | set(ranges)):
        # Closed all day wins over replacement hours on the same date.
        spans = () if (pk, on_date) in closed else tuple(sorted(ranges[(pk, on_date)]))
        out.setdefault(pk, []).append(DateException(on_date, spans))
    return {pk: tuple(excs) for pk, excs in out.items()}


# Explain tells booked seats from held ones: a hold has an expiry, a visit's seat has none.
_SEATS_BY_KIND = (
    select(SeatClaim.cell_start, SeatClaim.expires_at.is_not(None), func.count())
    .where(
        SeatClaim.schedule_pk == bindparam("pk"),
        SeatClaim.cell_start >= bindparam("first"),
        SeatClaim.cell_start < bindparam("last"),
        or_(SeatClaim.expires_at.is_(None), SeatClaim.expires_at > bindparam("now")),
    )
    .group_by(SeatClaim.cell_start, SeatClaim.expires_at.is_not(None))
)


def seats_by_kind(
    session: Session, schedule_pk: int, first: int, last: int, now: int
) -> tuple[dict[int, int], dict[int, int]]:
    """Seats of one schedule per cell start in [first, last): (booked by visits, live holds).

    Together they are exactly what ``seats_taken`` counts.
    """
    booked: dict[int, int] = {}
    held: dict[int, int] = {}
    params = {"pk": schedule_pk, "first": first, "last": last, "now": now}
    for cell_start, is_hold, count in session.connection().execute(_SEATS_BY_KIND, params).all():
        (held if is_hold else booked)[cell_start] = count
    return booked, held


def seats_taken(
    session: Session, schedule_pks: Sequence[int], first: int, last: int, now: int
) -> dict[int, dict[int, int]]:
    """Seats taken per schedule and cell start in [first, last): visits and live holds."""
    return seats_with_expiry(session, schedule_pks, first, last, now)[0]


def seats_with_expiry(
    session: Session, schedule_pks: Sequence[int], first: int, last: int, now: int
) -> tuple[dict[int, dict[int, int]], dict[int, dict[int, int]]]:
    """Per schedule: seats taken per cell start in [first, last) by visits and live holds,
    and the earliest expiry of a live hold per cell that has one."""
    taken: dict[int, dict[int, int]] = {}
    expiries: dict[int, dict[int, int]] = {}
    if not schedule_pks:
        return taken, expiries
    params = {"pks": list(schedule_pks), "first": first, "last": last, "now": now}
    for pk, cell, count, expiry in session.connection().execute(_SEATS, params).all():
        taken.setdefault(pk, {})[cell] = count
        if expiry is not None:
            expiries.setdefault(pk, {})[cell] = expiry
    return taken, expiries


ALL_DATES = (date(1900, 1, 1), date(2200, 12, 31))


def cached_schedules(
    session: Session,
    memo: Memo,
    tenant: Tenant,
    schedule_ids: Sequence[str],
) -> dict[str, BookableSchedule]:
    """Like load_schedules, memoised per tenant data version: rules change only on import or
    an operator's schedule change, and both bump it.

    Cached entries hold every exception of the schedule, whatever window asked for them.
    """
    version = (tenant.health_system_pks, tenant.data_versions)
    found: dict[str, BookableSchedule] = {}
    missing = []
    for schedule_id in schedule_ids:
        hit = memo.get(("bookable", version, schedule_id))
        if hit is None:
            missing.append(schedule_id)
        else:
            found[schedule_id] = hit
    if missing:
        loaded = load_schedules(session, tenant.health_system_pks, missing, *ALL_DATES)
        for schedule_id, schedule in loaded.items():
            memo.put(("bookable", version, schedule_id), schedule)
        found.update(loaded)
    return found
