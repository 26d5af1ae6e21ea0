"""GET /available-appointment-times/explain (SPEC section 12b): parse, load, render.

The verdicts come from the pure ``explain.explain_day``; this module only reads the
request and the seats, and writes the plain JSON array section 5 also answers with.
"""

from __future__ import annotations

from datetime import date

import orjson
from starlette.responses import Response

from inquicker.availability.endpoint import requested_type_of
from inquicker.availability.explain import Seats, explain_day, local_day, render
from inquicker.availability.repository import cached_schedules, seats_by_kind
from inquicker.availability.zones import DAY
from inquicker.jsonapi.errors import ApiError, ErrorObject, bad_parameter, raise_if_any
from inquicker.web.context import RequestContext
from inquicker.web.request import ApiRequest

# The same bounds as section 5's window: far outside any horizon, and date arithmetic
# stays away from year 1 and 9999.
MIN_YEAR, MAX_YEAR = 1900, 2200
# What it reads; anything else is refused by name (SPEC section 3), as on section 5's route.
PARAMETERS = frozenset({"schedule_id", "date", "appointment_type", "appointment-type"})


def _schedule_id(params: dict[str, str]) -> tuple[str | None, list[ErrorObject]]:
    # Quotes tolerated as /visit-token tolerates them (the reference's examples quote values).
    schedule_id = params.get("schedule_id", "").strip().strip('"')
    if not schedule_id:
        return None, [bad_parameter("schedule_id", "schedule_id is required.")]
    return schedule_id, []


def _date(params: dict[str, str]) -> tuple[date | None, list[ErrorObject]]:
    raw = params.get("date", "").strip().strip('"')
    if not raw:
        return None, [bad_parameter("date", "date is required (YYYY-MM-DD, a local date).")]
    try:
        # Exactly a calendar date: a date-time would leave unclear which local date is meant.
        on = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        on = None
    if on is None:
        return None, [bad_parameter("date", "date must be an ISO 8601 date (YYYY-MM-DD).")]
    if not MIN_YEAR <= on.year <= MAX_YEAR:
        return None, [bad_parameter("date", f"date must be between {MIN_YEAR} and {MAX_YEAR}.")]
    return on, []


def explain_times(ctx: RequestContext, req: ApiRequest) -> Response:
    """Every grid time of one local date of one schedule, offered or with its reason."""
    params = dict(req.params)
    schedule_id, errors = _schedule_id(params)
    on, date_errors = _date(params)
    errors += date_errors
    schedule = None
    if schedule_id is not None:
        schedule = cached_schedules(ctx.session, ctx.memo, ctx.tenant, [schedule_id]).get(
            schedule_id
        )
        if schedule is None:
            errors.append(
                ErrorObject(
                    404,
                    "not-found",
                    "Not found",
                    f"No schedule with id '{schedule_id}'.",
                    parameter="schedule_id",
                )
            )
    raise_if_any(errors)
    assert schedule is not None and on is not None  # raise_if_any raised otherwise

    type_id = requested_type_of(req)  # either spelling, as section 5 reads it
    offered = schedule.type(type_id) if type_id else schedule.default_type()
    if type_id and offered is None:
        detail = f"This schedule does not offer the appointment type '{type_id}'."
        raise ApiError([bad_parameter("appointment_type", detail)])
    rules = schedule.rules
    duration = offered.duration_minutes if offered else rules.slot_minutes

    # Every cell the date's starts can need: offsets stay within a day either side, and a
    # long appointment may run on past the date.
    day = local_day(on)
    first, last = (day - 1) * DAY, (day + 2) * DAY + duration * 60
    booked, held = seats_by_kind(ctx.session, schedule.pk, first, last, int(ctx.now.timestamp()))
    grid = explain_day(rules, duration, on, Seats(booked, held), ctx.now)
    return Response(orjson.dumps(render(grid, on, rules.time_zone)), media_type="application/json")
