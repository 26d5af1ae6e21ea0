"""IHE ITI Scheduling: Appointment/$find and $hold, and reading a booked Appointment.

$find proposes the times the availability engine offers; $hold places the same seat hold
as GET /visit-token (booking/holds.py). Proposed Appointment ids name the schedule and the
start (``{schedule}.{epoch}``, plus ``.{type tag}`` when a non-default type was asked
for), so $hold and $book can be given them back without server-side state; a held
Appointment is ``hold.{token id}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inquicker.availability.repository import BookableSchedule, OfferedType, cached_schedules
from inquicker.booking.holds import place_hold
from inquicker.booking.lifecycle import BOOKED
from inquicker.booking.repository import BookedVisit
from inquicker.booking.visit_management_endpoint import authorized_visit
from inquicker.fhir import repository as repo
from inquicker.fhir import resources as build
from inquicker.fhir.outcome import fhir_error
from inquicker.fhir.parameters import read_parameters, resource_of, text_values
from inquicker.fhir.reads import MAX_SCHEDULES, wanted_types
from inquicker.fhir.search import DEFAULT_COUNT, MAX_COUNT, check_params, searchset
from inquicker.fhir.slots import duration_of, local_pair, slot_times
from inquicker.web.context import RequestContext
from inquicker.web.request import ApiRequest

FIND_PARAMS = (
    "start",
    "end",
    "practitioner",
    "location",
    "specialty",
    "visit-type",
    "organization",
    "patient-reference",
    "patient-resource",
    "reason-code",
    "reason-reference",
)
HOLD_PREFIX = "hold."


@dataclass(frozen=True)
class Target:
    """The time an operation is about: a proposal (schedule, start, type) or a hold."""

    schedule_id: str = ""
    start: int = 0
    type_id: str | None = None
    hold_jti: str | None = None


def _row(ctx: RequestContext, schedule: BookableSchedule) -> Any:
    return repo.schedule_by_pk(ctx.session.connection(), schedule.pk)


def _concept(offered: OfferedType | None) -> tuple[str, str] | None:
    return (offered.id, offered.name) if offered else None


def proposal_id(schedule: BookableSchedule, start: int, offered: OfferedType | None) -> str:
    base = build.slot_id(schedule.id, start)
    default = schedule.default_type()
    if offered is None or default is None or offered.id == default.id:
        return base
    return f"{base}.{build.type_tag(offered.id)}"


def find(ctx: RequestContext, req: ApiRequest) -> dict[str, Any]:
    parts = read_parameters(req)
    check_params(req, FIND_PARAMS)
    from inquicker.fhir.search import instant  # local: keeps the import list short

    start_text = text_values(parts, "start")
    end_text = text_values(parts, "end")
    low = instant("start", start_text[0]) if start_text else ctx.now
    high = instant("end", end_text[0], end_of_day=True) if end_text else None
    low, high = _bounded(ctx, low, high)
    where = repo.ScheduleFilter(
        providers=[v.rsplit("/", 1)[-1] for v in text_values(parts, "practitioner")],
        locations=[v.rsplit("/", 1)[-1] for v in text_values(parts, "location")],
        services=[v.rsplit("|", 1)[-1] for v in text_values(parts, "specialty")],
    )
    page = repo.schedules(ctx.session.connection(), ctx.tenant.health_system_pks, where, 0, 101)
    if len(page.rows) > MAX_SCHEDULES:
        raise fhir_error(
            400,
            f"More than {MAX_SCHEDULES} schedules match: narrow by practitioner or location.",
            "too-costly",
        )
    rows = {r.slug: r for r in page.rows}
    bookable = cached_schedules(ctx.session, ctx.memo, ctx.tenant, list(rows))
    type_ids = [v.rsplit("|", 1)[-1] for v in text_values(parts, "visit-type")]
    wanted = wanted_types([bookable[s] for s in rows if s in bookable], type_ids)
    computed = slot_times(ctx.session, wanted, low, high, ctx.now)
    found = sorted(
        (
            (t.start, schedule.id, schedule, offered)
            for schedule, offered in wanted
            for t in computed[schedule.pk]
            if t.free
        ),
        key=lambda item: (item[0], item[1]),
    )
    counts = text_values(parts, "_count")
    offsets = text_values(parts, "_offset")
    count = min(int(counts[-1]), MAX_COUNT) if counts and counts[-1].isdigit() else DEFAULT_COUNT
    offset = int(offsets[-1]) if offsets and offsets[-1].isdigit() else 0
    shown = []
    for start, _, schedule, offered in found[offset : offset + count]:
        minutes = duration_of(schedule, offered)
        shown.append(
            build.appointment(
                rows[schedule.id],
                proposal_id(schedule, start, offered),
                "proposed",
                local_pair(schedule, start, start + minutes * 60),
                minutes,
                _concept(offered),
                slot_ref=f"Slot/{build.slot_id(schedule.id, start)}",
            )
        )
    return searchset(req, ctx.base_url, shown, len(found), offset, count)


def _bounded(
    ctx: RequestContext, low: datetime, high: datetime | None
) -> tuple[datetime, datetime]:
    from inquicker.fhir.reads import DEFAULT_DAYS, MAX_DAYS

    day = 86_400
    low = max(low, ctx.now)
    high = high or datetime.fromtimestamp(low.timestamp() + DEFAULT_DAYS * day, UTC)
    if high <= low:
        raise fhir_error(400, "end must be after start (and after now).", "invalid-date", "end")
    if (high - low).total_seconds() > MAX_DAYS * day:
        raise fhir_error(400, f"At most {MAX_DAYS} days at a time.", "too-costly", "end")
    return low, high


def parse_target(parts: dict[str, list[dict[str, Any]]]) -> Target:
    """From appointment-reference, or appointment-resource (its id or its Slot)."""
    refs = text_values(parts, "appointment-reference")
    resource = resource_of(parts, "appointment-resource")
    type_id = None
    if refs:
        ident = refs[0].rstrip("/").rsplit("/", 1)[-1]
    elif resource is not None:
        if resource.get("resourceType") != "Appointment":
            raise fhir_error(
                400,
                "appointment-resource must be an Appointment.",
                "invalid",
                "Parameters.parameter.where(name='appointment-resource').resource",
            )
        slots = resource.get("slot") or []
        slot_ref = slots[0].get("reference", "") if slots and isinstance(slots[0], dict) else ""
        ident = slot_ref.rsplit("/", 1)[-1] if slot_ref else str(resource.get("id") or "")
        codings = (resource.get("appointmentType") or {}).get("coding") or []
        type_id = next((c.get("code") for c in codings if isinstance(c, dict)), None)
    else:
        raise fhir_error(
            400,
            "Name the appointment: appointment-reference (from $find or $hold) or "
            "appointment-resource.",
            "required",
            "appointment-reference",
        )
    if ident.startswith(HOLD_PREFIX):
        return Target(hold_jti=ident.removeprefix(HOLD_PREFIX))
    pieces = ident.split(".")
    if len(pieces) in (2, 3) and pieces[1].isdigit():
        tag = pieces[2] if len(pieces) == 3 else None
        return Target(pieces[0], int(pieces[1]), type_id or (f"tag:{tag}" if tag else None))
    raise fhir_error(
        404, f"No proposed Appointment with id '{ident}'.", "not-found", "appointment-reference"
    )


def resolve_type(ctx: RequestContext, target: Target) -> tuple[BookableSchedule, str | None]:
    """The target's schedule (404 if not the tenant's) and its appointment type id."""
    schedule = cached_schedules(ctx.session, ctx.memo, ctx.tenant, [target.schedule_id]).get(
        target.schedule_id
    )
    if schedule is None:
        raise fhir_error(
            404,
            f"No schedule with id '{target.schedule_id}'.",
            "not-found",
            "appointment-reference",
        )
    type_id = target.type_id
    if type_id and type_id.startswith("tag:"):
        tag = type_id.removeprefix("tag:")
        found = next((t for t in schedule.types if build.type_tag(t.id) == tag), None)
        if found is None:
            raise fhir_error(404, "No such proposed Appointment.", "not-found")
        type_id = found.id
    return schedule, type_id


def hold(ctx: RequestContext, req: ApiRequest) -> dict[str, Any]:
    parts = read_parameters(req)
    target = parse_target(parts)
    if target.hold_jti:
        raise fhir_error(422, "That Appointment is already held.", "already-held")
    schedule, type_id = resolve_type(ctx, target)
    assert req.principal is not None  # the "book" scope guarantees a key
    held = place_hold(
        ctx,
        key_pk=req.principal.key_pk,
        schedule_id=schedule.id,
        when=datetime.fromtimestamp(target.start, UTC),
        type_id=type_id,
    )
    now = int(ctx.now.timestamp())
    until = held.held_until or held.expires_at
    extensions = [
        {
            "url": build.HOLD_EXPIRES,
            "valueInstant": datetime.fromtimestamp(until, UTC).isoformat().replace("+00:00", "Z"),
        },
        {
            "url": build.VISIT_TOKEN,
            "valueString": held.token(ctx.settings.secret_key, ctx.tenant.hostname, now),
        },
    ]
    resource = build.appointment(
        _row(ctx, schedule),
        HOLD_PREFIX + held.jti,
        "pending",
        local_pair(schedule, held.start, held.start + held.duration_minutes * 60),
        held.duration_minutes,
        _concept(held.offered_type),
        slot_ref=f"Slot/{build.slot_id(schedule.id, held.start)}",
        extensions=extensions,
    )
    return searchset(req, ctx.base_url, [resource], 1, 0, 1)


def booked_appointment(
    ctx: RequestContext, visit: BookedVisit, token: str | None
) -> dict[str, Any]:
    """The visit as an Appointment (never patient data); the token only to its holder."""
    row = repo.schedule_by_pk(ctx.session.connection(), visit.schedule_pk)
    schedule = cached_schedules(ctx.session, ctx.memo, ctx.tenant, [row.slug]).get(row.slug)
    offered = None
    if schedule is not None:
        offered = next((t for t in schedule.types if t.pk == visit.appointment_type_pk), None)
    minutes = offered.duration_minutes if offered else 15
    start = visit.appointment_at
    times = (
        local_pair(schedule, start, start + minutes * 60)
        if schedule is not None
        else (_utc(start), _utc(start + minutes * 60))
    )
    extensions = [{"url": build.MANAGEMENT_TOKEN, "valueString": token}] if token else None
    return build.appointment(
        row,
        visit.visit_id,
        build.APPOINTMENT_STATUS.get(visit.status, BOOKED),
        times,
        minutes,
        _concept(offered),
        slot_ref=f"Slot/{build.slot_id(row.slug, start)}",
        identifier=str(visit.confirmation_number),
        extensions=extensions,
    )


def _utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def read_appointment(ctx: RequestContext, req: ApiRequest) -> dict[str, Any]:
    """Appointment/{id} with the visit's management token (Authorization: Bearer)."""
    visit, token = authorized_visit(ctx, req)
    return booked_appointment(ctx, visit, token)
