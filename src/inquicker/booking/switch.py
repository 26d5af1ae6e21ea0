"""The visit creation switch (a health system's ``booking_enabled``, set in its bundle).

Checked by /visit-token for the schedule asked for, and in front of POST /visits for the
schedule its body names (the booking handler itself stays unaware of the switch).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from inquicker.availability.repository import cached_schedules
from inquicker.jsonapi.errors import ApiError, ErrorObject, raise_if_any
from inquicker.jsonapi.params import unknown_parameters
from inquicker.web.context import RequestContext
from inquicker.web.request import ApiRequest, Handler


def booking_disabled() -> ApiError:
    return ApiError(
        [
            ErrorObject(
                403,
                "booking-disabled",
                "Booking disabled",
                "This health system does not take online bookings at the moment.",
            )
        ]
    )


def check_booking_enabled(ctx: RequestContext, health_system_pk: int) -> None:
    """403 booking-disabled unless the health system takes bookings (read with the tenant:
    no statement of its own)."""
    if health_system_pk in ctx.tenant.booking_disabled:
        raise booking_disabled()


def _schedule_id(body: bytes) -> str | None:
    """The schedule a visit body names, if it is well-formed enough to say (else the
    visits endpoint reports what is wrong with it)."""
    try:
        doc: Any = orjson.loads(body)
        ident = doc["data"]["relationships"]["schedule"]["data"]["id"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return ident if isinstance(ident, str) else None


def guard_visits(inner: Handler) -> Handler:
    """POST /visits with the switch checked before a visit is created."""

    def handle(ctx: RequestContext, req: ApiRequest) -> Response | dict[str, Any]:
        raise_if_any(unknown_parameters(req.params, ()))
        schedule_id = _schedule_id(req.body)
        found = (
            cached_schedules(ctx.session, ctx.memo, ctx.tenant, [schedule_id]).get(schedule_id)
            if schedule_id
            else None
        )
        if found is not None:
            check_booking_enabled(ctx, found.health_system_pk)
        return inner(ctx, req)

    return handle
