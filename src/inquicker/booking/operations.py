"""The booking routes as data for the OpenAPI document: visit settings, visit token, visits.

``booking/routes.py`` hands each tuple to its routes (``routing.route``). The visit body's
attribute names come from ``visit_input``, the module that parses it.
"""

from __future__ import annotations

from typing import Any

from inquicker.booking.fields import YES_NO_FIELDS
from inquicker.booking.visit_input import (
    IGNORED_ATTRIBUTES,
    INTEGER_AS_TEXT_FIELDS,
    TEXT_FIELDS,
)
from inquicker.jsonapi.operations import (
    MANAGEMENT_TOKEN,
    VISIT_TOKEN,
    Body,
    Operation,
    Param,
    Reply,
    nullable,
    ref,
)

STRING = {"type": "string"}
NOT_MODIFIED = Reply(304, "Not modified: the client's If-None-Match names this ETag.", None)
VISIT_ID = Param(
    "id", "path", {"type": "string"}, "The visit's id (32 lowercase hex digits).", required=True
)

# --- visit settings ------------------------------------------------------------------------

_SETTINGS_TYPES = [
    "validation",
    "enabled-fields",
    "patient-instructions",
    "preregistration-form",
    "screening-questions",
]

VISIT_SETTINGS_SCHEMAS: dict[str, dict[str, Any]] = {
    "VisitSetting": {
        "type": "object",
        "required": ["type", "id", "attributes"],
        "properties": {
            "type": {"type": "string", "enum": _SETTINGS_TYPES},
            "id": STRING,
            "attributes": {
                "type": "object",
                "description": "validation: kind, attributes and the kind's parameters; "
                "enabled-fields: fields; patient-instructions: text; preregistration-form and "
                "screening-questions: url.",
            },
        },
    },
    "VisitSettingsDocument": {
        "type": "object",
        "required": ["data", "links"],
        "properties": {
            "data": {"type": "array", "items": ref("VisitSetting")},
            "links": ref("SelfLink"),
        },
    },
}

VISIT_SETTINGS_OPERATIONS = (
    Operation(
        "get",
        "/visit-settings/{schedule_id}",
        "visit-settings.show",
        "The rules a booking form must follow for a schedule",
        (
            Reply(200, "Every rule POST /visits applies.", schema=ref("VisitSettingsDocument")),
            NOT_MODIFIED,
        ),
        (400, 401, 403, 404, 406, 500, 503),
        (
            Param("schedule_id", "path", STRING, "The schedule's id.", required=True),
            *(
                Param(f"fields[{t}]", "query", STRING, f"Sparse fieldset of {t} objects.")
                for t in _SETTINGS_TYPES
            ),
        ),
        tags=("booking",),
        components=VISIT_SETTINGS_SCHEMAS,
    ),
)

# --- visit token ---------------------------------------------------------------------------

VISIT_TOKEN_OPERATIONS = (
    Operation(
        "get",
        "/visit-token",
        "visit-token.issue",
        "A token authorising one visit at an offered time, holding its seats",
        (
            Reply(
                200,
                "An HS256 JWT (raw text), valid for 30 minutes.",
                "application/jwt",
                {"type": "string"},
            ),
        ),
        (400, 401, 403, 404, 406, 422, 429, 500, 503),
        (
            Param("schedule_id", "query", STRING, "The schedule's id.", required=True),
            Param(
                "appointment_at",
                "query",
                {"type": "string", "format": "date-time"},
                "An offered start time (ISO 8601 with offset; may be quoted).",
                required=True,
                example="2026-12-07T09:00:00-05:00",
            ),
            Param("appointment_type", "query", STRING, "The appointment type's id."),
        ),
        description="Needs an API key with the `book` scope. 403 `booking-disabled` when the "
        "health system has switched booking off; 422 when the time is not offered.",
        tags=("booking",),
    ),
)

# --- visits --------------------------------------------------------------------------------

