"""GET /available-appointment-times (SPEC section 5); routed by availability/routes.py."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select
from starlette.responses import Response

from inquicker.availability.engine import cells_needed, cut_window, format_times, offered_times
from inquicker.availability.kept_times import Wanted
from inquicker.availability.repository import BookableSchedule, cached_schedules, seats_taken
from inquicker.availability.zones import epoch_ceil, zone
from inquicker.catalog.models import AppointmentType
from inquicker.jsonapi.errors import ApiError, ErrorObject, bad_parameter, raise_if_any
from inquicker.jsonapi.params import unknown_parameters
from inquicker.web.context import RequestContext
from inquicker.web.request import ApiRequest

MAX_SCHEDULES = 100
MAX_WINDOW = timedelta(days=92)
DEFAULT_WINDOW = timedelta(days=14)
IDS_PARAMETER = "schedule_ids[]"
MIN_YEAR, MAX_YEAR = 1900, 2200
ID_SPELLINGS = ("schedule_ids[]", "schedule_ids", "schedule-ids[]", "schedule-ids")
# appointment-type: the reference's prose spells it so (SPEC section 3 aliases).
TYPE_SPELLINGS = ("appointment_type", "appointment-type")
PARAMETERS = frozenset({*ID_SPELLINGS, *TYPE_SPELLINGS, "from", "to"})
# Work budget of one answer (SPEC 8b): schedules x days x grid cells per day, counting
# whole days of 24 hours. 100 schedules x 92 days on a 15-minute grid (883,200) fit; on a
# 5-minute grid (2,649,600: a 74 MB answer, +270 MB measured) they do not.
CELL_BUDGET = 1_000_000


@dataclass(frozen=True)
class Bound:
    """A window bound as given: a date, a local date-time, or an absolute instant."""

    value: date | datetime

    def instant(self, zone: tzinfo, *, end: bool) -> datetime:
        """The bound in ``zone``: a date means its start (or, as an end, the next day's)."""
        v = self.value
        if isinstance(v, datetime):
            return v if v.tzinfo is not None else v.replace(tzinfo=zone)
        day = v + timedelta(days=1) if end else v
        return datetime.combine(day, time(0), tzinfo=zone)


def _parse_bound(parameter: str, raw: str) -> Bound:
    text = raw.strip().strip('"').replace(" ", "+")
    try:
        value: date | datetime = (
            date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        )
    except ValueError:
        raise ApiError(
            [bad_parameter(parameter, f"{parameter} must be an ISO 8601 date or date-time.")]
        ) from None
    # Far outside any schedule's horizon, and keeps date arithmetic away from year 1 / 9999.
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ApiError(
            [bad_parameter(parameter, f"{parameter} must be between {MIN_YEAR} and {MAX_YEAR}.")]
        )
    return Bound(value)


def _schedule_ids(req: ApiRequest) -> list[str]:
    ids: list[str] = []
    for key, value in req.params:
        if key in ID_SPELLINGS:
            ids.extend(v.strip() for v in value.split(",") if v.strip())
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ApiError([bad_parameter(IDS_PARAMETER, "At least one schedule id is required.")])
    if len(ids) > MAX_SCHEDULES:
        raise ApiError(
            [bad_parameter(IDS_PARAMETER, f"At most {MAX_SCHEDULES} schedules per request.")]
        )
    return ids


def _window(req: ApiRequest, now: datetime) -> tuple[Bound, Bound]:
    params = dict(req.params)
    errors: list[ErrorObject] = []
    bounds: dict[str, Bound] = {}
    for name in ("from", "to"):
        if params.get(name, "").strip():
            try:
                bounds[name] = _parse_bound(name, params[name])
            except ApiError as exc:
                errors.extend(exc.errors)
    raise_if_any(errors)
    start = bounds.get("from", Bound(now))
    end = bounds.get("to") or _default_end(start)
    # Both bounds read alike (local ones as UTC), so the span is exact for dates and
    # date-times; a mix of local and absolute bounds can differ by the zone's offset.
    first, last = start.instant(UTC, end=False), end.instant(UTC, end=True)
    if last <= first:
        raise ApiError([bad_parameter("to", "to must be after from.")])
    if last - first > MAX_WINDOW:
        raise ApiError([bad_parameter("to", "The window may span at most 92 days.")])
    return start, end


def _default_end(start: Bound) -> Bound:
    """14 days: whole local days from a date, else 14 x 24 hours."""
    if isinstance(start.value, datetime):
        return Bound(start.value + DEFAULT_WINDOW)
    return Bound(start.value + DEFAULT_WINDOW - timedelta(days=1))


def _check_type_exists(ctx: RequestContext, type_id: str) -> None:
    found = ctx.session.execute(
        select(AppointmentType.pk).where(
            AppointmentType.slug == type_id,
            AppointmentType.health_system_pk.in_(ctx.tenant.health_system_pks),
        )
    ).first()
    if found is None:
        raise ApiError(
            [bad_parameter("appointment_type", f"Unknown appointment type '{type_id}'.")]
        )


def _parse(
    ctx: RequestContext, req: ApiRequest
) -> tuple[list[str], Bound, Bound, list[ErrorObject]]:
    """Ids and window, with every problem found in them (not raised yet)."""
    errors = unknown_parameters(req.params, PARAMETERS)
    ids: list[str] = []
    start = end = Bound(ctx.now)
    try:
        ids = _schedule_ids(req)
    except ApiError as exc:
        errors.extend(exc.errors)
    try:
        start, end = _window(req, ctx.now)
    except ApiError as exc:
        errors.extend(exc.errors)
        end = _default_end(start)
    return ids, start, end, errors


def available_times(ctx: RequestContext, req: ApiRequest) -> Response:
    """Offered start times per requested schedule, in request order."""
    ids, start, end, errors = _parse(ctx, req)
    requested_type = requested_type_of(req)
    schedules = cached_schedules(ctx.session, ctx.memo, ctx.tenant, ids)
    errors += [
        ErrorObject(
            404, "not-found", "Not found", f"No schedule with id '{i}'.", parameter=IDS_PARAMETER
        )
        for i in ids
        if i not in schedules
    ]
    raise_if_any(errors)
    _check_budget(list(schedules.values()), start, end)
    if requested_type and not any(s.type(requested_type) for s in schedules.values()):
        _check_type_exists(ctx, requested_type)
    window = _Window(start, end, epoch_ceil(ctx.now))
    wanted = [_wanted(schedules[i], requested_type, window) for i in ids]
    times = ctx.kept_times.offered_json(
        ctx.session, [w for _, w in wanted if w is not None], int(ctx.now.timestamp())
    )
    offered = iter(times)
    body = [
        {
            "schedule-id": i,
            "appointment-type": type_id,
            "times": orjson.Fragment(next(offered)) if w is not None else [],
        }
        for i, (type_id, w) in zip(ids, wanted, strict=True)
    ]
    return Response(orjson.dumps(body), media_type="application/json")


class _Window:
    """The request's window in whole UTC epoch seconds, per time zone (a date means that
    zone's midnight; most requests name schedules of one or two zones)."""

    def __init__(self, start: Bound, end: Bound, now: int) -> None:
        self.start, self.end, self.now = start, end, now
        self._by_zone: dict[str, tuple[int, int]] = {}

    def in_zone(self, name: str) -> tuple[int, int]:
        found = self._by_zone.get(name)
        if found is None:
            local = zone(name)
            found = self._by_zone[name] = (
                epoch_ceil(self.start.instant(local, end=False)),
                epoch_ceil(self.end.instant(local, end=True)),
            )
        return found


def _wanted(
    schedule: BookableSchedule, requested_type: str | None, window: _Window
) -> tuple[str | None, Wanted | None]:
    """The appointment type answered for and what to look up (None: the schedule does not
    offer the type asked for). The same choices as ``_times_for``."""
    offered = schedule.type(requested_type) if requested_type else schedule.default_type()
    type_id = requested_type or (offered.id if offered else None)
    if requested_type and offered is None:
        return type_id, None
    rules = schedule.rules
    duration = offered.duration_minutes if offered else rules.slot_minutes
    low, high = cut_window(rules, *window.in_zone(rules.time_zone), window.now)
    return type_id, Wanted(schedule.pk, rules, cells_needed(rules, duration), low, high)


def _check_budget(schedules: list[BookableSchedule], start: Bound, end: Bound) -> None:
    """400 when the answer would cover more than CELL_BUDGET grid cells."""
    seconds = (end.instant(UTC, end=True) - start.instant(UTC, end=False)).total_seconds()
    days = max(1, math.ceil(seconds / 86_400))
    cells = days * sum(1440 // max(1, s.rules.slot_minutes) for s in schedules)
    if cells > CELL_BUDGET:
        raise ApiError(
            [
                bad_parameter(
                    "to",
                    f"This request covers {cells:,} grid cells ({len(schedules)} schedules x "
                    f"{days} days); at most {CELL_BUDGET:,} are answered at once. Narrow it: "
                    "ask for fewer schedules, or a shorter window with from/to, and page "
                    "through the rest.",
                    code="over-budget",
                )
            ]
        )


def requested_type_of(req: ApiRequest) -> str | None:
    """The appointment type asked for, in either spelling (the last one given wins)."""
    found = [v.strip() for k, v in req.params if k in TYPE_SPELLINGS]
    return found[-1] if found and found[-1] else None


def _times_for(
    schedule: BookableSchedule,
    requested_type: str | None,
    start: Bound,
    end: Bound,
    taken: dict[int, int],
    now: datetime,
) -> dict[str, Any]:
    zone = ZoneInfo(schedule.rules.time_zone)
    offered = schedule.type(requested_type) if requested_type else schedule.default_type()
    type_id = requested_type or (offered.id if offered else None)
    if requested_type and offered is None:
        times: list[str] = []  # the schedule does not offer that type
    else:
        duration = offered.duration_minutes if offered else schedule.rules.slot_minutes
        instants = offered_times(
            schedule.rules,
            duration,
            taken,
            start.instant(zone, end=False),
            end.instant(zone, end=True),
            now,
        )
        times = format_times(instants, schedule.rules.time_zone)
    return {"schedule-id": schedule.id, "appointment-type": type_id, "times": times}


def times_on(
    ctx: RequestContext, schedule: BookableSchedule, type_id: str | None, day: date
) -> list[str]:
    """What ``GET /available-appointment-times?schedule_ids[]=S&appointment_type=T&from=D&to=D``
    answers for one schedule: the same window, seats and engine (the console's reschedule
    picker offers exactly what a partner is offered)."""
    bound = Bound(day)
    first = int(bound.instant(UTC, end=False).timestamp()) - 86_400
    last = int(bound.instant(UTC, end=True).timestamp()) + 2 * 86_400
    taken = seats_taken(ctx.session, [schedule.pk], first, last, int(ctx.now.timestamp()))
    answer = _times_for(schedule, type_id, bound, bound, taken.get(schedule.pk, {}), ctx.now)
    times: list[str] = answer["times"]
    return times
