"""Domain errors of the visit lifecycle. Services raise these; the edge (web/errors.py)
turns them into JSON:API (or FHIR) errors. None of them carries patient data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class BookingError(Exception):
    """Base: ``code`` is the stable machine-readable reason."""

    code = "booking-error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidTransition(BookingError):
    code = "invalid-transition"

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"A visit that is {current} cannot become {target}.")
        self.current = current
        self.target = target


class TooLateToCancel(BookingError):
    code = "too-late-to-cancel"


class SlotUnavailable(BookingError):
    code = "slot-unavailable"


class TimeNotOffered(BookingError):
    """Not offered at all (outside hours, off the grid, lead time, horizon), as opposed to
    taken meanwhile (SlotUnavailable)."""

    code = "time-not-offered"


class TokenMismatch(BookingError):
    """The visit token is for another schedule or instant than the request names."""

    code = "token-mismatch"

    def __init__(self, detail: str, pointer: str) -> None:
        super().__init__(detail)
        self.pointer = pointer


class TypeNotOffered(BookingError):
    code = "appointment-type-not-offered"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a visit cannot be booked as asked, with the JSON pointer of what to fix
    and a message that never repeats the refused value."""

    code: str
    title: str
    message: str
    pointer: str


class Violations(BookingError):
    """Everything wrong with a booking request, reported together (never one at a time)."""

    code = "invalid-visit"

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = tuple(problems)
