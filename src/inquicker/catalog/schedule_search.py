"""Schedule filters (SPEC section 4); `provider_type` is accepted through dasherizing."""

from __future__ import annotations

from sqlalchemy import select

from inquicker.catalog.filters import choice, string_list
from inquicker.catalog.models import AppointmentType, InsurancePlan, Location, Provider, Service
from inquicker.catalog.resources import CONTEXTS
from inquicker.catalog.schedule_models import Schedule, ScheduleAppointmentType, SchedulePlan
from inquicker.catalog.scoping import resolve_slugs
from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.resource import Filter, ListQuery

PROVIDER_TYPES = {"practitioner": "Practitioner", "healthresource": "Health Resource"}


def _provider_type(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    typed = select(Provider.pk).where(Provider.provider_type.in_(values))
    lq.where.append(Schedule.provider_pk.in_(typed))


def _service(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    pks = resolve_slugs(ctx, Service.__table__, values, "service", also_by_name=True)
    lq.where.append(Schedule.service_pk.in_(pks))


def _location(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    lq.where.append(
        Schedule.location_pk.in_(resolve_slugs(ctx, Location.__table__, values, "location"))
    )


def _provider(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    lq.where.append(
        Schedule.provider_pk.in_(resolve_slugs(ctx, Provider.__table__, values, "provider"))
    )


def _appointment_type(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    pks = resolve_slugs(ctx, AppointmentType.__table__, values, "appointment-type")
    offering = select(ScheduleAppointmentType.schedule_pk).where(
        ScheduleAppointmentType.appointment_type_pk.in_(pks)
    )
    lq.where.append(Schedule.pk.in_(offering))


def _insurance(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    pks = resolve_slugs(ctx, InsurancePlan.__table__, values, "insurance")
    accepting = select(SchedulePlan.schedule_pk).where(SchedulePlan.plan_pk.in_(pks))
    lq.where.append(Schedule.pk.in_(accepting))


def _context(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    lq.where.append(Schedule.context.in_(values))


SCHEDULE_FILTERS: tuple[Filter, ...] = (
    Filter("provider-type", choice(PROVIDER_TYPES), _provider_type),
    Filter("service", string_list, _service),
    Filter("location", string_list, _location),
    Filter("provider", string_list, _provider),
    Filter("appointment-type", string_list, _appointment_type),
    Filter("insurance", string_list, _insurance),
    Filter("context", choice(CONTEXTS), _context),
)
