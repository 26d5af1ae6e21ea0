"""A partner acting for the patient on one visit (SPEC section 10), with its management token:
GET and PATCH /visits/{id} (cancel, reschedule) and GET /visits/{id}/calendar.ics.

Parses and renders only: the lifecycle rules live in booking/service.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import Response

from inquicker.availability.repository import cached_schedules
from inquicker.booking import lifecycle, management, service
from inquicker.booking.calendar import CalendarFacts, visit_calendar
from inquicker.booking.errors import BookingError, InvalidTransition, TokenMismatch
from inquicker.booking.repository import BookedVisit, calendar_row, visit_by_management_token
from inquicker.booking.reschedule import reschedule_to, target_schedule
from inquicker.booking.tokens import verify
from inquicker.booking.visit_document import visit_document
from inquicker.booking.visit_service import token_record
from inquicker.jsonapi.body import decode_body
from inquicker.jsonapi.errors import ApiError, ErrorObject, not_found
from inquicker.jsonapi.negotiation import check_content_type
from inquicker.tenancy.models import HealthSystem
from inquicker.web.context import RequestContext
from inquicker.web.domain_errors import to_api_error
from inquicker.web.request import ApiRequest
from inquicker.web.responses import document_response

CALENDAR_MEDIA_TYPE = "text/calendar; charset=utf-8"
# What a partner may change; the patient's own data is not editable through the API.
PARTNER_ATTRIBUTES = frozenset(
    {"status", "cancellation-reason", "appointment-at", "appointment-type"}
)


def _unauthorized(detail: str, code: str = "missing-management-token") -> ApiError:
    return ApiError(
        [ErrorObject(401, code, "Management token required", detail, header="Authorization")],
        headers={"WWW-Authenticate": 'Bearer realm="visit"'},
    )


def management_token_of(req: ApiRequest, *, query: bool = False) -> str | None:
    """The management token from ``Authorization`` (Bearer or bare), or ``?token=``."""
    if query:
        for key, value in req.params:
            if key == "token" and value.strip():
                return value.strip()
    auth = req.headers.get("authorization", "").strip()
    scheme, _, rest = auth.partition(" ")
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    return auth or None


def authorized_visit(
    ctx: RequestContext, req: ApiRequest, *, query: bool = False
) -> tuple[BookedVisit, str]:
    """The visit the management token opens: 401 without one, 404 for any other visit's."""
    token = management_token_of(req, query=query)
    where = "the token query parameter" if query else "'Authorization: Bearer <token>'"
    if token is None:
        raise _unauthorized(
            f"This visit's management token is required ({where}); it was returned in "
            "meta.management-token when the visit was booked."
        )
    if not management.looks_like_token(token):
        raise _unauthorized(
            "An API key or visit token does not open a visit: send the visit's management token.",
            code="invalid-management-token",
        )
    visit_id = req.path_params["id"]
    visit = visit_by_management_token(
        ctx.session.connection(), visit_id, management.digest(token), ctx.tenant.health_system_pks
    )
    if visit is None:
        # Unknown visit and another visit's token look alike: no oracle for visit ids.
        raise not_found(f"No visit with id '{visit_id}' for this management token.")
    return visit, token


def show_visit(ctx: RequestContext, req: ApiRequest) -> Response:
    visit, token = authorized_visit(ctx, req)
    return document_response(visit_document(ctx, visit, management_token=token))


def visit_calendar_response(ctx: RequestContext, req: ApiRequest) -> Response:
    visit, _ = authorized_visit(ctx, req, query=True)
    row = calendar_row(ctx.session.connection(), visit.pk)
    facts = CalendarFacts(
        visit_id=visit.visit_id,
        status=visit.status,
        sequence=visit.sequence,
        start=visit.appointment_at,
        duration_minutes=row.duration_minutes,
        time_zone=row.time_zone,
        summary=f"{row.type_name or 'Visit'} with {row.provider_name}",
        location=row.address,
        provider=row.provider_name,
        stamp=visit.updated_at or visit.created_at,
    )
    host = ctx.tenant.hostname
    return Response(
        visit_calendar(facts, host),
        media_type=CALENDAR_MEDIA_TYPE,
        headers={"Cache-Control": "no-store"},
    )


def _invalid(
    detail: str, pointer: str, code: str = "invalid-attribute", status: int = 422
) -> ErrorObject:
    return ErrorObject(status, code, "Invalid document", detail, pointer=pointer)


