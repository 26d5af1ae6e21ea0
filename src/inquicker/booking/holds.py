"""Holding a seat for a visit: the one use case behind GET /visit-token and FHIR $hold.

Checks that the time is offered now (by the availability engine), records the visit token,
and claims the seats as a hold until the token is used or expires, so the patient filling
in a form cannot lose the slot to a faster client. Both faces call ``place_hold``; they
differ only in how they read the request and render the answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

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
from inquicker.jsonapi.errors import ApiError, ErrorObject, bad_parameter, not_found
from inquicker.tenancy.models import HealthSystem
from inquicker.web.context import RequestContext


@dataclass(frozen=True)
class Hold:
    """An issued visit token and the seats it holds (if holds are on)."""

    jti: str
    schedule: BookableSchedule
    start: int  # UTC epoch seconds
    offered_type: OfferedType | None
    duration_minutes: int
    expires_at: int  # the token's expiry
    held_until: int | None  # the seats' hold expiry; None when holds are off
    local_time: str  # the start in the schedule's zone, with its offset

    def token(self, secret_key: str, audience: str, issued_at: int) -> str:
        """The signed visit token (JWT) for this hold."""
        return mint(
            secret_key,
            jti=self.jti,
            schedule_id=self.schedule.id,
            appointment_at=self.local_time,
            audience=audience,
            issued_at=issued_at,
        )


def refuse_time(detail: str, code: str = "time-not-offered") -> ApiError:
    return ApiError(
        [ErrorObject(422, code, "Time not offered", detail, parameter="appointment_at")]
    )


def why_not_offered(schedule: BookableSchedule, start: int, duration: int, now: int) -> ApiError:
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


def _too_many_holds(cap: int) -> ApiError:
    return ApiError(
        [
            ErrorObject(
                429,
                "too-many-holds",
                "Too many holds",
                f"This API key already holds {cap} unused visit tokens; use them or let them "
                "expire.",
            )
        ]
    )


def place_hold(
    ctx: RequestContext,
    *,
    key_pk: int | None,
    schedule_id: str,
    when: datetime,
    type_id: str | None,
    enforce_cap: bool = True,
) -> Hold:
    """Validate the time, record the token and hold its seats (SPEC section 6).

    ``enforce_cap`` is off only for a hold converted into a visit in the same transaction
    (FHIR ``$book`` without a prior ``$hold``, an operator's reschedule): it never outlives
    the request. ``key_pk`` is None only for an operator's reschedule (booking/reschedule.py):
    no partner asked for that token, and no key's cap counts it.
    """
    start = int(when.timestamp())
    now = int(ctx.now.timestamp())
    schedule = cached_schedules(ctx.session, ctx.memo, ctx.tenant, [schedule_id]).get(schedule_id)
    if schedule is None:
        raise not_found(f"No schedule with id '{schedule_id}'.")
    # Every face's hold (/visit-token, FHIR $hold and $book) honours the switch.
    check_booking_enabled(ctx, schedule.health_system_pk)
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
        raise why_not_offered(schedule, start, _duration(schedule, candidates[0]), now)
    offered_type = fitting[0]
    duration = _duration(schedule, offered_type)

    # A hold never outlives its token: an expired token can no longer use the seat.
    hold_minutes = min(
        ctx.session.get_one(HealthSystem, schedule.health_system_pk).hold_minutes, TOKEN_MINUTES
    )
    jti = str(uuid.uuid4())
    cap = ctx.settings.max_holds_per_key
    if (
        enforce_cap
        and key_pk is not None
        and hold_minutes > 0
        and seats.live_holds(ctx.session, key_pk, now) >= cap
    ):
        raise _too_many_holds(cap)
    expires_at = now + TOKEN_MINUTES * 60
    ctx.session.add(
        VisitToken(
            jti=jti,
            site_pk=ctx.tenant.site_pk,
            api_key_pk=key_pk,
            schedule_pk=schedule.pk,
            appointment_at=start,
            appointment_type_pk=offered_type.pk if offered_type else None,
            issued_at=now,
            expires_at=expires_at,
        )
    )
    ctx.session.flush()
    held_until = None
    if hold_minutes > 0:
        held_until = now + hold_minutes * 60
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
            expires_at=held_until,
        )
        if not held:
            raise refuse_time("That time is no longer available.", code="slot-unavailable")
    local = format_times([start], schedule.rules.time_zone)[0]
    return Hold(jti, schedule, start, offered_type, duration, expires_at, held_until, local)
