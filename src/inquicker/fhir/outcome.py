"""FHIR responses and errors: every refusal is an OperationOutcome with the right status.

The domain raises ``ApiError`` (JSON:API error objects) whichever face called it; this edge
turns each error object into one OperationOutcome issue, its pointer or parameter into a
FHIRPath expression, so one validation rule reads the same on both faces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fhir.resources.R4B.operationoutcome import OperationOutcome
from starlette.responses import Response

from inquicker.jsonapi.errors import ApiError, ErrorObject

FHIR_JSON = "application/fhir+json"

# HTTP status -> OperationOutcome.issue.code (FHIR value set issue-type).
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    503: "transient",
}
# Visit attributes as the FHIR $book request carries them (SPEC section 13).
ATTRIBUTE_EXPRESSIONS = {
    "first-name": "Patient.name.given",
    "middle-initial": "Patient.name.given",
    "last-name": "Patient.name.family",
    "birthdate": "Patient.birthDate",
    "gender": "Patient.gender",
    "email": "Patient.telecom.where(system='email')",
    "phone-number": "Patient.telecom.where(system='phone')",
    "address": "Patient.address.line",
    "address-2": "Patient.address.line",
    "city": "Patient.address.city",
    "state": "Patient.address.state",
    "zip": "Patient.address.postalCode",
    "patient-complaint": "Parameters.parameter.where(name='comment')",
    "appointment-at": "Appointment.start",
    "appointment-type": "Appointment.appointmentType",
}


def expression_of(error: ErrorObject) -> str | None:
    """The FHIRPath of the element an error is about, when it has one."""
    if error.pointer is not None:
        parts = error.pointer.split("/")
        if len(parts) == 4 and parts[2] == "attributes":
            name = parts[3].replace("~1", "/").replace("~0", "~")
            return ATTRIBUTE_EXPRESSIONS.get(name, f"Parameters.parameter.where(name='{name}')")
        if "relationships" in parts:
            return "Appointment.participant.actor"
        return "Parameters"
    if error.parameter is not None:
        return error.parameter
    return None


def issue(status: int, detail: str, code: str, expression: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "severity": "error" if status < 500 else "fatal",
        "code": _ISSUE_CODES.get(status, "processing" if status < 500 else "exception"),
        "details": {"text": detail},
        "diagnostics": code,
    }
    if expression:
        out["expression"] = [expression]
    return out


def outcome(issues: list[dict[str, Any]]) -> dict[str, Any]:
    document = {"resourceType": "OperationOutcome", "issue": issues}
    OperationOutcome.model_validate(document)
    return document


def outcome_of(exc: ApiError) -> dict[str, Any]:
    return outcome(
        [issue(e.status, e.detail or e.title, e.code, expression_of(e)) for e in exc.errors]
    )


def fhir_error(
    status: int, detail: str, code: str = "invalid", expression: str | None = None
) -> ApiError:
    """An ApiError whose rendering at this edge is a one-issue OperationOutcome."""
    return ApiError([ErrorObject(status, code, "Refused", detail, parameter=expression)])


def fhir_response(
    resource: Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str = FHIR_JSON,
) -> Response:
    return Response(
        orjson.dumps(resource), status_code=status, media_type=media_type, headers=headers
    )


def outcome_response(exc: ApiError) -> Response:
    headers = {"Cache-Control": "no-store", **exc.headers}
    return fhir_response(outcome_of(exc), exc.status, headers)
