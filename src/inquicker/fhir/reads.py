"""read and search-type interactions: Location, Practitioner, HealthcareService, Schedule, Slot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from inquicker.availability.repository import (
    BookableSchedule,
    OfferedType,
    cached_schedules,
)
from inquicker.fhir import repository as repo
from inquicker.fhir import resources as build
from inquicker.fhir.outcome import fhir_error
from inquicker.fhir.search import (
    check_params,
    date_range,
    paging,
    references,
    searchset,
    tokens,
    values,
)
from inquicker.fhir.slots import local_pair, slot_times
from inquicker.web.context import RequestContext
from inquicker.web.request import ApiRequest

SEARCH_PARAMS = {
    "Location": ("_id",),
    "Practitioner": ("_id",),
    "HealthcareService": ("_id",),
    "Schedule": ("_id", "actor", "service-type", "location", "active"),
    "Slot": ("schedule", "start", "status", "appointment-type"),
}
DEFAULT_DAYS = 14
MAX_DAYS = 92
MAX_SCHEDULES = 100  # per Slot search without a schedule: the engine's work stays bounded


def _missing(resource_type: str, resource_id: str) -> Exception:
    return fhir_error(404, f"No {resource_type} with id '{resource_id}'.", "not-found")


def read(ctx: RequestContext, req: ApiRequest) -> dict[str, Any]:
    resource_type, resource_id = req.path_params["type"], req.path_params["id"]
    found = _search(ctx, req, resource_type, [resource_id], 0, 1, lenient=True)[0]
    if not found:
        raise _missing(resource_type, resource_id)
    return found[0]


def search(ctx: RequestContext, req: ApiRequest) -> dict[str, Any]:
    resource_type = req.path_params["type"]
    check_params(req, SEARCH_PARAMS[resource_type])
    offset, count = paging(req)
    ids = values(req, "_id")
    found, total = _search(ctx, req, resource_type, ids, offset, count)
    return searchset(req, ctx.base_url, found, total, offset, count)


def _search(
    ctx: RequestContext,
    req: ApiRequest,
    resource_type: str,
    ids: list[str],
    offset: int,
    count: int,
    *,
    lenient: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    conn = ctx.session.connection()
    hs = ctx.tenant.health_system_pks
    if resource_type == "Location":
        page = repo.locations(conn, hs, ids, offset, count)
        return [build.location(r) for r in page.rows], page.total
    if resource_type in ("Practitioner", "HealthcareService"):
        kind = repo.PRACTITIONER if resource_type == "Practitioner" else repo.HEALTH_RESOURCE
        page = repo.providers(conn, hs, kind, ids, offset, count)
        return [build.provider_resource(r) for r in page.rows], page.total
    if resource_type == "Schedule":
        where = repo.ScheduleFilter(ids=ids) if lenient else _schedule_filter(req, ids)
        if where is None:
            return [], 0
        page = repo.schedules(conn, hs, where, offset, count)
        return [build.schedule(r) for r in page.rows], page.total
    return _slots(ctx, req, ids, offset, count, lenient=lenient)


def _schedule_filter(req: ApiRequest, ids: list[str]) -> repo.ScheduleFilter | None:
    """The Schedule search's filter; None when it can match nothing (e.g. active=false)."""
    if "false" in values(req, "active"):
        return None
    providers: list[str] = []
    provider_type = None
    locations = references(req, "location", "Location")
    for value in values(req, "actor"):
        parts = value.rstrip("/").split("/")
        kind = parts[-2] if len(parts) >= 2 else None
        if kind == "Location":
            locations.append(parts[-1])
        elif kind in ("Practitioner", "HealthcareService"):
            providers.append(parts[-1])
            provider_type = repo.PRACTITIONER if kind == "Practitioner" else repo.HEALTH_RESOURCE
        elif kind is None:
            providers.append(parts[-1])
        else:
            return None
    if values(req, "location") and not locations:
        return None
    return repo.ScheduleFilter(
        ids=ids,
        providers=providers,
        provider_type=provider_type,
        locations=locations,
        services=tokens(req, "service-type"),
    )


def window(ctx: RequestContext, req: ApiRequest, name: str) -> tuple[Any, Any]:
    low, high = date_range(req, name, (ctx.now, ctx.now + timedelta(days=DEFAULT_DAYS)))
    if high - low > timedelta(days=MAX_DAYS):
        raise fhir_error(400, f"{name}: at most {MAX_DAYS} days at a time.", "too-costly", name)
    return low, high


def wanted_types(
    schedules: list[BookableSchedule], type_ids: list[str]
) -> list[tuple[BookableSchedule, OfferedType | None]]:
    """Each schedule with the asked-for type, or its default type (SPEC section 13)."""
    out = []
    for schedule in schedules:
        if not type_ids:
            out.append((schedule, schedule.default_type()))
            continue
        offered = next((schedule.type(t) for t in type_ids if schedule.type(t)), None)
        if offered is not None:
            out.append((schedule, offered))
    return out


def _slots(
    ctx: RequestContext,
    req: ApiRequest,
    ids: list[str],
    offset: int,
    count: int,
    *,
    lenient: bool,
) -> tuple[list[dict[str, Any]], int]:
    conn = ctx.session.connection()
    hs = ctx.tenant.health_system_pks
    if lenient:  # a read: Slot/{schedule}.{start}
        schedule_id, _, start_text = ids[0].rpartition(".")
        if not schedule_id or not start_text.isdigit():
            return [], 0
        schedule_ids, statuses = [schedule_id], {"free", "busy"}
        start = int(start_text)
        low = max(ctx.now, ctx.now.fromtimestamp(start, ctx.now.tzinfo))
        high = ctx.now.fromtimestamp(start + 1, ctx.now.tzinfo)
        if high <= low:
            return [], 0
    else:
        schedule_ids = references(req, "schedule", "Schedule")
        statuses = set(values(req, "status")) or {"free", "busy"}
        low, high = window(ctx, req, "start")
    page = repo.schedules(conn, hs, repo.ScheduleFilter(ids=schedule_ids), 0, MAX_SCHEDULES + 1)
    if len(page.rows) > MAX_SCHEDULES:
        raise fhir_error(
            400,
            f"This site has more than {MAX_SCHEDULES} schedules: name some with 'schedule'.",
            "too-costly",
            "schedule",
        )
    rows = {r.slug: r for r in page.rows}
    bookable = cached_schedules(ctx.session, ctx.memo, ctx.tenant, list(rows))
    ordered = [bookable[s] for s in rows if s in bookable]
    wanted = wanted_types(ordered, tokens(req, "appointment-type") if not lenient else [])
    computed = slot_times(ctx.session, wanted, low, high, ctx.now)
    found = []
    for schedule, offered in wanted:
        for t in computed[schedule.pk]:
            status = "free" if t.free else "busy"
            if status in statuses:
                found.append((schedule, offered, t))
    found.sort(key=lambda item: (item[2].start, item[0].id))
    shown = [
        build.slot(
            rows[schedule.id],
            t.start,
            local_pair(schedule, t.start, t.end),
            "free" if t.free else "busy",
            (offered.id, offered.name) if offered else None,
            [{"url": build.SLOT_CAPACITY, "valueInteger": t.seats}],
        )
        for schedule, offered, t in found[offset : offset + count]
    ]
    return shown, len(found)
