"""The data the booking HTTP tests run against: the Winter Health demo plus one other tenant.

The clock starts at NOW = 2026-12-01T14:00:00Z, a Tuesday: 09:00 in New York (EST, -05:00)
and 08:00 in Chicago (CST, -06:00). Demo schedules used (hours read from
src/inquicker/bundle/data/winter-health.json):

* CHEN_PC "David Chen, DO - Primary Care (Chattanooga)": America/New_York, Tue/Thu
  08:00-17:00, 15-minute grid, capacity 1, lead 60 minutes, horizon 90 days. Types
  sick-visit (priority 3, 15 min: the default) and follow-up (priority 4, 15 min).
  Location chattanooga-downtown (region east-tennessee), provider dr-david-chen.
  Accepts (region level, primary-care) bcbst-network-p, bcbst-network-s,
  humana-medicare-advantage, tenncare-bluecare - not aetna-ppo.
  On Dec 1 the first bookable start is 09:00 + 60 min = 10:00 EST.
* GARCIA_PC "Elena Garcia, MD - Primary Care (Knoxville)": another New York schedule.
* PEDIATRICS "Thomas Anderson, MD - Pediatrics (Nashville)": America/Chicago, Mon-Thu
  08:00-12:00 and 13:00-17:00, lead 60, age limit younger than 18; default type
  new-patient-visit (60 min).
* DISCHARGE "Discharge Follow-up Clinic (Nashville)": America/Chicago, Mon-Fri
  09:00-16:00, 30-minute grid, capacity 3, no lead; type follow-up (30 min); its visit
  settings require referring-provider-name.

The health system has the features full-address and patient-complaint and a visit-settings
rule that zip matches ^[0-9]{5}(-[0-9]{4})?$.

Tenant "elsewhere" (OTHER_HOST) has one schedule, OTHER_SCHEDULE, America/New_York,
Mon-Fri 09:00-17:00 on a 15-minute grid, type other-visit (15 min), no lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from inquicker.bundle.demo import DEMO_HOSTNAME, load_demo
from inquicker.catalog.models import AppointmentType, Location, Provider, Service
from inquicker.catalog.schedule_models import Schedule, ScheduleAppointmentType, ScheduleHours
from inquicker.tenancy.keys import create_key
from inquicker.tenancy.models import HealthSystem, Site, SiteHealthSystem

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
NOW_EPOCH = int(NOW.timestamp())

HOST = DEMO_HOSTNAME  # winter-health.inquicker.com
OTHER_HOST = "elsewhere.example.com"

CHEN_PC = "d6857220-fcde-51de-9b45-810673bd8311"
GARCIA_PC = "f494177e-8513-5afb-8901-a50ff3fffa04"
PEDIATRICS = "8541e0ce-f981-5ff0-8943-abec6652e0e8"
DISCHARGE = "4e2bbea1-ded6-5b20-b8d6-bb174df19d3c"
OTHER_SCHEDULE = "99999999-9999-4999-8999-999999999999"


@dataclass(frozen=True)
class World:
    """API keys of both tenants."""

    book: str  # demo, read + book
    book2: str  # demo, read + book (a second partner integration)
    read: str  # demo, read only
    other_book: str  # elsewhere, read + book


class Clock:
    """An injectable clock the tests can move forward."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _other_tenant(session: Session) -> None:
    hs = HealthSystem(slug="elsewhere-health", name="Elsewhere", features=[], visit_settings={})
    site = Site(hostname=OTHER_HOST, name="Elsewhere")
    session.add_all([hs, site])
    session.flush()
    session.add(SiteHealthSystem(site_pk=site.pk, health_system_pk=hs.pk))
    provider = Provider(health_system_pk=hs.pk, slug="dr-elsewhere", name="Dr Elsewhere")
    location = Location(health_system_pk=hs.pk, slug="elsewhere-clinic", name="Elsewhere Clinic")
    service = Service(health_system_pk=hs.pk, slug="primary-care", name="Primary Care")
    visit_type = AppointmentType(
        health_system_pk=hs.pk, slug="other-visit", name="Other", priority=1, duration_minutes=15
    )
    session.add_all([provider, location, service, visit_type])
    session.flush()
    schedule = Schedule(
        health_system_pk=hs.pk,
        slug=OTHER_SCHEDULE,
        name="Elsewhere schedule",
        provider_pk=provider.pk,
        location_pk=location.pk,
        service_pk=service.pk,
        time_zone_name="America/New_York",
        slot_minutes=15,
        capacity=1,
        lead_minutes=0,
        horizon_days=90,
        visit_settings={},
    )
    session.add(schedule)
    session.flush()
    session.add_all(
        ScheduleHours(schedule_pk=schedule.pk, weekday=day, opens=time(9), closes=time(17))
        for day in range(5)
    )
    session.add(ScheduleAppointmentType(schedule_pk=schedule.pk, appointment_type_pk=visit_type.pk))
    session.flush()


def build(session: Session) -> World:
    """Load the demo and the other tenant; issue the keys."""
    load_demo(session)
    _other_tenant(session)
    both = ("read", "book")
    return World(
        book=create_key(session, HOST, "partner", both).secret,
        book2=create_key(session, HOST, "second partner", both).secret,
        read=create_key(session, HOST, "read only", ("read",)).secret,
        other_book=create_key(session, OTHER_HOST, "elsewhere", both).secret,
    )
