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
    Operation,
    Param,
    Reply,
    nullable,
    ref,
)

_STRING = {"type": "string"}
_VISIT_ID = Param("id", "path", _STRING, "The visit's id (32 lowercase hex digits).", required=True)

PENDING_SCHEMAS: dict[str, dict[str, Any]] = {
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

PENDING_OPERATIONS = EXPLAIN_OPERATIONS
