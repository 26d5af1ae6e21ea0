"""A small, purpose-built availability data set with hand-checkable hours.

The clock is fixed at NOW = 2026-12-01T12:00:00Z, a Tuesday: 07:00 in New York (EST,
-05:00) and 17:30 in Kolkata (IST, +05:30). December 2026:

    Tue 1  Wed 2  Thu 3  Fri 4  Sat 5  Sun 6
    Mon 7  Tue 8  Wed 9  Thu 10 Fri 11 Sat 12 Sun 13
    Mon 14 Tue 15 Wed 16

Tenant "avail" (HOST):

* NY_CLINIC  America/New_York, 15-minute grid, capacity 1, lead 150 minutes (so on Dec 1
  the earliest bookable start is 12:00Z + 2h30 = 14:30Z = 09:30 local).
  Mon-Fri 09:00-10:00 and 13:00-14:00 (lunch 10:00-13:00).
  Exceptions: Tue 2026-12-08 closed; Wed 2026-12-09 only 15:00-15:30.
  Types: quick-check (priority 1, 15 min; the default), follow-up (priority 2, 15 min
  but overridden to 45 min on this schedule), long-visit (priority 3, 30 min: two cells).
* NY_GROUP   America/New_York, 30-minute grid, capacity 3, no lead.
  Mon-Fri 10:00-11:30. Types: group-class (priority 2, 30 min).
* KOLKATA    Asia/Kolkata, 30-minute grid, capacity 1, no lead.
  Mon-Sat 10:00-12:00 and 14:00-15:00. Exception: Sat 2026-12-12 closed.
  Types: tele-visit (priority 2, 30 min; the default), consult (priority 4, 60 min).
* NY_RETIRED inactive (never offered).
* EXTRA_IDS  seven more New York schedules (for the query-count test).
* unused-type: an appointment type of the tenant that no schedule offers.

Tenant "other" (OTHER_HOST): OTHER_SCHEDULE with type other-visit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from inquicker.availability.models import SeatClaim
from inquicker.catalog.models import AppointmentType, Location, Provider, Service
from inquicker.catalog.schedule_models import (
    Schedule,
    ScheduleAppointmentType,
    ScheduleException,
    ScheduleHours,
)
from inquicker.tenancy.keys import create_key
from inquicker.tenancy.models import HealthSystem, Site, SiteHealthSystem

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOW_EPOCH = int(NOW.timestamp())

HOST = "avail.example.com"
OTHER_HOST = "avail-other.example.com"

NEW_YORK = "America/New_York"
KOLKATA_ZONE = "Asia/Kolkata"

NY_CLINIC = "ny-clinic"
NY_GROUP = "ny-group"
KOLKATA = "kolkata-clinic"
NY_RETIRED = "ny-retired"
EXTRA_IDS = tuple(f"ny-extra-{n}" for n in range(1, 8))
OTHER_SCHEDULE = "other-clinic"

WEEKDAYS = range(5)  # Monday .. Friday


@dataclass(frozen=True)
class Avail:
    """What the tests need back: keys and schedule primary keys (for seat claims)."""

    key: str
    other_key: str
    pks: dict[str, int]


def _tenant(session: Session, slug: str, host: str) -> HealthSystem:
    hs = HealthSystem(slug=slug, name=slug.title(), features=[], visit_settings={})
    site = Site(hostname=host, name=slug.title())
    session.add_all([hs, site])
    session.flush()
    session.add(SiteHealthSystem(site_pk=site.pk, health_system_pk=hs.pk))
    return hs


def _schedule(
    session: Session,
    hs: HealthSystem,
    slug: str,
    zone: str,
    *,
    slot: int,
    capacity: int = 1,
    lead: int = 0,
    active: bool = True,
) -> Schedule:
    provider = Provider(health_system_pk=hs.pk, slug=f"dr-{slug}", name=f"Dr {slug}")
    location = Location(health_system_pk=hs.pk, slug=f"loc-{slug}", name=f"Clinic {slug}")
    service = Service(health_system_pk=hs.pk, slug=f"svc-{slug}", name=f"Service {slug}")
    session.add_all([provider, location, service])
    session.flush()
    schedule = Schedule(
        health_system_pk=hs.pk,
        slug=slug,
        name=f"Schedule {slug}",
        provider_pk=provider.pk,
        location_pk=location.pk,
        service_pk=service.pk,
        time_zone_name=zone,
        active=active,
        slot_minutes=slot,
        capacity=capacity,
        lead_minutes=lead,
        horizon_days=90,
        visit_settings={},
    )
    session.add(schedule)
    session.flush()
    return schedule


def _hours(
    session: Session, schedule: Schedule, weekdays: range, ranges: list[tuple[time, time]]
) -> None:
    session.add_all(
        ScheduleHours(schedule_pk=schedule.pk, weekday=day, opens=opens, closes=closes)
        for day in weekdays
        for opens, closes in ranges
    )


def _type(session: Session, hs: HealthSystem, slug: str, name: str, priority: int, minutes: int):
    t = AppointmentType(
        health_system_pk=hs.pk, slug=slug, name=name, priority=priority, duration_minutes=minutes
    )
    session.add(t)
    session.flush()
    return t


def _offer(
    session: Session, schedule: Schedule, type_: AppointmentType, minutes: int | None = None
) -> None:
    session.add(
        ScheduleAppointmentType(
            schedule_pk=schedule.pk, appointment_type_pk=type_.pk, duration_minutes=minutes
        )
    )
    session.flush()


def build(session: Session) -> Avail:
    """Insert both tenants; return keys and schedule pks."""
    hs = _tenant(session, "avail", HOST)
    other = _tenant(session, "avail-other", OTHER_HOST)

    # Names sort opposite to priority, so ordering by name would pick the wrong default.
    quick = _type(session, hs, "quick-check", "Zulu Quick Check", priority=1, minutes=15)
    follow = _type(session, hs, "follow-up", "Follow Up", priority=2, minutes=15)
    long_ = _type(session, hs, "long-visit", "Alpha Long Visit", priority=3, minutes=30)
    group = _type(session, hs, "group-class", "Group Class", priority=2, minutes=30)
    tele = _type(session, hs, "tele-visit", "Tele Visit", priority=2, minutes=30)
    consult = _type(session, hs, "consult", "Consult", priority=4, minutes=60)
    _type(session, hs, "unused-type", "Unused", priority=1, minutes=15)
    other_type = _type(session, other, "other-visit", "Other Visit", priority=1, minutes=15)

    ny = _schedule(session, hs, NY_CLINIC, NEW_YORK, slot=15, lead=150)
    _hours(session, ny, WEEKDAYS, [(time(13), time(14)), (time(9), time(10))])
    session.add_all(
        [
            ScheduleException(schedule_pk=ny.pk, on_date=date(2026, 12, 8)),
            ScheduleException(
                schedule_pk=ny.pk, on_date=date(2026, 12, 9), opens=time(15), closes=time(15, 30)
            ),
        ]
    )
    # quick-check linked last: insertion order must not decide the default either.
    _offer(session, ny, long_)
    _offer(session, ny, follow, minutes=45)
    _offer(session, ny, quick)

    grp = _schedule(session, hs, NY_GROUP, NEW_YORK, slot=30, capacity=3)
    _hours(session, grp, WEEKDAYS, [(time(10), time(11, 30))])
    _offer(session, grp, group)

    ind = _schedule(session, hs, KOLKATA, KOLKATA_ZONE, slot=30)
    _hours(session, ind, range(6), [(time(10), time(12)), (time(14), time(15))])
    session.add(ScheduleException(schedule_pk=ind.pk, on_date=date(2026, 12, 12)))
    _offer(session, ind, consult)
    _offer(session, ind, tele)

    retired = _schedule(session, hs, NY_RETIRED, NEW_YORK, slot=15, active=False)
    _hours(session, retired, WEEKDAYS, [(time(9), time(17))])
    _offer(session, retired, quick)

    pks = {NY_CLINIC: ny.pk, NY_GROUP: grp.pk, KOLKATA: ind.pk, NY_RETIRED: retired.pk}
    for n, slug in enumerate(EXTRA_IDS):
        extra = _schedule(session, hs, slug, NEW_YORK, slot=15, capacity=1 + n % 2)
        _hours(session, extra, WEEKDAYS, [(time(9), time(10)), (time(13), time(14))])
        session.add(ScheduleException(schedule_pk=extra.pk, on_date=date(2026, 12, 2 + n)))
        _offer(session, extra, quick)
        _offer(session, extra, long_)
        pks[slug] = extra.pk

    elsewhere = _schedule(session, other, OTHER_SCHEDULE, NEW_YORK, slot=15)
    _hours(session, elsewhere, WEEKDAYS, [(time(9), time(17))])
    _offer(session, elsewhere, other_type)
    pks[OTHER_SCHEDULE] = elsewhere.pk
    session.flush()

    key = create_key(session, HOST, "avail read", ("read",))
    other_key = create_key(session, OTHER_HOST, "other read", ("read",))
    return Avail(key.secret, other_key.secret, pks)


def epoch(iso: str) -> int:
    """UTC epoch seconds of an ISO 8601 instant with offset (a cell start)."""
    moment = datetime.fromisoformat(iso)
    assert moment.tzinfo is not None
    return int(moment.timestamp())


def claim(
    session: Session,
    schedule_pk: int,
    cell: str,
    *,
    seats: int = 1,
    expires_at: int | None = None,
    first_seat: int = 0,
) -> None:
    """Occupy ``seats`` seats of the cell starting at ``cell`` (a visit, or a hold)."""
    for seat in range(first_seat, first_seat + seats):
        session.add(
            SeatClaim(
                schedule_pk=schedule_pk,
                cell_start=epoch(cell),
                seat=seat,
                visit_pk=None if expires_at is not None else 1000 + seat,
                hold_jti=None if expires_at is None else str(uuid.uuid4()),
                expires_at=expires_at,
            )
        )
    session.flush()
