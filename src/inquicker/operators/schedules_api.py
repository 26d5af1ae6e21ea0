"""Handlers of the operator API's schedule routes: parse, call scheduling.service, render.

A change is posted as ``{"data": {"type": "schedule-changes", "attributes": {...}},
"meta": {"decisions": [...]}}`` to ``.../changes/preview`` (nothing written; the answer
lists the conflicting visits) or to ``.../changes`` (saved, or 422 with the visits still
needing a decision).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from inquicker.availability.zones import format_times
from inquicker.jsonapi.body import decode_body
from inquicker.jsonapi.errors import ApiError, ErrorObject, bad_parameter, not_found
from inquicker.jsonapi.negotiation import check_content_type
from inquicker.operators.api_handlers import OperatorRequest
from inquicker.operators.visits import Caller
from inquicker.scheduling import service
from inquicker.scheduling.changes import InvalidChangeError, ScheduleChange, parse
from inquicker.scheduling.conflicts import Conflict
from inquicker.scheduling.repository import ScheduleState

CHANGE_TYPE = "schedule-changes"


def _stamp(moment: Any) -> str:
    return str(moment.isoformat().replace("+00:00", "Z"))


def _clock(value: Any) -> str:
    # 23:59:59 is how "24:00" is stored (the engine floors a closing time).
    return "24:00" if (value.hour, value.minute, value.second) == (23, 59, 59) else f"{value:%H:%M}"


def schedule_resource(req: OperatorRequest, state: ScheduleState) -> dict[str, Any]:
    return {
        "type": "schedules",
        "id": state.id,
        "links": {"self": f"{req.base}/schedules/{state.id}"},
        "attributes": {
            "name": state.name,
            "location-name": state.location_name,
            "provider-name": state.provider_name,
            "time-zone": state.time_zone,
            "slot-minutes": state.slot_minutes,
            "capacity": state.capacity,
            "lead-minutes": state.lead_minutes,
            "horizon-days": state.horizon_days,
            "weekly-hours": [
                {"weekday": w, "opens": _clock(o), "closes": _clock(c)} for w, o, c in state.weekly
            ],
            "exceptions": [
                {
                    "date": e.on_date.isoformat(),
                    "opens": _clock(e.opens) if e.opens else None,
                    "closes": _clock(e.closes) if e.closes else None,
                }
                for e in state.exceptions
            ],
            "blocks": [
                {
                    "id": str(b.pk),
                    "starts-at": _stamp(b.starts_at),
                    "ends-at": _stamp(b.ends_at),
                    "reason": b.reason,
                }
                for b in state.blocks
            ],
        },
    }


def conflict_meta(conflict: Conflict, time_zone: str) -> dict[str, Any]:
    """A conflicting visit as listed (no patient data: staff open the visit to see it)."""
    v = conflict.visit
    return {
        "visit": v.visit_id,
        "appointment-at": format_times([v.appointment_at], time_zone)[0],
        "confirmation-number": v.confirmation_number,
        "appointment-type-name": v.appointment_type_name,
        "conflict": conflict.reason,
    }


def _no_params(req: OperatorRequest) -> None:
    if req.params:
        raise ApiError([bad_parameter(k, f"Unknown query parameter '{k}'.") for k, _ in req.params])


def _missing(schedule_id: str) -> ApiError:
    # Another health system's schedule and an unknown id look alike.
    return not_found(f"No schedule with id '{schedule_id}'.")


def _invalid(exc: InvalidChangeError) -> ApiError:
    # One overall status: 400 if any problem is syntax, else 422.
    status = 400 if any(p.status == 400 for p in exc.problems) else 422
    return ApiError(
        [
            ErrorObject(status, p.code, "Invalid schedule change", p.detail, pointer=p.pointer)
            for p in exc.problems
        ]
    )


def _read_change(req: OperatorRequest) -> tuple[ScheduleChange, dict[str, service.Decision]]:
    check_content_type(req.headers.get("content-type"))
    body = decode_body(req.body)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("type") != CHANGE_TYPE:
        detail = f'Send {{"data": {{"type": "{CHANGE_TYPE}", "attributes": {{...}}}}}}.'
        raise ApiError(
            [ErrorObject(400, "invalid-document", "Invalid document", detail, pointer="/data")]
        )
    meta = body.get("meta") or {}
    try:
        change = parse(data.get("attributes", {}))
        decisions = service.parse_decisions(
            meta.get("decisions", []) if isinstance(meta, dict) else None
        )
    except InvalidChangeError as exc:
        raise _invalid(exc) from None
    return change, decisions


def schedules_list(session: Session, caller: Caller, req: OperatorRequest) -> dict[str, Any]:
    _no_params(req)
    rows = service.schedules(session, caller)
    data = [
        {
            "type": "schedules",
            "id": r.slug,
            "links": {"self": f"{req.base}/schedules/{r.slug}"},
            "attributes": {
                "name": r.name,
                "location-name": r.location_name,
                "provider-name": r.provider_name,
                "time-zone": r.time_zone_name,
                "capacity": r.capacity,
                "slot-minutes": r.slot_minutes,
            },
        }
        for r in rows
    ]
    return {"data": data, "meta": {"record-count": len(data)}, "links": {"self": req.url}}


def schedule_show(session: Session, caller: Caller, req: OperatorRequest) -> dict[str, Any]:
    _no_params(req)
    state = service.show(session, caller, req.path["id"])
    if state is None:
        raise _missing(req.path["id"])
    resource = schedule_resource(req, state)
    return {"data": resource, "links": {"self": resource["links"]["self"]}}


def change_preview(session: Session, caller: Caller, req: OperatorRequest) -> dict[str, Any]:
    _no_params(req)
    change, _ = _read_change(req)
    try:
        found = service.preview(session, caller, req.path["id"], change)
    except InvalidChangeError as exc:
        raise _invalid(exc) from None
    if found is None:
        raise _missing(req.path["id"])
    state, conflicts = found
    listed = [conflict_meta(c, state.time_zone) for c in conflicts]
    return {
        "data": [
            {
                "type": "schedule-conflicts",
                "id": c["visit"],
                # One namespace for fields: the visit is a relationship, not an attribute.
                "attributes": {k: v for k, v in c.items() if k != "visit"},
                "relationships": {
                    "visit": {
                        "data": {"type": "visits", "id": c["visit"]},
                        "links": {"related": f"{req.base}/visits/{c['visit']}"},
                    }
                },
            }
            for c in listed
        ],
        "meta": {"conflict-count": len(listed), "changed": change.changed()},
        "links": {"self": req.url},
    }


def change_save(session: Session, caller: Caller, req: OperatorRequest) -> dict[str, Any]:
    _no_params(req)
    change, decisions = _read_change(req)
    try:
        saved = service.save(session, caller, req.path["id"], change, decisions)
    except InvalidChangeError as exc:
        raise _invalid(exc) from None
    except service.DecisionsRequiredError as exc:
        raise _decisions_required(session, caller, req, exc, decisions) from None
    if saved is None:
        raise _missing(req.path["id"])
    resource = schedule_resource(req, saved.state)
    return {
        "data": resource,
        "meta": {"kept": saved.kept, "cancelled": saved.cancelled},
        "links": {"self": resource["links"]["self"]},
    }


def _decisions_required(
    session: Session,
    caller: Caller,
    req: OperatorRequest,
    exc: service.DecisionsRequiredError,
    decisions: dict[str, service.Decision],
) -> ApiError:
    state = service.show(session, caller, req.path["id"])
    zone = state.time_zone if state else "UTC"
    return ApiError(
        [
            ErrorObject(
                422,
                "decision-required",
                "A booked visit needs a decision",
                f"Visit {c.visit.visit_id} ({c.reason}): decide keep (an overbooking) or "
                "cancel (with a reason) in meta.decisions.",
                pointer="/meta/decisions",
                meta=conflict_meta(c, zone),
            )
            for c in exc.conflicts
            if c.visit.visit_id not in decisions
        ]
    )
