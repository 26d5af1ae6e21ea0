"""The one table that turns the booking domain's errors into JSON:API errors."""

from __future__ import annotations

from inquicker.booking.errors import (
    BookingError,
    InvalidTransition,
    SlotUnavailable,
    TimeNotOffered,
    TokenMismatch,
    TooLateToCancel,
    TypeNotOffered,
    Violations,
)
from inquicker.jsonapi.errors import ApiError, ErrorObject

# error class -> (status, title, pointer)
_TABLE: dict[type[BookingError], tuple[int, str, str]] = {
    InvalidTransition: (422, "Status change not allowed", "/data/attributes/status"),
    TooLateToCancel: (422, "Too late to cancel", "/data/attributes/status"),
    SlotUnavailable: (422, "Slot unavailable", "/data/attributes/appointment-at"),
    TimeNotOffered: (422, "Time not offered", "/data/attributes/appointment-at"),
    TypeNotOffered: (422, "Appointment type not offered", "/data/attributes/appointment-type"),
    TokenMismatch: (422, "Does not match the visit token", "/data"),
}


def to_api_error(exc: BookingError) -> ApiError:
    if isinstance(exc, Violations):
        return ApiError(
            [ErrorObject(422, p.code, p.title, p.message, pointer=p.pointer) for p in exc.problems]
        )
    status, title, pointer = _TABLE.get(type(exc), (422, "Refused", "/data"))
    if isinstance(exc, TokenMismatch):
        pointer = exc.pointer
    meta = (
        {"status": exc.current, "requested-status": exc.target}
        if isinstance(exc, InvalidTransition)
        else None
    )
    return ApiError([ErrorObject(status, exc.code, title, exc.detail, pointer=pointer, meta=meta)])
