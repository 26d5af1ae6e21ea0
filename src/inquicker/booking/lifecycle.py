"""Visit statuses and the transitions between them (SPEC section 10): pure rules.

A reschedule keeps a visit ``booked``; it is not a status of its own.
"""

from __future__ import annotations

from typing import Final

BOOKED: Final = "booked"
CANCELLED: Final = "cancelled"
CHECKED_IN: Final = "checked-in"
NO_SHOW: Final = "no-show"
COMPLETED: Final = "completed"

STATUSES: Final = (BOOKED, CANCELLED, CHECKED_IN, NO_SHOW, COMPLETED)

# Where each status may go. Nothing leaves cancelled, no-show or completed: those are
# facts about the past (a patient who did not come cannot have come after all; a cancelled
# visit's seats may already belong to someone else).
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    BOOKED: frozenset({CANCELLED, CHECKED_IN, NO_SHOW, COMPLETED}),
    CHECKED_IN: frozenset({COMPLETED, NO_SHOW}),
    CANCELLED: frozenset(),
    NO_SHOW: frozenset(),
    COMPLETED: frozenset(),
}

# The statuses a partner (with the management token) may set; operators may set them all.
PARTNER_STATUSES: Final = frozenset({CANCELLED})

# The event type each status change writes.
EVENT_TYPES: Final[dict[str, str]] = {
    BOOKED: "visit.booked",
    CANCELLED: "visit.cancelled",
    CHECKED_IN: "visit.checked-in",
    NO_SHOW: "visit.no-show",
    COMPLETED: "visit.completed",
}
RESCHEDULED_EVENT: Final = "visit.rescheduled"
EVENT_TYPE_NAMES: Final = (*EVENT_TYPES.values(), RESCHEDULED_EVENT)


def may_move(current: str, target: str) -> bool:
    """Whether a visit in ``current`` may become ``target`` (repeating is not a move)."""
    return target in TRANSITIONS.get(current, frozenset())


def may_reschedule(current: str) -> bool:
    return current == BOOKED


def too_late_to_cancel(appointment_at: int, now: int, cutoff_minutes: int) -> bool:
    """Partners may cancel until ``cutoff_minutes`` before the appointment; 0 sets no
    cutoff at all."""
    return cutoff_minutes > 0 and now > appointment_at - cutoff_minutes * 60
