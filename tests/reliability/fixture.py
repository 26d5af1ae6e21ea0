"""A purpose-built booking tenant for the reliability tests, inserted through the ORM.

Tenant "reliable" (HOST), zone America/Chicago, open every day 08:00-18:00 on a 15-minute
grid, no lead time, a 30-day horizon. Its one appointment type, ``checkup``, lasts 30
minutes, so every visit covers two cells (and claims one seat in each):

* SOLO   capacity 1: one visit per slot.
* GROUP  capacity 3: three visits per slot (seats 0, 1 and 2 of each cell).
* CROWD  capacity 15: many writers can each find a free seat, so they collide on seats.

``hold_minutes`` is the health system's hold setting: 0 lets any number of tokens be
minted for the same slot (no hold is taken), so the race is decided at booking time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from inquicker.catalog.models import AppointmentType, Location, Provider, Service
from inquicker.catalog.schedule_models import Schedule, ScheduleAppointmentType, ScheduleHours
from inquicker.tenancy.keys import create_key
from inquicker.tenancy.models import HealthSystem, Site, SiteHealthSystem

HOST = "reliable.example.com"
ZONE = "America/Chicago"
SOLO = "solo-clinic"
GROUP = "group-clinic"
CROWD = "crowd-clinic"
TYPE = "checkup"
SLOT_MINUTES = 15
TYPE_MINUTES = 30
CELLS_PER_VISIT = TYPE_MINUTES // SLOT_MINUTES
OPENS, CLOSES = time(8), time(18)
SECRET = "reliability-test-secret-0123456789abcdef"


@dataclass(frozen=True)
class Tenant:
    """What the tests need back: the booking key and schedule primary keys."""

    key: str
    health_system_pk: int
    pks: dict[str, int]


def build(session: Session, *, hold_minutes: int = 0) -> Tenant:
    """Insert the tenant; return its ``book`` key and schedule pks."""
    hs = HealthSystem(
        slug="reliable",
        name="Reliable Health",
        features=[],
        visit_settings={},
        hold_minutes=hold_minutes,
    )
    site = Site(hostname=HOST, name="Reliable Health")
    session.add_all([hs, site])
    session.flush()
    session.add(SiteHealthSystem(site_pk=site.pk, health_system_pk=hs.pk))
    checkup = AppointmentType(
        health_system_pk=hs.pk, slug=TYPE, name="Checkup", priority=1, duration_minutes=30
    )
    session.add(checkup)
    session.flush()
    pks = {}
    for slug, capacity in ((SOLO, 1), (GROUP, 3), (CROWD, 15)):
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
            time_zone_name=ZONE,
            slot_minutes=SLOT_MINUTES,
            capacity=capacity,
            lead_minutes=0,
            horizon_days=30,
            visit_settings={},
        )
        session.add(schedule)
        session.flush()
        session.add_all(
            ScheduleHours(schedule_pk=schedule.pk, weekday=day, opens=OPENS, closes=CLOSES)
            for day in range(7)
        )
        session.add(
            ScheduleAppointmentType(schedule_pk=schedule.pk, appointment_type_pk=checkup.pk)
        )
        pks[slug] = schedule.pk
    session.flush()
    key = create_key(session, HOST, "reliability book", ("read", "book"))
    return Tenant(key.secret, hs.pk, pks)


def days_ahead(days: int, *, today: date | None = None) -> date:
    """The schedule-local date ``days`` from today (the real clock unless given)."""
    return (today or datetime.now(ZoneInfo(ZONE)).date()) + timedelta(days=days)


def visit_body(schedule_id: str, appointment_at: str, first_name: str) -> dict[str, Any]:
    """A POST /visits document that passes every built-in rule."""
    return {
        "data": {
            "type": "visits",
            "attributes": {
                "appointment-at": appointment_at,
                "appointment-type": TYPE,
                "birthdate": "1985-06-15",
                "email": "pat@example.com",
                "first-name": first_name,
                "last-name": "Reliable",
                "gender": "female",
                "new-patient": "yes",
                "phone-number": "(615) 555-0100",
            },
            "relationships": {"schedule": {"data": {"type": "schedules", "id": schedule_id}}},
        }
    }
