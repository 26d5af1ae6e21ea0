"""GET /visit-token: read the request, hold the seat (booking/holds.py), return the token."""

from __future__ import annotations

from datetime import datetime

from starlette.responses import Response

from inquicker.booking.holds import place_hold
from inquicker.booking.operations import VISIT_TOKEN_OPERATIONS
from inquicker.jsonapi.context import RequestContext
from inquicker.jsonapi.errors import ApiError, bad_parameter
from inquicker.jsonapi.routes import ApiRequest, Endpoint

JWT_MEDIA_TYPE = "application/jwt"


def parse_instant(parameter: str, raw: str) -> datetime:
    """An ISO 8601 date-time with offset; tolerates quotes and a '+' decoded as a space."""
    text = raw.strip().strip('"').strip("'").replace(" ", "+")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
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
    errors = [
        bad_parameter(name, f"{name} is required.")
        for name in ("schedule_id", "appointment_at")
        if not params.get(name, "").strip()
    ]
    if errors:
        raise ApiError(errors)
    assert req.principal is not None  # scope "book" guarantees a key
    hold = place_hold(
        ctx,
        key_pk=req.principal.key_pk,
        schedule_id=params["schedule_id"].strip().strip('"'),
        when=parse_instant("appointment_at", params["appointment_at"]),
        type_id=params.get("appointment_type", "").strip() or None,
    )
    token = hold.token(ctx.settings.secret_key, ctx.tenant.hostname, int(ctx.now.timestamp()))
    return Response(token, media_type=JWT_MEDIA_TYPE, headers={"Cache-Control": "no-store"})


ENDPOINT = Endpoint(
    frozenset({"GET"}),
    issue_token,
    scope="book",
    max_segments=1,
    writes=True,
    operations=VISIT_TOKEN_OPERATIONS,
)