def parse_change(body: Any, visit_id: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(attributes, relationships, meta) of a visits PATCH document, or every problem."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise ApiError(
            [
                _invalid(
                    "The body must be a document with a data object.",
                    "/data",
                    "invalid-document",
                    400,
                )
            ]
        )
    data = body["data"]
    problems: list[ErrorObject] = []
    if data.get("type") != "visits":
        problems.append(
            ErrorObject(
                409,
                "type-mismatch",
                "Type mismatch",
                "data.type must be 'visits'.",
                pointer="/data/type",
            )
        )
    if "id" in data and data["id"] != visit_id:
        problems.append(
            ErrorObject(
                409,
                "id-mismatch",
                "Id mismatch",
                "data.id must be the id in the URL.",
                pointer="/data/id",
            )
        )
    attributes = data.get("attributes", {})
    relationships = data.get("relationships", {})
    meta = data.get("meta", {})
    for name, value in (
        ("attributes", attributes),
        ("relationships", relationships),
        ("meta", meta),
    ):
        if not isinstance(value, dict):
            problems.append(
                _invalid(f"data.{name} must be an object.", f"/data/{name}", status=400)
            )
    if problems:
        raise ApiError(problems)
    for name in attributes:
        if name not in PARTNER_ATTRIBUTES:
            problems.append(
                _invalid(
                    f"'{name}' cannot be changed: a visit's status, time and appointment type "
                    "can; the patient's details cannot (call the clinic).",
                    f"/data/attributes/{name}",
                    "attribute-not-editable",
                )
            )
    for name in relationships:
        if name != "schedule":
            problems.append(
                _invalid(
                    f"The relationship '{name}' cannot be changed.",
                    f"/data/relationships/{name}",
                    "relationship-not-editable",
                )
            )
    if problems:
        raise ApiError(problems)
    return attributes, relationships, meta


def update_visit_route(ctx: RequestContext, req: ApiRequest) -> Response:
    check_content_type(req.headers.get("content-type"))
    visit, token = authorized_visit(ctx, req)
    attributes, relationships, meta = parse_change(decode_body(req.body), visit.visit_id)
    try:
        changed = apply_change(ctx, visit, attributes, relationships, meta, operator=False)
    except BookingError as exc:
        raise to_api_error(exc) from None
    return document_response(visit_document(ctx, changed, management_token=token))


def apply_change(
    ctx: RequestContext,
    visit: BookedVisit,
    attributes: dict[str, Any],
    relationships: dict[str, Any],
    meta: dict[str, Any],
    *,
    operator: bool,
) -> BookedVisit:
    """Cancel, change the status, or reschedule, as the document asks (one at a time)."""
    status = attributes.get("status")
    moving = "appointment-at" in attributes
    if moving and status is not None and status != lifecycle.BOOKED:
        raise ApiError(
            [_invalid("Change the status or the time, not both at once.", "/data/attributes")]
        )
    if moving:
        return _reschedule(ctx, visit, attributes, relationships, meta, operator)
    if status is not None:
        return _set_status(ctx, visit, status, attributes, operator)
    for name in ("cancellation-reason", "appointment-type"):
        if name in attributes:
            raise ApiError(
                [
                    _invalid(
                        f"'{name}' is given with a cancellation (status) or a reschedule "
                        "(appointment-at), not alone.",
                        f"/data/attributes/{name}",
                    )
                ]
            )
    return visit


def _set_status(
    ctx: RequestContext, visit: BookedVisit, status: Any, attributes: dict[str, Any], operator: bool
) -> BookedVisit:
    pointer = "/data/attributes/status"
    if not isinstance(status, str) or status not in lifecycle.STATUSES:
        raise ApiError(
            [_invalid(f"status must be one of: {', '.join(lifecycle.STATUSES)}.", pointer)]
        )
    if status == visit.status:
        return visit  # repeating a change is answered with the same document
    if not lifecycle.may_move(visit.status, status):
        raise InvalidTransition(visit.status, status)
    allowed = lifecycle.STATUSES if operator else lifecycle.PARTNER_STATUSES
    if status not in allowed:
        raise ApiError(
            [
                ErrorObject(
                    403,
                    "operator-only-status",
                    "Forbidden",
                    f"Only the clinic's staff can mark a visit {status}; partners can cancel.",
                    pointer=pointer,
                )
            ]
        )
    reason = attributes.get("cancellation-reason")
    if reason is not None and not isinstance(reason, str):
        raise ApiError(
            [
                _invalid(
                    "cancellation-reason must be a string.", "/data/attributes/cancellation-reason"
                )
            ]
        )
    conn = ctx.session.connection()
    if status == lifecycle.CANCELLED:
        cutoff = ctx.session.get_one(
            HealthSystem, visit.health_system_pk
        ).cancellation_cutoff_minutes
        return service.cancel(
            conn,
            visit,
            reason=reason,
            now=ctx.now,
            actor=service.Actor(operator),
            cutoff_minutes=cutoff,
        )
    return service.change_status(conn, visit, status, ctx.now)


