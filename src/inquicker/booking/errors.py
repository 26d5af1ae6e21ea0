"""Domain errors of the visit lifecycle. Services raise these; the edge (web/errors.py)
turns them into JSON:API (or FHIR) errors. None of them carries patient data."""

from __future__ import annotations


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


class TokenMismatch(BookingError):
    """The visit token is for another schedule or instant than the request names."""

    code = "token-mismatch"

    def __init__(self, detail: str, pointer: str) -> None:
        super().__init__(detail)
        self.pointer = pointer


class TypeNotOffered(BookingError):
    code = "appointment-type-not-offered"
