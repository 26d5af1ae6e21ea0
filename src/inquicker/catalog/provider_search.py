"""Provider filters (SPEC section 4, all combinable) and computed provider attributes."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from datetime import time
from functools import partial
from typing import Any, cast

import orjson
from sqlalchemy import ColumnElement, Select, func, or_, select

from inquicker.catalog.filters import BOOLEAN_SCHEMA, boolean, choice, string_list
from inquicker.catalog.models import (
    AppointmentType,
    InsurancePlan,
    Location,
    MedicalGroup,
    Provider,
    ProviderLanguage,
    ProviderMedicalGroup,
    Service,
)
from inquicker.catalog.near_index import near_page
from inquicker.catalog.schedule_models import (
    Schedule,
    ScheduleAppointmentType,
    ScheduleHours,
    SchedulePlan,
)
from inquicker.catalog.scoping import active_schedules, resolve_slugs
from inquicker.geo import distance_miles
from inquicker.jsonapi.context import ResourceContext
from inquicker.jsonapi.resource import Filter, ListQuery, Resource

# Bands of the hours-availability filter, schedule-local, [start, end).
HOUR_BANDS: dict[str, tuple[time, time | None]] = {
    "morning": (time(5), time(12)),
    "afternoon": (time(12), time(18)),
    "evening": (time(18), None),  # until midnight
}


def _providers_with_schedule(ctx: ResourceContext, *conditions: ColumnElement[bool]) -> Select[Any]:
    return select(Schedule.provider_pk).where(active_schedules(ctx), *conditions)


def _service(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    pks = resolve_slugs(ctx, Service.__table__, values, "service")
    lq.where.append(Provider.pk.in_(_providers_with_schedule(ctx, Schedule.service_pk.in_(pks))))


def _accepting(lq: ListQuery, value: bool, ctx: ResourceContext) -> None:
    if value:  # false means "no restriction", as the reference defines it
        cond = Schedule.accepting_new_patients.is_(True)
        lq.where.append(Provider.pk.in_(_providers_with_schedule(ctx, cond)))


def _affiliation(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    lq.where.append(Provider.affiliation.in_(values))


def _appointment_type(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    pks = resolve_slugs(ctx, AppointmentType.__table__, values, "appointment-type")
    offering = select(ScheduleAppointmentType.schedule_pk).where(
        ScheduleAppointmentType.appointment_type_pk.in_(pks)
    )
    lq.where.append(Provider.pk.in_(_providers_with_schedule(ctx, Schedule.pk.in_(offering))))


def _gender(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    lq.where.append(Provider.gender.in_(values))


def _hours(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    overlaps = []
    for band in values:
        start, end = HOUR_BANDS[band]
        cond = ScheduleHours.closes > start
        overlaps.append(cond if end is None else cond & (ScheduleHours.opens < end))
    # A schedule's weekly hours are stored in its own zone, so bands compare directly.
    # The (closes, opens) index reads only the ranges open in the band.
    open_in_band = select(ScheduleHours.schedule_pk).where(or_(*overlaps))
    lq.where.append(Provider.pk.in_(_providers_with_schedule(ctx, Schedule.pk.in_(open_in_band))))


def _insurance(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    pks = resolve_slugs(ctx, InsurancePlan.__table__, values, "insurance")
    accepting = select(SchedulePlan.schedule_pk).where(SchedulePlan.plan_pk.in_(pks))
    lq.where.append(Provider.pk.in_(_providers_with_schedule(ctx, Schedule.pk.in_(accepting))))


def _language(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    speaking = select(ProviderLanguage.provider_pk).where(
        ProviderLanguage.language.in_([v.lower() for v in values])
    )
    lq.where.append(Provider.pk.in_(speaking))


def _medical_group(lq: ListQuery, values: list[str], ctx: ResourceContext) -> None:
    pks = resolve_slugs(ctx, MedicalGroup.__table__, values, "medical-group")
    members = select(ProviderMedicalGroup.provider_pk).where(
        ProviderMedicalGroup.medical_group_pk.in_(pks)
    )
    lq.where.append(Provider.pk.in_(members))


def parse_near(raw: Any) -> tuple[float, float]:
    """[lat,lng] as a JSON array (either filter spelling) with valid coordinates."""
    value = raw
    if isinstance(raw, str):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ValueError("expected [latitude,longitude], e.g. [36.16,-86.78].") from None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise ValueError("expected [latitude,longitude], e.g. [36.16,-86.78].")
    lat, lng = float(value[0]), float(value[1])
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValueError("latitude must be within -90..90 and longitude within -180..180.")
    return lat, lng


def _near(lq: ListQuery, point: tuple[float, float], ctx: ResourceContext) -> None:
    lat, lng = point
    located = Location.latitude.is_not(None) & Location.longitude.is_not(None)
    # near orders and never drops (SPEC section 4): providers with no located active
    # schedule stay in the list, last, with a null distance.
    # Distance once per location (MATERIALIZED keeps engines from recomputing it per
    # schedule), then the nearest location per provider over its active schedules.
    distances = (
        select(
            Location.pk.label("location_pk"),
            distance_miles(Location.latitude, Location.longitude, lat, lng).label("miles"),
        )
        .where(Location.health_system_pk.in_(ctx.tenant.health_system_pks), located)
        .cte("location_distances")
        .prefix_with("MATERIALIZED")
    )
    nearest = (
        select(
            Schedule.provider_pk.label("provider_pk"), func.min(distances.c.miles).label("miles")
        )
        .join(distances, distances.c.location_pk == Schedule.location_pk)
        .where(active_schedules(ctx))
        .group_by(Schedule.provider_pk)
        .subquery("nearest")
    )
    lq.joins.append((nearest, nearest.c.provider_pk == Provider.pk))
    lq.order_by.insert(0, nearest.c.miles.asc().nulls_last())
    lq.meta["distance"] = nearest.c.miles
    lq.meta_convert["distance"] = _round_miles
    lq.overrides_default_sort = True
    lq.pager = partial(_near_page, point)


def _near_page(
    point: tuple[float, float],
    ctx: ResourceContext,
    resource: Resource,
    lq: ListQuery,
    filter_key: Hashable,
    offset: int,
    size: int,
) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    # The point is part of filter_key too; the ranking only needs the other filters, but a
    # key per point would defeat its memo, so drop it.
    others = tuple(item for item in cast(tuple[Any, ...], filter_key) if item[0] != "near")
    return near_page(ctx, resource, lq, point, others, offset, size)


def _round_miles(miles: float | None) -> float | None:
    return None if miles is None else round(miles, 2)


NEAR_SCHEMA = {
    "type": "string",
    "description": "[latitude,longitude] as a JSON array, e.g. [36.16,-86.78].",
    "pattern": r"^\[ *-?[0-9]+(\.[0-9]+)? *, *-?[0-9]+(\.[0-9]+)? *\]$",
}

PROVIDER_FILTERS: tuple[Filter, ...] = (
    Filter("service", string_list, _service),
    Filter("accepting-new-patients", boolean, _accepting, schema=BOOLEAN_SCHEMA),
    Filter(
        "affiliation", choice({"employed": "employed", "affiliated": "affiliated"}), _affiliation
    ),
    Filter("appointment-type", string_list, _appointment_type),
    Filter("gender", choice({"male": "m", "female": "f"}), _gender),
    Filter("hours-availability", choice({b: b for b in HOUR_BANDS}), _hours),
    Filter("insurance", string_list, _insurance),
    Filter("language", string_list, _language),
    Filter("medical-group", string_list, _medical_group),
    Filter("near", parse_near, _near, schema=NEAR_SCHEMA),
    Filter(
        "provider-type",
        choice({"practitioner": "Practitioner", "healthresource": "Health Resource"}),
        lambda lq, values, ctx: lq.where.append(Provider.provider_type.in_(values)),
    ),
)


def _memoised(
    name: str,
    load: Callable[[ResourceContext, Sequence[int]], dict[int, Any]],
) -> Callable[[ResourceContext, Sequence[int]], dict[int, Any]]:
    """A bulk loader that reads only the providers not yet loaded under the tenant's data
    version (these values change only on import), as ``hours.load_hours`` does: a page
    of a provider search then reads nothing it has read before."""

    def loader(ctx: ResourceContext, pks: Sequence[int]) -> dict[int, Any]:
        key = (name, ctx.tenant.health_system_pks, ctx.tenant.data_versions, ctx.generation)
        known: dict[int, Any] | None = ctx.memo.get(key)
        if known is None:
            known = {}
            ctx.memo.put(key, known)
        missing = [pk for pk in pks if pk not in known]
        if missing:
            loaded = load(ctx, missing)
            known.update({pk: loaded.get(pk, _ABSENT) for pk in missing})
        return {pk: value for pk in pks if (value := known.get(pk, _ABSENT)) is not _ABSENT}

    return loader


_ABSENT = object()  # loaded, and the loader had no value: the attribute's default applies


def _load_appointment_types(ctx: ResourceContext, pks: Sequence[int]) -> dict[int, Any]:
    """{id, name} of the types offered by each provider's active schedules."""
    rows = (
        ctx.session.connection()
        .execute(
            select(
                Schedule.provider_pk,
                AppointmentType.slug,
                AppointmentType.name,
                AppointmentType.priority,  # DISTINCT needs every ORDER BY column selected
            )
            .join(ScheduleAppointmentType, ScheduleAppointmentType.schedule_pk == Schedule.pk)
            .join(
                AppointmentType, AppointmentType.pk == ScheduleAppointmentType.appointment_type_pk
            )
            .where(Schedule.provider_pk.in_(pks), active_schedules(ctx))
            .distinct()
            .order_by(Schedule.provider_pk, AppointmentType.priority, AppointmentType.name)
        )
        .all()
    )
    out: dict[int, list[dict[str, str]]] = {}
    for provider_pk, slug, name, _priority in rows:
        out.setdefault(provider_pk, []).append({"id": slug, "name": name})
    return out


def _load_medical_groups(ctx: ResourceContext, pks: Sequence[int]) -> dict[int, Any]:
    """{id, name} of each provider's medical groups, in the bundle's order."""
    rows = (
        ctx.session.connection()
        .execute(
            select(ProviderMedicalGroup.provider_pk, MedicalGroup.slug, MedicalGroup.name)
            .join(MedicalGroup, MedicalGroup.pk == ProviderMedicalGroup.medical_group_pk)
            .where(ProviderMedicalGroup.provider_pk.in_(pks))
            .order_by(
                ProviderMedicalGroup.provider_pk, ProviderMedicalGroup.position, MedicalGroup.name
            )
        )
        .all()
    )
    out: dict[int, list[dict[str, str]]] = {}
    for provider_pk, slug, name in rows:
        out.setdefault(provider_pk, []).append({"id": slug, "name": name})
    return out


load_appointment_types = _memoised("provider-appointment-types", _load_appointment_types)
load_medical_groups = _memoised("provider-medical-groups", _load_medical_groups)
