"""An operator's reschedule without a visit token (SPEC section 10: operators can do all of
the lifecycle "without the token").

It is the partner's reschedule with the token step folded in: ``place_hold`` checks that the
availability engine offers the time and holds its seats under a token recorded with no API
key, and ``service.reschedule`` converts that hold, frees the old seats, keeps the visit's id
and confirmation number, records ``previous_appointment_at`` and writes
``visit.rescheduled`` -- all in one savepoint of the caller's transaction. So an operator
can move a visit only to a time a partner would be offered, and a lost race changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from inquicker.availability.repository import BookableSchedule, cached_schedules
from inquicker.booking import lifecycle, service
from inquicker.booking.errors import (
    InvalidTransition,
    SlotUnavailable,
    TimeNotOffered,
    TypeNotOffered,
)
from inquicker.booking.holds import place_hold
from inquicker.booking.repository import BookedVisit, token_by_jti
from inquicker.catalog.schedule_models import Schedule
from inquicker.jsonapi.errors import ApiError
from inquicker.web.context import RequestContext


def target_schedule(
    ctx: RequestContext, visit: BookedVisit, schedule_id: str | None
) -> BookableSchedule | None:
    """The schedule the visit moves to (its own unless named); None unless it is one of the
    visit's own health system's."""
    if schedule_id is None:
        schedule_id = ctx.session.get_one(Schedule, visit.schedule_pk).slug
    found = cached_schedules(ctx.session, ctx.memo, ctx.tenant, [schedule_id]).get(schedule_id)
    if found is None or found.health_system_pk != visit.health_system_pk:
        return None
    return found


def type_for(schedule: BookableSchedule, visit: BookedVisit, type_id: str | None) -> str | None:
    """The appointment type of the move: the one asked for, else the visit's own when the
    schedule offers it (a reschedule keeps what the patient booked), else None (the
    schedule's best fitting type, as GET /visit-token picks)."""
    if type_id is not None:
        if schedule.type(type_id) is None:
            raise TypeNotOffered(f"This schedule does not offer the appointment type '{type_id}'.")
        return type_id
    own = next((t for t in schedule.types if t.pk == visit.appointment_type_pk), None)
    return own.id if own is not None else None


def reschedule_to(
    ctx: RequestContext,
    visit: BookedVisit,
    *,
    schedule: BookableSchedule,
    when: datetime,
    type_id: str | None,
) -> BookedVisit:
    """Move ``visit`` to ``when`` on ``schedule`` as an operator; the visit afterwards.

    ``ctx.tenant`` is the visit's own site (the token is recorded for it). Raises
    ``SlotUnavailable`` when the time was taken meanwhile, ``TimeNotOffered`` when it is not
    offered at all, ``InvalidTransition`` for a visit that cannot move; then nothing changed.
    """
    if not lifecycle.may_reschedule(visit.status):
        raise InvalidTransition(visit.status, "rescheduled")
    type_id = type_for(schedule, visit, type_id)
    wanted = schedule.type(type_id) if type_id else None
    if (
        visit.schedule_pk == schedule.pk
        and visit.appointment_at == int(when.timestamp())
        and (wanted is None or wanted.pk == visit.appointment_type_pk)
    ):
        # Already there (a retried request): answered with the visit as it is, like a
        # repeated cancel. Checking the time again would refuse it: the visit's own seat
        # is taken, by the visit.
        return visit
    # A savepoint: the token row and the hold are undone with the rest when the move fails,
    # even for a caller (the console) that goes on to render a page in the same transaction.
    with ctx.session.begin_nested():
        try:
            hold = place_hold(
                ctx,
                key_pk=None,
                schedule_id=schedule.id,
                when=when,
                type_id=type_id,
                # Converted below, in this transaction: the hold never outlives the request.
                enforce_cap=False,
            )
        except ApiError as exc:
            error = exc.errors[0]
            if error.code == "slot-unavailable":
                raise SlotUnavailable(error.detail or "That time is no longer available.") from None
            if error.code == "time-not-offered":
                raise TimeNotOffered(error.detail or "That time is not offered.") from None
            raise
        conn = ctx.session.connection()
        record = token_by_jti(conn, hold.jti)
        assert record is not None  # recorded just above, in this transaction
        return service.reschedule(
            conn, visit, token=record, schedule=hold.schedule, type_id=type_id, now=ctx.now
        )
