"""The catalog reads of the FHIR face: one statement per page, scoped to the tenant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from inquicker.catalog.models import Location, Provider, Service
from inquicker.catalog.schedule_models import Schedule
from inquicker.tenancy.models import HealthSystem, Site

PRACTITIONER = "Practitioner"
HEALTH_RESOURCE = "Health Resource"


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int


@dataclass(frozen=True)
class ScheduleFilter:
    ids: Sequence[str] = ()
    providers: Sequence[str] = ()
    provider_type: str | None = None
    locations: Sequence[str] = ()
    services: Sequence[str] = ()


def _page(conn: Connection, stmt: Any, offset: int, limit: int) -> Page:
    total = conn.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(conn.execute(stmt.offset(offset).limit(limit)).all()) if limit else []
    return Page(rows, int(total.scalar_one()))


def locations(
    conn: Connection, hs_pks: Sequence[int], ids: Sequence[str], offset: int, limit: int
) -> Page:
    stmt = select(Location).where(Location.health_system_pk.in_(hs_pks))
    if ids:
        stmt = stmt.where(Location.slug.in_(ids))
    return _page(conn, stmt.order_by(Location.name, Location.pk), offset, limit)


def providers(
    conn: Connection,
    hs_pks: Sequence[int],
    provider_type: str,
    ids: Sequence[str],
    offset: int,
    limit: int,
) -> Page:
    stmt = select(Provider).where(
        Provider.health_system_pk.in_(hs_pks), Provider.provider_type == provider_type
    )
    if ids:
        stmt = stmt.where(Provider.slug.in_(ids))
    return _page(conn, stmt.order_by(Provider.name, Provider.pk), offset, limit)


# A schedule with the ids and names its FHIR resources reference.
_SCHEDULES = (
    select(
        Schedule.pk,
        Schedule.slug,
        Schedule.name,
        Schedule.health_system_pk,
        Schedule.time_zone_name,
        Provider.slug.label("provider"),
        Provider.name.label("provider_name"),
        Provider.provider_type,
        Location.slug.label("location"),
        Location.name.label("location_name"),
        Service.slug.label("service"),
        Service.name.label("service_name"),
    )
    .join(Provider, Provider.pk == Schedule.provider_pk)
    .join(Location, Location.pk == Schedule.location_pk)
    .join(Service, Service.pk == Schedule.service_pk)
)


def schedules(
    conn: Connection, hs_pks: Sequence[int], where: ScheduleFilter, offset: int, limit: int
) -> Page:
    stmt = _SCHEDULES.where(Schedule.health_system_pk.in_(hs_pks), Schedule.active.is_(True))
    if where.ids:
        stmt = stmt.where(Schedule.slug.in_(where.ids))
    if where.providers:
        stmt = stmt.where(Provider.slug.in_(where.providers))
    if where.provider_type:
        stmt = stmt.where(Provider.provider_type == where.provider_type)
    if where.locations:
        stmt = stmt.where(Location.slug.in_(where.locations))
    if where.services:
        stmt = stmt.where(Service.slug.in_(where.services))
    return _page(
        conn, stmt.order_by(Schedule.sort_order, Schedule.name, Schedule.pk), offset, limit
    )


def schedule_by_pk(conn: Connection, pk: int) -> Any:
    return conn.execute(_SCHEDULES.where(Schedule.pk == pk)).one()


def publishing(conn: Connection, hs_pks: Sequence[int]) -> list[int]:
    """The tenant's health systems that publish their slots (SMART Scheduling Links)."""
    stmt = select(HealthSystem.pk).where(
        HealthSystem.pk.in_(hs_pks), HealthSystem.publish_slots.is_(True)
    )
    return list(conn.execute(stmt).scalars().all())


def booking_url_template(conn: Connection, site_pk: int) -> str | None:
    template: str | None = conn.execute(
        select(Site.booking_url_template).where(Site.pk == site_pk)
    ).scalar_one_or_none()
    return template
