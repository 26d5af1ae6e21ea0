"""GET /visit-token: read the request, hold the seat (booking/holds.py), return the token."""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response

from inquicker.booking.holds import place_hold
from inquicker.jsonapi.errors import ApiError, bad_parameter
from inquicker.jsonapi.params import unknown_parameters
from inquicker.web.context import RequestContext
from inquicker.web.request import ApiRequest

JWT_MEDIA_TYPE = "application/jwt"
MIN_YEAR, MAX_YEAR = 1900, 2200
# appointment-type: the reference's prose spelling, accepted as on availability.
TYPE_SPELLINGS = ("appointment_type", "appointment-type")
PARAMETERS = frozenset({"schedule_id", "appointment_at", *TYPE_SPELLINGS})


def parse_instant(parameter: str, raw: str) -> datetime:
    """An ISO 8601 date-time with offset; tolerates quotes and a '+' decoded as a space."""
    text = raw.strip().strip('"').strip("'").replace(" ", "+")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is not None and value.tzinfo is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        # Year 1 or 9999 would overflow the arithmetic below (and no schedule goes there).
        raise ApiError(
            [bad_parameter(parameter, f"{parameter} must be between {MIN_YEAR} and {MAX_YEAR}.")]
        )
    if value is None or value.tzinfo is None:
        raise ApiError(
            [
                bad_parameter(
                    parameter,
                    f"{parameter} must be an ISO 8601 date-time with a UTC "
                    "offset, e.g. 2026-12-07T09:00:00-05:00.",
                )
            ]
        )
    return value


def issue_token(ctx: RequestContext, req: ApiRequest) -> Response:
    """Validate, hold and sign (SPEC section 6)."""
    params = dict(req.params)
    errors = unknown_parameters(req.params, PARAMETERS)
    errors += [
        bad_parameter(name, f"{name} is required.")
        for name in ("schedule_id", "appointment_at")
        if not params.get(name, "").strip()
    ]
    if errors:
        raise ApiError(errors)
    spelled = [v.strip() for k, v in req.params if k in TYPE_SPELLINGS]
    assert req.principal is not None  # scope "book" guarantees a key
    hold = place_hold(
        ctx,
        key_pk=req.principal.key_pk,
        schedule_id=params["schedule_id"].strip().strip('"'),
        when=parse_instant("appointment_at", params["appointment_at"]),
        type_id=spelled[-1] if spelled and spelled[-1] else None,
    )
    token = hold.token(ctx.settings.secret_key, ctx.tenant.hostname, int(ctx.now.timestamp()))
    return Response(token, media_type=JWT_MEDIA_TYPE, headers={"Cache-Control": "no-store"})
