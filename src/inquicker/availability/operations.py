"""GET /available-appointment-times as data for the OpenAPI document (SPEC section 5)."""

from __future__ import annotations

from typing import Any

from inquicker.availability.explain import REASONS
from inquicker.jsonapi.operations import Operation, Param, Reply, nullable, ref

_DATE_OR_TIME = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}

AVAILABILITY_SCHEMAS: dict[str, dict[str, Any]] = {
    "ScheduleTimes": {
        "type": "object",
        "required": ["schedule-id", "appointment-type", "times"],
        "properties": {
            "schedule-id": {"type": "string"},
            "appointment-type": nullable({"type": "string"}),
            "times": {
                "type": "array",
                "description": "Ascending, in the schedule's time zone with its UTC offset.",
                "items": {"type": "string", "format": "date-time"},
            },
        },
    },
    "AvailableTimes": {
        "type": "array",
        "description": "One element per requested schedule, in request order.",
        "items": ref("ScheduleTimes"),
    },
}

_STRING = {"type": "string"}

EXPLAIN_SCHEMAS: dict[str, dict[str, Any]] = {
    "ExplainedTime": {
        "type": "object",
        "required": ["time", "offered", "reason"],
        "properties": {
            "time": {"type": "string", "format": "date-time"},
            "offered": {"type": "boolean"},
            "reason": nullable(
                {
                    "type": "string",
                    "enum": list(REASONS),
                }
            ),
        },
    },
}

# SPEC section 12b: why each grid time of a day is or is not offered.
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
        components=EXPLAIN_SCHEMAS,
    ),
)

AVAILABILITY_OPERATIONS = (
    Operation(
        "get",
        "/available-appointment-times",
        "available-appointment-times.list",
        "Offered appointment start times per schedule",
        (
            Reply(200, "Times per schedule.", "application/json", ref("AvailableTimes")),
            Reply(304, "Not modified: the client's If-None-Match names this ETag.", None),
        ),
        (400, 401, 403, 404, 406, 500, 503),
        (
            Param(
                "schedule_ids[]",
                "query",
                {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 100},
                "Schedule ids (repeat the parameter; `schedule_ids=A,B` is accepted too).",
                required=True,
            ),
            Param(
                "appointment_type",
                "query",
                {"type": "string"},
                "Appointment type id; default per schedule: its highest-priority type.",
            ),
            Param("from", "query", _DATE_OR_TIME, "Window start (default now)."),
            Param("to", "query", _DATE_OR_TIME, "Window end (default 14 days on; 92 at most)."),
        ),
        description="A plain JSON array, as the reference shows (`application/json`).",
        tags=("availability",),
        components=AVAILABILITY_SCHEMAS,
    ),
    *EXPLAIN_OPERATIONS,
)
