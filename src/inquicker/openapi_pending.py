"""PENDING: routes the SPEC defines that no endpoint serves yet, documented ahead of them.

At merge, move each group into the ``operations`` of the endpoint that serves it and delete it
here: the visit lifecycle (SPEC section 10) into ``booking/visits_endpoint.py`` (via
``booking/operations.py``), the explanation (SPEC section 12b) into
``availability/endpoint.py`` (via ``availability/operations.py``). Until then the route tests
expect these to answer 404/405 and the fuzzing run leaves them out (tests/openapi/).
An endpoint's own declaration of the same (path, method) takes precedence over this one.
"""

from __future__ import annotations

from typing import Any

from inquicker.jsonapi.operations import (
    MANAGEMENT_TOKEN,
    Body,
    Operation,
    Param,
    Reply,
    nullable,
    ref,
)

_STRING = {"type": "string"}
_VISIT_ID = Param("id", "path", _STRING, "The visit's id (32 lowercase hex digits).", required=True)

PENDING_SCHEMAS: dict[str, dict[str, Any]] = {
    "VisitUpdate": {
        "type": "object",
        "description": "Cancel (`status: cancelled`) or reschedule (`appointment-at` with a "
        "visit token for the new time in `meta.visit-token`).",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["type", "id"],
                "properties": {
                    "type": {"type": "string", "const": "visits"},
                    "id": _STRING,
                    "attributes": {
                        "type": "object",
                        "properties": {
                            "status": {"type": "string", "enum": ["cancelled"]},
                            "cancellation-reason": _STRING,
                            "appointment-at": {"type": "string", "format": "date-time"},
                            "appointment-type": _STRING,
                        },
                    },
                    "relationships": {"type": "object"},
                    "meta": {
                        "type": "object",
                        "properties": {"visit-token": _STRING},
                    },
                },
            }
        },
    },
    "ExplainedTime": {
        "type": "object",
        "required": ["time", "offered", "reason"],
        "properties": {
            "time": {"type": "string", "format": "date-time"},
            "offered": {"type": "boolean"},
            "reason": nullable(
                {
                    "type": "string",
                    "enum": [
                        "closed",
                        "exception",
                        "blocked",
                        "before-lead-time",
                        "after-horizon",
                        "full",
                        "held",
                        "duration-overruns-hours",
                        "nonexistent-local-time",
                    ],
                }
            ),
        },
    },
}

# SPEC section 10: to booking/visits_endpoint.py.
VISIT_LIFECYCLE_OPERATIONS = (
    Operation(
        "get",
        "/visits/{id}",
        "visits.show",
        "A visit, read back with its management token",
        (Reply(200, "The visit (never patient data).", schema=ref("VisitDocument")),),
        (401, 404, 406, 500, 503),
        (_VISIT_ID,),
        description="`Authorization: Bearer <management-token>`; an API key is not enough, "
        "another visit's token is 404.",
        tags=("visits",),
        security=MANAGEMENT_TOKEN,
    ),
    Operation(
        "patch",
        "/visits/{id}",
        "visits.update",
        "Cancel or reschedule a visit",
        (
            Reply(
                200,
                "The visit as changed (a repeated cancel: the same).",
                schema=ref("VisitDocument"),
            ),
        ),
        (400, 401, 403, 404, 406, 413, 415, 422, 500, 503),
        (_VISIT_ID,),
        body=Body(ref("VisitUpdate")),
        description="422 `too-late-to-cancel` past the health system's cutoff; 422 "
        "`slot-unavailable` when the new time is gone (nothing changed).",
        tags=("visits",),
        security=MANAGEMENT_TOKEN,
        components=PENDING_SCHEMAS,
    ),
    Operation(
        "get",
        "/visits/{id}/calendar.ics",
        "visits.calendar",
        "The visit as an iCalendar event",
        (Reply(200, "One VEVENT (no patient data).", "text/calendar", _STRING),),
        (400, 401, 404, 500, 503),
        (
            _VISIT_ID,
            Param(
                "token",
                "query",
                _STRING,
                "The management token (a parameter: calendar apps cannot send headers).",
                required=True,
            ),
        ),
        tags=("visits",),
        security=(),
    ),
)

# SPEC section 12b: to availability/endpoint.py.
EXPLAIN_OPERATIONS = (
    Operation(
        "get",
        "/available-appointment-times/explain",
        "available-appointment-times.explain",
        "Why each grid time of a day is or is not offered",
        (
            Reply(
                200,
                "One element per grid time of the local date.",
                "application/json",
                {"type": "array", "items": ref("ExplainedTime")},
            ),
        ),
        (400, 401, 403, 404, 406, 500, 503),
        (
            Param("schedule_id", "query", _STRING, "The schedule's id.", required=True),
            Param(
                "date",
                "query",
                {"type": "string", "format": "date"},
                "The schedule-local date.",
                required=True,
            ),
            Param("appointment_type", "query", _STRING, "The appointment type's id."),
        ),
        tags=("availability",),
        components=PENDING_SCHEMAS,
    ),
)

PENDING_OPERATIONS = (*VISIT_LIFECYCLE_OPERATIONS, *EXPLAIN_OPERATIONS)
