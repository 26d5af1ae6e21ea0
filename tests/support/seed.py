"""A small purpose-built data set with two tenants, inserted through the ORM.

Tenant "alpha" (alpha.example.com) and tenant "beta" (beta.example.com) deliberately reuse
some ids (both have a service `primary-care`) so isolation tests can prove that ids only
resolve within the requesting site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from sqlalchemy.orm import Session

from inquicker.catalog.models import (
    AppointmentType,
    InsurancePlan,
    Location,
    MedicalGroup,
    Provider,
    ProviderLanguage,
    ProviderMedicalGroup,
    Region,
    Service,
)
from inquicker.catalog.schedule_models import (
    Schedule,
    ScheduleAppointmentType,
    ScheduleHours,
    SchedulePlan,
)
from inquicker.tenancy.keys import create_key
from inquicker.tenancy.models import HealthSystem, Site, SiteHealthSystem

ALPHA_HOST = "alpha.example.com"
BETA_HOST = "beta.example.com"
ALPHA_S1 = "11111111-1111-4111-8111-111111111111"
ALPHA_S2 = "22222222-2222-4222-8222-222222222222"
ALPHA_S3_INACTIVE = "33333333-3333-4333-8333-333333333333"
BETA_S1 = "44444444-4444-4444-8444-444444444444"


@dataclass(frozen=True)
class Keys:
    alpha_read: str
    alpha_book: str
    alpha_read_only_id: str
    beta_read: str


def _tenant(session: Session, slug: str, name: str, host: str) -> HealthSystem:
    hs = HealthSystem(slug=slug, name=name, features=[], visit_settings={})
    site = Site(hostname=host, name=name)
    session.add_all([hs, site])
    session.flush()
    session.add(SiteHealthSystem(site_pk=site.pk, health_system_pk=hs.pk))
    return hs


def seed(session: Session) -> Keys:
    """Insert both tenants and return their API keys."""
    alpha = _tenant(session, "alpha-health", "Alpha Health", ALPHA_HOST)
    beta = _tenant(session, "beta-health", "Beta Health", BETA_HOST)
    a, b = alpha.pk, beta.pk

    east = Region(health_system_pk=a, slug="east", name="East")
    session.add(east)
    session.flush()
    downtown = Location(
        health_system_pk=a,
        slug="downtown",
        name="Downtown Clinic",
        region_pk=east.pk,
        facility_name="Downtown Medical Plaza",
        address="1 Main St",
        city="Nashville",
        state="TN",
        zip="37201",
        phone="615-555-0100",
        latitude=36.16,
        longitude=-86.78,
    )
    uptown = Location(
        health_system_pk=a,
        slug="uptown",
        name="Uptown Clinic",
        region_pk=east.pk,
        city="Nashville",
        state="TN",
        zip="37203",
        latitude=36.15,
        longitude=-86.80,
    )
    beta_loc = Location(
        health_system_pk=b,
        slug="beta-clinic",
        name="Beta Clinic",
        city="Austin",
        state="TX",
        latitude=30.27,
        longitude=-97.74,
    )
    primary = Service(health_system_pk=a, slug="primary-care", name="Primary Care")
    cardio = Service(health_system_pk=a, slug="cardiology", name="Cardiology")
    beta_primary = Service(health_system_pk=b, slug="primary-care", name="Primary Care")
    group = MedicalGroup(health_system_pk=a, slug="alpha-physicians", name="Alpha Physicians")
    beta_group = MedicalGroup(health_system_pk=b, slug="beta-group", name="Beta Group")
    physical = AppointmentType(
        health_system_pk=a,
        slug="annual-physical",
        name="Annual Physical",
        priority=2,
        duration_minutes=30,
    )
    sick = AppointmentType(
        health_system_pk=a, slug="sick-visit", name="Sick Visit", priority=1, duration_minutes=15
    )
    consult = AppointmentType(
        health_system_pk=a, slug="consult", name="Consult", priority=5, duration_minutes=60
    )
    beta_type = AppointmentType(
        health_system_pk=b, slug="beta-visit", name="Beta Visit", priority=1, duration_minutes=15
    )
    aetna = InsurancePlan(health_system_pk=a, slug="aetna-ppo", company="Aetna", name="PPO")
    cigna = InsurancePlan(health_system_pk=a, slug="cigna-hmo", company="Cigna", name="HMO")
    unused = InsurancePlan(health_system_pk=a, slug="unused-plan", company="Zed", name="Unused")
    beta_plan = InsurancePlan(health_system_pk=b, slug="beta-plan", company="Beta", name="Plan")
    smith = Provider(
        health_system_pk=a,
        slug="dr-smith",
        name="Jane Smith",
        gender="f",
        affiliation="employed",
        provider_type="Practitioner",
        languages=["English", "Spanish"],
    )
    jones = Provider(
        health_system_pk=a,
        slug="dr-jones",
        name="Bob Jones",
        gender="m",
        affiliation="affiliated",
        provider_type="Practitioner",
        languages=["English"],
    )
    beta_doc = Provider(
        health_system_pk=b,
        slug="dr-beta",
        name="Beta Doc",
        gender="f",
        affiliation="employed",
        provider_type="Practitioner",
    )
    session.add_all(
        [
            downtown,
            uptown,
            beta_loc,
            primary,
            cardio,
            beta_primary,
            group,
            beta_group,
            physical,
            sick,
            consult,
            beta_type,
            aetna,
            cigna,
            unused,
            beta_plan,
            smith,
            jones,
            beta_doc,
        ]
    )
    session.flush()
    session.add_all(
        [
            ProviderMedicalGroup(provider_pk=smith.pk, medical_group_pk=group.pk),
            ProviderLanguage(provider_pk=smith.pk, language="english"),
            ProviderLanguage(provider_pk=smith.pk, language="spanish"),
            ProviderLanguage(provider_pk=jones.pk, language="english"),
        ]
    )

    def schedule(
        slug: str,
        hs: int,
        name: str,
        provider: Provider,
        location: Location,
        service: Service,
        *,
        context: str = "Patient",
        active: bool = True,
        sort_order: int = 0,
    ) -> Schedule:
        s = Schedule(
            health_system_pk=hs,
            slug=slug,
            name=name,
            provider_pk=provider.pk,
            location_pk=location.pk,
            service_pk=service.pk,
            time_zone_name="America/Chicago",
            context=context,
            active=active,
            sort_order=sort_order,
            visit_settings={},
        )
        session.add(s)
        return s

    s1 = schedule(ALPHA_S1, a, "Smith Primary Care", smith, downtown, primary, sort_order=1)
    s2 = schedule(
        ALPHA_S2, a, "Jones Cardiology", jones, uptown, cardio, context="Discharge", sort_order=2
    )
    s3 = schedule(ALPHA_S3_INACTIVE, a, "Old Schedule", jones, downtown, primary, active=False)
    bs = schedule(BETA_S1, b, "Beta Schedule", beta_doc, beta_loc, beta_primary)
    session.flush()
    session.add_all(
        [
            ScheduleAppointmentType(schedule_pk=s1.pk, appointment_type_pk=physical.pk),
            ScheduleAppointmentType(schedule_pk=s1.pk, appointment_type_pk=sick.pk),
            ScheduleAppointmentType(schedule_pk=s2.pk, appointment_type_pk=consult.pk),
            ScheduleAppointmentType(schedule_pk=s3.pk, appointment_type_pk=physical.pk),
            ScheduleAppointmentType(schedule_pk=bs.pk, appointment_type_pk=beta_type.pk),
            SchedulePlan(schedule_pk=s1.pk, plan_pk=aetna.pk),
            SchedulePlan(schedule_pk=s1.pk, plan_pk=cigna.pk),
            SchedulePlan(schedule_pk=s2.pk, plan_pk=aetna.pk),
            SchedulePlan(schedule_pk=s3.pk, plan_pk=unused.pk),
            SchedulePlan(schedule_pk=bs.pk, plan_pk=beta_plan.pk),
            ScheduleHours(schedule_pk=s1.pk, weekday=0, opens=time(8), closes=time(17)),
        ]
    )
    session.flush()
    alpha_read = create_key(session, ALPHA_HOST, "alpha read", ("read",))
    alpha_book = create_key(session, ALPHA_HOST, "alpha book", ("read", "book"))
    beta_read = create_key(session, BETA_HOST, "beta read", ("read",))
    return Keys(alpha_read.secret, alpha_book.secret, alpha_read.key_id, beta_read.secret)
