"""The visit lifecycle as use cases (SPEC section 10): cancel, status changes, reschedule.

Each runs inside the request's transaction and moves the seats with the status: a
cancelled visit's seats are free when the transaction commits; a reschedule frees the old
seats and claims the new ones in the same transaction, or raises and nothing changes. Each
change writes its event in the same transaction (the outbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from inquicker.availability.engine import covered_cells
from inquicker.availability.repository import BookableSchedule, OfferedType
from inquicker.booking import lifecycle, seats
from inquicker.booking.errors import (
    InvalidTransition,
    SlotUnavailable,
    TooLateToCancel,
    TypeNotOffered,
)
from inquicker.booking.repository import (
    BookedVisit,
    TokenRecord,
    lock_visit,
    update_visit,
    use_token,
)
from inquicker.db.engine import WriteConflictError
from inquicker.events.outbox import record_visit_event

MAX_REASON = 500


@dataclass(frozen=True)
class Actor:
    """Who asks: a partner (management token) is bound by the cancellation cutoff."""

    operator: bool = False


def cancel(
    conn: Connection,
    visit: BookedVisit,
    *,
    reason: str | None,
    now: datetime,
    actor: Actor,
    cutoff_minutes: int,
) -> BookedVisit:
    """Cancel and free the seats; cancelling a cancelled visit changes nothing."""
    current = lock_visit(conn, visit.pk)
    if current.status == lifecycle.CANCELLED:
        return current
    if not lifecycle.may_move(current.status, lifecycle.CANCELLED):
        raise InvalidTransition(current.status, lifecycle.CANCELLED)
    epoch = int(now.timestamp())
    if not actor.operator and lifecycle.too_late_to_cancel(
        current.appointment_at, epoch, cutoff_minutes
    ):
        raise TooLateToCancel(
            f"Visits can be cancelled online until {cutoff_minutes} minutes before the "
            "appointment; please call the clinic."
        )
    seats.free_visit(conn, current.pk)
    update_visit(
        conn,
        current.pk,
        {
            "status": lifecycle.CANCELLED,
            "cancelled_at": now,
            "cancellation_reason": reason[:MAX_REASON] if reason else None,
            "sequence": current.sequence + 1,
            "updated_at": now,
        },
    )
    record_visit_event(conn, lifecycle.EVENT_TYPES[lifecycle.CANCELLED], current.pk, now)
    return lock_visit(conn, current.pk)


def change_status(conn: Connection, visit: BookedVisit, target: str, now: datetime) -> BookedVisit:
    """Check-in, no-show, completed (operators): the seats stay taken (the time is past or
    present). Setting the current status again changes nothing."""
    current = lock_visit(conn, visit.pk)
    if current.status == target:
        return current
    if not lifecycle.may_move(current.status, target):
        raise InvalidTransition(current.status, target)
    update_visit(conn, current.pk, {"status": target, "updated_at": now})
    record_visit_event(conn, lifecycle.EVENT_TYPES[target], current.pk, now)
    return lock_visit(conn, current.pk)


def reschedule(
    conn: Connection,
    visit: BookedVisit,
    *,
    token: TokenRecord,
    schedule: BookableSchedule,
    type_id: str | None,
    now: datetime,
) -> BookedVisit:
    """Move the visit to the time the (held) visit token names, keeping its id and number.

    The old seats are freed first so that a move within the visit's own cells (say, 15
    minutes later on a capacity-1 grid) does not collide with itself; if the new seats
    cannot all be had, the exception rolls the whole transaction back, old seats included.
    """
    current = lock_visit(conn, visit.pk)
    if not lifecycle.may_reschedule(current.status):
        raise InvalidTransition(current.status, "rescheduled")
    offered = _offered_type(schedule, type_id, token, current)
    duration = offered.duration_minutes if offered else schedule.rules.slot_minutes
    cells = covered_cells(schedule.rules, token.appointment_at, duration)
    if cells is None:
        raise SlotUnavailable("That appointment type does not fit at this time.")
    epoch = int(now.timestamp())
    lock = seats.lock_for_booking(conn, schedule.pk, token.jti)
    if lock is None or lock.used_at is not None:
        raise WriteConflictError("token used concurrently")
    seats.free_visit(conn, current.pk)
    held: list[int] = []
    if lock.held:
        held = seats.convert_hold(
            conn, token.jti, schedule.pk, cells, epoch, visit_pk=current.pk, held=lock.held
        )
    missing = [c for c in cells if c not in held]
    if missing and not seats.claim(
        conn, schedule.pk, missing, schedule.rules.capacity, epoch, visit_pk=current.pk
    ):
        raise SlotUnavailable("That time is no longer available.")
    use_token(conn, token.jti, epoch, current.pk)
    update_visit(
        conn,
        current.pk,
        {
            "schedule_pk": schedule.pk,
            "appointment_at": token.appointment_at,
            "appointment_type_pk": offered.pk if offered else None,
            "previous_appointment_at": current.appointment_at,
            "sequence": current.sequence + 1,
            "updated_at": now,
        },
    )
    record_visit_event(conn, lifecycle.RESCHEDULED_EVENT, current.pk, now)
    return lock_visit(conn, current.pk)


def _offered_type(
    schedule: BookableSchedule, type_id: str | None, token: TokenRecord, visit: BookedVisit
) -> OfferedType | None:
    """The type asked for; else the one the token was issued for; else the visit's own,
    when the new schedule offers it; else the schedule's default."""
    if type_id is not None:
        offered = schedule.type(type_id)
        if offered is None:
            raise TypeNotOffered(f"This schedule does not offer the appointment type '{type_id}'.")
        return offered
    for pk in (token.appointment_type_pk, visit.appointment_type_pk):
        found = next((t for t in schedule.types if pk is not None and t.pk == pk), None)
        if found is not None:
            return found
    return schedule.default_type()
