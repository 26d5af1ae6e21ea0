"""GET /visit-token: check the time is offered now, hold its seats, return a signed token."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from starlette.responses import Response

from inquicker.availability.engine import covered_cells, format_times, offered_times
from inquicker.availability.repository import (
    BookableSchedule,
    OfferedType,
    cached_schedules,
    seats_taken,
)
from inquicker.booking import seats
from inquicker.booking.models import VisitToken
from inquicker.booking.switch import check_booking_enabled
from inquicker.booking.tokens import TOKEN_MINUTES, mint
from inquicker.jsonapi.context import RequestContext
from inquicker.jsonapi.errors import ApiError, ErrorObject, bad_parameter, not_found
from inquicker.jsonapi.params import unknown_parameters
from inquicker.jsonapi.routes import ApiRequest, Endpoint
from inquicker.tenancy.models import HealthSystem

JWT_MEDIA_TYPE = "application/jwt"
MIN_YEAR, MAX_YEAR = 1900, 2200
# appointment-type: the reference's prose spelling, accepted as on availability.
TYPE_SPELLINGS = ("appointment_type", "appointment-type")
PARAMETERS = frozenset({"schedule_id", "appointment_at", *TYPE_SPELLINGS})


def parse_instant(parameter: str, raw: str) -> datetime:
    """An ISO 8601 date-time with offset; tolerates quotes and a '+' decoded as a space."""
    text = raw.strip().strip('"').strip("'").replace(" ", "+")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is not None and value.tzinfo is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        # Year 1 or 9999 would overflow the arithmetic below (and no schedule goes there).
        raise ApiError(
            [bad_parameter(parameter, f"{parameter} must be between {MIN_YEAR} and {MAX_YEAR}.")]
        )
    if value is None or value.tzinfo is None:
        raise ApiError(
            [
                bad_parameter(
                    parameter,
                    f"{parameter} must be an ISO 8601 date-time with a UTC "
                    "offset, e.g. 2026-12-07T09:00:00-05:00.",
                )
            ]
        )
    return value


def refuse_time(detail: str, code: str = "time-not-offered") -> ApiError:
    return ApiError(
        [ErrorObject(422, code, "Time not offered", detail, parameter="appointment_at")]
    )


def why_not_offered(
    schedule: BookableSchedule, start: int, duration: int, taken: dict[int, int], now: int
) -> ApiError:
    """The most useful reason a start is not offered."""
    rules = schedule.rules
    if covered_cells(rules, start, duration) is None:
        return refuse_time(
            f"A {duration}-minute visit cannot start at that time on this schedule (outside "
            "its hours, across a break, or off its slot grid)."
        )
    if start < now + rules.lead_minutes * 60:
        return refuse_time(f"Visits must be booked at least {rules.lead_minutes} minutes ahead.")
    if start >= now + rules.horizon_days * 86_400:
        return refuse_time(f"Visits can be booked at most {rules.horizon_days} days ahead.")
    return refuse_time("That time is no longer available.", code="slot-unavailable")


def _duration(schedule: BookableSchedule, offered: OfferedType | None) -> int:
    return offered.duration_minutes if offered else schedule.rules.slot_minutes


def issue_token(ctx: RequestContext, req: ApiRequest) -> Response:
    """Validate, hold and sign (SPEC section 6)."""
    params = dict(req.params)
    errors = unknown_parameters(req.params, PARAMETERS)
    errors += [
        bad_parameter(name, f"{name} is required.")
        for name in ("schedule_id", "appointment_at")
        if not params.get(name, "").strip()
    ]
    if errors:
        raise ApiError(errors)
    schedule_id = params["schedule_id"].strip().strip('"')
    when = parse_instant("appointment_at", params["appointment_at"])
    start = int(when.timestamp())
    now = int(ctx.now.timestamp())
    schedule = cached_schedules(ctx.session, ctx.memo, ctx.tenant, [schedule_id]).get(schedule_id)
    if schedule is None:
        raise not_found(f"No schedule with id '{schedule_id}'.")
    check_booking_enabled(ctx, schedule.health_system_pk)
    spelled = [v.strip() for k, v in req.params if k in TYPE_SPELLINGS]
    type_id = spelled[-1] if spelled and spelled[-1] else None
    if type_id and schedule.type(type_id) is None:
        raise ApiError(
            [bad_parameter("appointment_type", f"This schedule does not offer '{type_id}'.")]
        )
    taken = seats_taken(ctx.session, [schedule.pk], start - 86_400, start + 86_400, now)
    taken_here = taken.get(schedule.pk, {})
    # Without a type, the reference's clients still expect any time the schedule lists for
    # one of its types: take the highest-priority type that fits at this time.
    candidates: list[OfferedType | None] = (
        [schedule.type(type_id)] if type_id else [*schedule.types] or [None]
    )
    window_end = when + timedelta(seconds=1)
    fitting = [
        t
        for t in candidates
        if start
        in offered_times(
            schedule.rules, _duration(schedule, t), taken_here, when, window_end, ctx.now
        )
    ]
    if not fitting:
        raise why_not_offered(schedule, start, _duration(schedule, candidates[0]), taken_here, now)
    offered_type = fitting[0]
    duration = _duration(schedule, offered_type)

    # A hold never outlives its token: an expired token can no longer use the seat.
    hold_minutes = min(
        ctx.session.get_one(HealthSystem, schedule.health_system_pk).hold_minutes, TOKEN_MINUTES
    )
    assert req.principal is not None  # scope "book" guarantees a key
    jti = str(uuid.uuid4())
    if hold_minutes > 0 and (
        seats.live_holds(ctx.session, req.principal.key_pk, now) >= ctx.settings.max_holds_per_key
    ):
        raise ApiError(
            [
                ErrorObject(
                    429,
                    "too-many-holds",
                    "Too many holds",
                    f"This API key already holds {ctx.settings.max_holds_per_key} unused visit "
                    "tokens; use them or let them expire.",
                )
            ]
        )
    ctx.session.add(
        VisitToken(
            jti=jti,
            site_pk=ctx.tenant.site_pk,
            api_key_pk=req.principal.key_pk,
            schedule_pk=schedule.pk,
            appointment_at=start,
            appointment_type_pk=offered_type.pk if offered_type else None,
            issued_at=now,
            expires_at=now + TOKEN_MINUTES * 60,
        )
    )
    ctx.session.flush()
    if hold_minutes > 0:
        cells = covered_cells(schedule.rules, start, duration) or []
        conn = ctx.session.connection()
        seats.lock_schedule(conn, schedule.pk)
        held = seats.claim(
            conn,
            schedule.pk,
            cells,
            schedule.rules.capacity,
            now,
            hold_jti=jti,
            expires_at=now + hold_minutes * 60,
        )
        if not held:
            raise refuse_time("That time is no longer available.", code="slot-unavailable")
    local = format_times([start], schedule.rules.time_zone)[0]
    token = mint(
        ctx.settings.secret_key,
        jti=jti,
        schedule_id=schedule.id,
        appointment_at=local,
        audience=ctx.tenant.hostname,
        issued_at=now,
    )
    return Response(token, media_type=JWT_MEDIA_TYPE, headers={"Cache-Control": "no-store"})


ENDPOINT = Endpoint(frozenset({"GET"}), issue_token, scope="book", max_segments=1, writes=True)
