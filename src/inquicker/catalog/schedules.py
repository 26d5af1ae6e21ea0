"""The schedules resource declaration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, select

from inquicker.catalog.hours import load_hours
from inquicker.catalog.models import Service
from inquicker.catalog.schedule_models import Schedule, ScheduleAppointmentType, SchedulePlan
from inquicker.catalog.schedule_search import SCHEDULE_FILTERS
from inquicker.catalog.scoping import active_schedules
from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.resource import Attr, Rel, Resource


def _scope(ctx: ResourceContext) -> tuple[ColumnElement[bool]]:
    return (active_schedules(ctx),)


def _from() -> FromClause:
    return Schedule.__table__.join(Service.__table__, Service.pk == Schedule.service_pk)


def _fk(column: Any) -> Any:
    def link() -> Select[Any, Any]:
        return select(Schedule.pk, column)

    return link


def _plans() -> Select[Any, Any]:
    return select(SchedulePlan.schedule_pk, SchedulePlan.plan_pk)


def _types() -> Select[Any, Any]:
    return select(ScheduleAppointmentType.schedule_pk, ScheduleAppointmentType.appointment_type_pk)


SCHEDULE_ATTRIBUTES: tuple[Attr, ...] = (
    Attr("name", Schedule.name, sortable=True),
    Attr("schedule-type", Schedule.schedule_type),
    Attr("service", Service.name.label("service_name"), sortable=True),
    Attr("sort-order", Schedule.sort_order, sortable=True),
    Attr("time-zone-name", Schedule.time_zone_name),
    Attr("hours", loader=load_hours, schema={"anyOf": [{"type": "string"}, {"type": "null"}]}),
    Attr("age-limit-direction", Schedule.age_limit_direction),
    Attr("age-limit-threshold", Schedule.age_limit_threshold),
    Attr("accepting-new-patients", Schedule.accepting_new_patients),
    Attr("context", Schedule.context),
)

SCHEDULE_RELATIONSHIPS: tuple[Rel, ...] = (
    Rel("location", "locations", False, _fk(Schedule.location_pk)),
    Rel("provider", "providers", False, _fk(Schedule.provider_pk)),
    # "service" is the attribute (the service's name, as the reference shows it).
    Rel("service-resource", "services", False, _fk(Schedule.service_pk), aliases=("service",)),
    Rel("insurance-plans", "insurance-plans", True, _plans),
    Rel("appointment-types", "appointment-types", True, _types),
)


def schedule_resource() -> Resource:
    """The schedules declaration."""
    return Resource(
        type="schedules",
        table=Schedule.__table__,
        attributes=SCHEDULE_ATTRIBUTES,
        relationships=SCHEDULE_RELATIONSHIPS,
        filters=SCHEDULE_FILTERS,
        scope=_scope,
        from_clause=_from,
        default_sort=("sort-order", "name"),
        description="Bookable calendars: one provider offering one service at one location.",
    )