_YES_NO = {
    "anyOf": [
        {"type": "boolean"},
        {"type": "string", "enum": ["yes", "no", "true", "false", "1", "0"]},
        {"type": "integer", "enum": [0, 1]},
    ]
}
_TEXT_OR_INTEGER = {"anyOf": [STRING, {"type": "integer"}]}


def _attribute_schema(name: str) -> dict[str, Any]:
    if name in YES_NO_FIELDS:
        return _YES_NO
    if name in INTEGER_AS_TEXT_FIELDS:
        return _TEXT_OR_INTEGER
    return STRING


_VISIT_ATTRIBUTES: dict[str, Any] = {
    **{name: _attribute_schema(name) for name in sorted(TEXT_FIELDS | YES_NO_FIELDS)},
    "appointment-at": {"type": "string", "format": "date-time"},
    "birthdate": {"type": "string", "description": "ISO 8601 date or date-time."},
    "weeks-pregnant": {"anyOf": [{"type": "integer"}, STRING]},
    **{name: {"description": "Accepted and ignored."} for name in sorted(IGNORED_ATTRIBUTES)},
}

VISIT_SCHEMAS: dict[str, dict[str, Any]] = {
    "VisitCreate": {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["type", "attributes", "relationships"],
                "properties": {
                    "type": {"type": "string", "const": "visits"},
                    "attributes": {
                        "type": "object",
                        "properties": _VISIT_ATTRIBUTES,
                        "additionalProperties": False,
                    },
                    "relationships": {
                        "type": "object",
                        "required": ["schedule"],
                        "properties": {
                            "schedule": {
                                "type": "object",
                                "required": ["data"],
                                "properties": {
                                    "data": {
                                        "type": "object",
                                        "required": ["type", "id"],
                                        "properties": {
                                            "type": {"type": "string", "const": "schedules"},
                                            "id": STRING,
                                        },
                                    }
                                },
                            }
                        },
                    },
                },
            }
        },
    },
    "Visit": {
        "type": "object",
        "description": "A booked visit: booking facts only, never patient data.",
        "required": ["type", "id", "links", "attributes"],
        "properties": {
            "type": {"type": "string", "const": "visits"},
            "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "links": ref("SelfLink"),
            "attributes": {
                "type": "object",
                "properties": {
                    "appointment-at": {"type": "string", "format": "date-time"},
                    "appointment-type": nullable(STRING),
                    "appointment-type-name": nullable(STRING),
                    "confirmation-number": {"type": "integer"},
                    "remote-visit-ids": nullable(STRING),
                    "status": {
                        "type": "string",
                        "enum": ["booked", "cancelled", "checked-in", "no-show", "completed"],
                    },
                    "previous-appointment-at": nullable({"type": "string", "format": "date-time"}),
                    "cancelled-at": nullable({"type": "string", "format": "date-time"}),
                    "cancellation-reason": nullable(STRING),
                },
            },
            "relationships": {
                "type": "object",
                "properties": {
                    name: ref("Relationship") for name in ("schedule", "location", "provider")
                },
            },
            "meta": {
                "type": "object",
                "properties": {
                    "management-token": {
                        "type": "string",
                        "description": "The visit's management token (SPEC section 10).",
                    },
                    "calendar": {"type": "string", "description": "The calendar's URL."},
                },
            },
        },
    },
    "VisitUpdate": {
        "type": "object",
        "description": "Cancel (`status: cancelled`) or reschedule (`appointment-at` with a "
        "visit token for the new time in `meta.visit-token`).",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"type": "string", "const": "visits"},
                    "id": STRING,
                    "attributes": {
                        "type": "object",
                        "properties": {
                            "status": {"type": "string", "enum": ["cancelled"]},
                            "cancellation-reason": STRING,
                            "appointment-at": {"type": "string", "format": "date-time"},
                            "appointment-type": STRING,
                        },
                    },
                    "relationships": {"type": "object"},
                    "meta": {"type": "object", "properties": {"visit-token": STRING}},
                },
            }
        },
    },
    "VisitDocument": {
        "type": "object",
        "required": ["data", "links"],
        "properties": {"data": ref("Visit"), "links": ref("SelfLink")},
    },
}

