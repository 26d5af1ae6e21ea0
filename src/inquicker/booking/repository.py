"""Booking queries: the schedule facts the visit rules need, visits and confirmation numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from inquicker.booking.models import Visit
from inquicker.catalog.models import InsurancePlan, Location, Provider
from inquicker.catalog.schedule_models import Schedule, SchedulePlan
from inquicker.memo import Memo
from inquicker.tenancy.models import HealthSystem
from inquicker.tenancy.resolve import Tenant


@dataclass(frozen=True)
class BookingFacts:
    """What the built-in and configured rules need to know about a schedule."""

    schedule_pk: int
    schedule_id: str
    health_system_pk: int
    active: bool
    age_limit_direction: str | None
    age_limit_threshold: int | None
    features: frozenset[str]
    hs_visit_settings: dict[str, Any]
    schedule_visit_settings: dict[str, Any]
    accepted_plan_ids: frozenset[str]


def booking_facts(
    session: Session, schedule_id: str, hs_pks: tuple[int, ...]
) -> BookingFacts | None:
    """The schedule (active or not) of this tenant with its health system's settings."""
    row = session.execute(
        select(
            Schedule.pk,
            Schedule.slug,
            Schedule.health_system_pk,
            Schedule.active,
            Schedule.age_limit_direction,
            Schedule.age_limit_threshold,
            Schedule.visit_settings,
            HealthSystem.features,
            HealthSystem.visit_settings.label("hs_settings"),
        )
        .join(HealthSystem, HealthSystem.pk == Schedule.health_system_pk)
        .where(Schedule.slug == schedule_id, Schedule.health_system_pk.in_(hs_pks))
    ).one_or_none()
    if row is None:
        return None
    plans = session.execute(
        select(InsurancePlan.slug)
        .join(SchedulePlan, SchedulePlan.plan_pk == InsurancePlan.pk)
        .where(SchedulePlan.schedule_pk == row.pk)
    ).scalars()
    return BookingFacts(
        schedule_pk=row.pk,
        schedule_id=row.slug,
        health_system_pk=row.health_system_pk,
        active=row.active,
        age_limit_direction=row.age_limit_direction,
        age_limit_threshold=row.age_limit_threshold,
        features=frozenset(row.features or ()),
        hs_visit_settings=row.hs_settings or {},
        schedule_visit_settings=row.visit_settings or {},
        accepted_plan_ids=frozenset(plans),
    )


def next_confirmation_number(session: Session, health_system_pk: int) -> int:
    """Unique and increasing per health system: the row lock serialises concurrent bookings
    only for the rest of their transaction, and a rolled-back booking leaves a gap at most."""
    return session.execute(
        update(HealthSystem)
        .where(HealthSystem.pk == health_system_pk)
        .values(last_confirmation_number=HealthSystem.last_confirmation_number + 1)
        .returning(HealthSystem.last_confirmation_number)
    ).scalar_one()


def visit_by_id(session: Session, visit_id: str, hs_pks: tuple[int, ...]) -> Visit | None:
    return session.scalars(
        select(Visit).where(Visit.visit_id == visit_id, Visit.health_system_pk.in_(hs_pks))
    ).one_or_none()


def visit_by_idempotency_key(session: Session, site_pk: int, key: str) -> Visit | None:
    return session.scalars(
        select(Visit).where(Visit.site_pk == site_pk, Visit.idempotency_key == key)
    ).one_or_none()


def visit_related_ids(session: Session, visit: Visit) -> dict[str, str]:
    """API ids of the visit's schedule, location and provider."""
    row = session.execute(
        select(Schedule.slug, Location.slug.label("location"), Provider.slug.label("provider"))
        .join(Location, Location.pk == Schedule.location_pk)
        .join(Provider, Provider.pk == Schedule.provider_pk)
        .where(Schedule.pk == visit.schedule_pk)
    ).one()
    return {"schedule": row.slug, "location": row.location, "provider": row.provider}


def cached_booking_facts(
    session: Session, memo: Memo, tenant: Tenant, schedule_id: str
) -> BookingFacts | None:
    """booking_facts, memoised under the tenant's data version (it is all catalog data)."""
    key = ("booking-facts", tenant.health_system_pks, tenant.data_versions, schedule_id)
    facts: BookingFacts | None = memo.get(key)
    if facts is None:
        facts = booking_facts(session, schedule_id, tenant.health_system_pks)
        if facts is not None:
            memo.put(key, facts)
    return facts
