"""Declarations of the simple catalog resources (SPEC section 4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from inquicker.catalog.filters import choice, string_list
from inquicker.catalog.models import (
    AppointmentType,
    InsurancePlan,
    Location,
    MedicalGroup,
    Service,
)
from inquicker.catalog.schedule_models import Schedule, ScheduleAppointmentType, SchedulePlan
from inquicker.catalog.scoping import (
    active_schedules,
    has_match,
    resolve_slugs,
    tenant_scope,
)
from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.resource import Attr, Filter, ListQuery, Rel, Resource
from inquicker.tenancy.models import HealthSystem

CONTEXTS = {"Patient": "Patient", "Discharge": "Discharge", "Internal": "Internal"}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _hs_scope(ctx: ResourceContext) -> tuple[ColumnElement[bool]]:
    return (HealthSystem.pk.in_(ctx.tenant.health_system_pks),)


health_systems = Resource(
    type="health-systems",
    table=HealthSystem.__table__,
    attributes=(
        Attr("name", HealthSystem.name, sortable=True),
        Attr("use-gtm-container", HealthSystem.use_gtm_container),
        Attr("disable-google-indexing", HealthSystem.disable_google_indexing),
        Attr("gtm-container", HealthSystem.gtm_container),
        Attr("gtag-conversion-event-id", HealthSystem.gtag_conversion_event_id),
        Attr("gtag-id", HealthSystem.gtag_id),
    ),
    scope=_hs_scope,
    default_sort=("name",),
    description="The health systems the partner site exposes.",
)


def _location_schedules() -> Select[Any, Any]:
    return select(Schedule.location_pk, Schedule.pk)


locations = Resource(
    type="locations",
    table=Location.__table__,
    attributes=(
        Attr("name", Location.name, sortable=True),
        Attr("facility-name", Location.facility_name, sortable=True),
        Attr("address", Location.address),
        Attr("city", Location.city, sortable=True),
        Attr("state", Location.state, sortable=True),
        Attr("zip", Location.zip, sortable=True),
        Attr("phone", Location.phone),
        Attr("latitude", Location.latitude, convert=_float),
        Attr("longitude", Location.longitude, convert=_float),
    ),
    relationships=(Rel("schedules", "schedules", True, _location_schedules),),
    scope=tenant_scope(Location.__table__),
    default_sort=("name",),
    description="Locations (facilities) of the site's health systems.",
)

services = Resource(
    type="services",
    table=Service.__table__,
    attributes=(Attr("name", Service.name, sortable=True),),
    scope=tenant_scope(Service.__table__),
    default_sort=("name",),
    description="Services offered by schedules, e.g. Primary Care.",
)

medical_groups = Resource(
    type="medical-groups",
    table=MedicalGroup.__table__,
    attributes=(Attr("name", MedicalGroup.name, sortable=True),),
    scope=tenant_scope(MedicalGroup.__table__),
    default_sort=("name",),
    description="Medical groups providers belong to.",
)


def _offered_by_any(ctx: ResourceContext, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The type is offered by an active schedule meeting ``conditions``.

    A health system has few types, each answered by its first such schedule; listing the
    types offered would read every schedule of the service or context (most schedules
    share a context).
    """
    return has_match(
        select(ScheduleAppointmentType.schedule_pk)
        .join(Schedule, Schedule.pk == ScheduleAppointmentType.schedule_pk)
        .where(
            ScheduleAppointmentType.appointment_type_pk == AppointmentType.pk,
            active_schedules(ctx),
            *conditions,
        )
    )


def _filter_type_context(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    lq.where.append(_offered_by_any(ctx, Schedule.context.in_(values)))


def _filter_type_service(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    service_pks = resolve_slugs(
        ctx,
        Service.__table__,
        values,
        "service",
        also_by_name=True,
    )
    lq.where.append(_offered_by_any(ctx, Schedule.service_pk.in_(service_pks)))


appointment_types = Resource(
    type="appointment-types",
    table=AppointmentType.__table__,
    attributes=(
        Attr("name", AppointmentType.name, sortable=True),
        Attr("priority", AppointmentType.priority, sortable=True),
    ),
    filters=(
        Filter("context", choice(CONTEXTS), _filter_type_context),
        Filter("service", string_list, _filter_type_service),
    ),
    scope=tenant_scope(AppointmentType.__table__),
    default_sort=("priority", "name"),
    description="Kinds of visit; priority 1 is highest and a schedule's default.",
)


def _accepted_plans(ctx: ResourceContext) -> tuple[ColumnElement[bool], ...]:
    # Which plans an active schedule accepts changes only on import, and computing it reads
    # the tenant's whole acceptance table: memoise it under the tenant's data version.
    key = ("offered-plans", ctx.tenant.health_system_pks, ctx.tenant.data_versions)
    offered: tuple[int, ...] | None = ctx.memo.get(key)
    if offered is None:
        # One probe per plan of the tenant (the first active schedule accepting it answers),
        # not a read of every schedule's plans.
        accepted = has_match(
            select(SchedulePlan.schedule_pk)
            .join(Schedule, Schedule.pk == SchedulePlan.schedule_pk)
            .where(SchedulePlan.plan_pk == InsurancePlan.pk, active_schedules(ctx))
        )
        offered = tuple(
            ctx.session.connection()
            .execute(
                select(InsurancePlan.pk).where(
                    InsurancePlan.health_system_pk.in_(ctx.tenant.health_system_pks), accepted
                )
            )
            .scalars()
            .all()
        )
        ctx.memo.put(key, offered)
    return (
        InsurancePlan.health_system_pk.in_(ctx.tenant.health_system_pks),
        InsurancePlan.pk.in_(offered),
    )


insurance_plans = Resource(
    type="insurance-plans",
    table=InsurancePlan.__table__,
    attributes=(
        Attr("company", InsurancePlan.company, sortable=True),
        Attr("name", InsurancePlan.name, sortable=True),
    ),
    scope=_accepted_plans,
    default_sort=("company", "name"),
    description="Insurance plans accepted by at least one active schedule.",
)

__all__ = [
    "appointment_types",
    "health_systems",
    "insurance_plans",
    "locations",
    "medical_groups",
    "services",
]