# (relationship name, resource type, component of its document)
_RELATED = (
    ("schedule", "schedules", "SchedulesDocument"),
    ("location", "locations", "LocationsDocument"),
    ("provider", "providers", "ProvidersDocument"),
)
_INCLUDE = Param("include", "query", STRING, "Relationship paths of the related resource.")


def _related_operations() -> tuple[Operation, ...]:
    ops: list[Operation] = []
    for name, type_, document in _RELATED:
        ops.append(
            Operation(
                "get",
                f"/visits/{{id}}/{name}",
                f"visits.related.{name}",
                f"The {name} of a visit",
                (Reply(200, f"The visit's {name} ({type_}).", schema=ref(document)), NOT_MODIFIED),
                (400, 401, 403, 404, 406, 500, 503),
                (VISIT_ID, _INCLUDE, Param(f"fields[{type_}]", "query", STRING)),
                tags=("visits",),
            )
        )
        ops.append(
            Operation(
                "get",
                f"/visits/{{id}}/relationships/{name}",
                f"visits.relationship.{name}",
                f"Linkage of the {name} of a visit",
                (Reply(200, "Resource linkage.", schema=ref("LinkageDocument")), NOT_MODIFIED),
                (400, 401, 403, 404, 406, 500, 503),
                (VISIT_ID,),
                tags=("visits",),
            )
        )
    return tuple(ops)


VISITS_OPERATIONS = (
    Operation(
        "post",
        "/visits",
        "visits.create",
        "Book the visit a visit token authorises",
        (
            Reply(
                201,
                "The visit was booked.",
                schema=ref("VisitDocument"),
                headers={"Location": "The visit's URL."},
            ),
            Reply(
                200,
                "A retry of a booking already made: the original visit.",
                schema=ref("VisitDocument"),
            ),
        ),
        (400, 401, 403, 406, 413, 415, 422, 500, 503),
        (
            Param(
                "Idempotency-Key",
                "header",
                STRING,
                "A retry with the same key and body gets the original visit back.",
            ),
        ),
        body=Body(ref("VisitCreate")),
        description="Authorised by a visit token as `Authorization: Bearer <jwt>` (or the bare "
        "JWT). Token problems are 401; a body not matching the token, or refused by the "
        "schedule's rules, is 422 with a pointer per problem; a taken slot is 422 "
        "`slot-unavailable`.",
        tags=("visits",),
        security=VISIT_TOKEN,
        components=VISIT_SCHEMAS,
    ),
    Operation(
        "get",
        "/visits/{id}",
        "visits.show",
        "A visit, read back with its management token",
        (Reply(200, "The visit (never patient data).", schema=ref("VisitDocument")),),
        (401, 404, 406, 500, 503),
        (VISIT_ID,),
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
        (400, 401, 403, 404, 406, 409, 413, 415, 422, 500, 503),
        (VISIT_ID,),
        body=Body(ref("VisitUpdate")),
        description="422 `too-late-to-cancel` past the health system's cutoff; 422 "
        "`slot-unavailable` when the new time is gone (nothing changed); 403 "
        "`operator-only-status` for statuses only the clinic sets.",
        tags=("visits",),
        security=MANAGEMENT_TOKEN,
    ),
    Operation(
        "get",
        "/visits/{id}/calendar.ics",
        "visits.calendar",
        "The visit as an iCalendar event",
        (Reply(200, "One VEVENT (no patient data).", "text/calendar", STRING),),
        (400, 401, 404, 500, 503),
        (
            VISIT_ID,
            Param(
                "token",
                "query",
                STRING,
                "The management token (a parameter: calendar apps cannot send headers).",
                required=True,
            ),
        ),
        tags=("visits",),
        security=(),
    ),
    *_related_operations(),
)