def _reschedule(
    ctx: RequestContext,
    visit: BookedVisit,
    attributes: dict[str, Any],
    relationships: dict[str, Any],
    meta: dict[str, Any],
    operator: bool,
) -> BookedVisit:
    raw_token = meta.get("visit-token")
    type_id = attributes.get("appointment-type")
    if type_id is not None and not isinstance(type_id, str):
        raise ApiError(
            [_invalid("appointment-type must be a string.", "/data/attributes/appointment-type")]
        )
    if operator and raw_token is None:
        # SPEC section 10: operators need no visit token; the hold is placed and converted
        # in this transaction (booking/reschedule.py).
        return _operator_reschedule(ctx, visit, attributes, relationships, type_id)
    if not isinstance(raw_token, str) or not raw_token.strip():
        raise ApiError(
            [
                _invalid(
                    "A reschedule needs meta.visit-token: a visit token for the new time "
                    "(GET /visit-token), which holds its seats.",
                    "/data/meta/visit-token",
                    "visit-token-required",
                )
            ]
        )
    when = _instant(attributes.get("appointment-at"))
    try:
        claims = verify(
            ctx.settings.secret_key,
            raw_token.strip(),
            ctx.tenant.hostname,
            int(ctx.now.timestamp()),
        )
        record = token_record(ctx.session, claims, ctx.tenant.site_pk)
    except ApiError as exc:  # a 401 here would blame the management token
        raise ApiError(
            [_invalid(e.detail or e.title, "/data/meta/visit-token", e.code) for e in exc.errors]
        ) from None
    if record.used_at is not None:
        raise ApiError(
            [
                _invalid(
                    "The visit token has already been used.", "/data/meta/visit-token", "token-used"
                )
            ]
        )
    if int(when.timestamp()) != record.appointment_at:
        raise TokenMismatch(
            "appointment-at must be the instant the visit token was issued for.",
            "/data/attributes/appointment-at",
        )
    schedule_id = _schedule_id(relationships)
    if schedule_id is not None and schedule_id != claims.schedule_id:
        raise TokenMismatch(
            "The schedule must be the one the visit token was issued for.",
            "/data/relationships/schedule/data/id",
        )
    schedule = cached_schedules(ctx.session, ctx.memo, ctx.tenant, [claims.schedule_id]).get(
        claims.schedule_id
    )
    if schedule is None or schedule.health_system_pk != visit.health_system_pk:
        raise _other_health_system()
    return service.reschedule(
        ctx.session.connection(),
        visit,
        token=record,
        schedule=schedule,
        type_id=type_id,
        now=ctx.now,
    )


def _other_health_system() -> ApiError:
    return ApiError(
        [
            _invalid(
                "A visit can move only to a schedule of its own health system.",
                "/data/relationships/schedule/data/id",
                "other-health-system",
            )
        ]
    )


def _operator_reschedule(
    ctx: RequestContext,
    visit: BookedVisit,
    attributes: dict[str, Any],
    relationships: dict[str, Any],
    type_id: str | None,
) -> BookedVisit:
    """An operator's move to a time the availability engine offers, without a visit token.
    ``ctx.tenant`` is the visit's own site and health system (operators/visits.py)."""
    when = _instant(attributes.get("appointment-at"))
    schedule = target_schedule(ctx, visit, _schedule_id(relationships))
    if schedule is None:
        raise _other_health_system()
    return reschedule_to(ctx, visit, schedule=schedule, when=when, type_id=type_id)


def _instant(value: Any) -> datetime:
    pointer = "/data/attributes/appointment-at"
    parsed = None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None or not 1900 <= parsed.year <= 2200:
        raise ApiError(
            [_invalid("appointment-at must be an ISO 8601 date-time with a UTC offset.", pointer)]
        )
    return parsed


def _schedule_id(relationships: dict[str, Any]) -> str | None:
    linkage = relationships.get("schedule")
    if linkage is None:
        return None
    data = linkage.get("data") if isinstance(linkage, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("type") != "schedules"
        or not isinstance(data.get("id"), str)
    ):
        raise ApiError(
            [
                _invalid(
                    "relationships.schedule.data must be {type: schedules, id}.",
                    "/data/relationships/schedule",
                )
            ]
        )
    return str(data["id"])
