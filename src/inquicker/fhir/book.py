"""IHE ITI Scheduling Appointment/$book: the FHIR request becomes the very visit body that
POST /visits takes, and goes through the same parser, rules, seat claims and outbox.

The patient comes as a ``Patient`` (patient-resource); ``comment`` is the
patient-complaint; visit fields FHIR cannot carry are parts named after the visit
attribute (``new-patient`` valueBoolean, ``insurance-plan-permalink`` valueString, ...).
Idempotent: the same request for the same time returns the visit it booked (keyed by the
Idempotency-Key header, else by the request's own fingerprint).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError
from sqlalchemy.orm import Session

from inquicker.availability.repository import cached_schedules
from inquicker.availability.zones import format_times
from inquicker.booking import management
from inquicker.booking.holds import place_hold
from inquicker.booking.models import VisitToken
from inquicker.booking.repository import (
    TokenRecord,
    token_by_jti,
    visit_by_idempotency_key,
    visit_by_pk,
)
from inquicker.booking.tokens import TokenClaims
from inquicker.booking.visit_input import ACCEPTED_ATTRIBUTES, fingerprint, parse_visit_body
from inquicker.booking.visits_endpoint import book as book_visit
from inquicker.catalog.models import AppointmentType
from inquicker.catalog.schedule_models import Schedule
from inquicker.fhir.appointments import booked_appointment, parse_target, resolve_type
from inquicker.fhir.outcome import fhir_error, fhir_response
from inquicker.fhir.parameters import first_value, read_parameters, resource_of
from inquicker.fhir.search import searchset
from inquicker.jsonapi.errors import ApiError, ErrorObject
from inquicker.web.context import RequestContext
from inquicker.web.request import ApiRequest

PATIENT_EXPRESSION = "Parameters.parameter.where(name='patient-resource').resource"
# Parts the operation defines; any other part must name a visit attribute.
OPERATION_PARTS = frozenset(
    {
        "appointment-reference",
        "appointment-resource",
        "patient-reference",
        "patient-resource",
        "comment",
    }
)


def _patient_attributes(patient: dict[str, Any]) -> dict[str, Any]:
    """Visit attributes from a Patient (a value FHIR types differently is passed on as is,
    so the visit rules refuse it with their own message)."""
    out: dict[str, Any] = {}
    names = patient.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = name.get("given") or []
    if given:
        out["first-name"] = given[0]
    if len(given) > 1:
        out["middle-initial"] = given[1][:1]
    if name.get("family"):
        out["last-name"] = name["family"]
    if patient.get("birthDate"):
        out["birthdate"] = patient["birthDate"]
    if patient.get("gender"):
        out["gender"] = patient["gender"]
    for telecom in patient.get("telecom") or []:
        system, value = telecom.get("system"), telecom.get("value")
        if system == "email" and "email" not in out:
            out["email"] = value
        elif system in ("phone", "sms") and "phone-number" not in out:
            out["phone-number"] = value
    addresses = patient.get("address") or []
    if addresses:
        address = addresses[0]
        lines = address.get("line") or []
        for attribute, value in (
            ("address", lines[0] if lines else None),
            ("address-2", lines[1] if len(lines) > 1 else None),
            ("city", address.get("city")),
            ("state", address.get("state")),
            ("zip", address.get("postalCode")),
        ):
            if value:
                out[attribute] = value
    return out


def _patient(parts: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    patient = resource_of(parts, "patient-resource")
    if patient is None:
        raise fhir_error(
            400,
            "patient-resource (a Patient) is required: this server keeps no Patient "
            "resources to reference.",
            "required",
            "patient-resource",
        )
    if patient.get("resourceType") != "Patient":
        raise fhir_error(400, "patient-resource must be a Patient.", "invalid", PATIENT_EXPRESSION)
    try:
        Patient.model_validate(patient)
    except (ValidationError, ValueError, TypeError):
        raise fhir_error(
            400, "patient-resource is not a valid FHIR R4 Patient.", "invalid", PATIENT_EXPRESSION
        ) from None
    return patient


def _visit_body(
    parts: dict[str, list[dict[str, Any]]], schedule_id: str, start: str, type_id: str | None
) -> dict[str, Any]:
    attributes = _patient_attributes(_patient(parts))
    comment = first_value(parts, "comment")
    if comment is not None:
        attributes["patient-complaint"] = comment
    unknown = []
    for name in parts:
        if name in OPERATION_PARTS or name in ("api_key", "_format"):
            continue
        if name not in ACCEPTED_ATTRIBUTES or name in ("appointment-at", "appointment-type"):
            unknown.append(name)
            continue
        attributes[name] = first_value(parts, name)
    if unknown:
        raise ApiError(
            [
                ErrorObject(
                    400,
                    "unknown-parameter",
                    "Unknown parameter",
                    f"'{n[:100]}' is neither a $book parameter nor a visit attribute.",
                    parameter=f"Parameters.parameter.where(name='{n[:100]}')",
                )
                for n in unknown
            ]
        )
    attributes["appointment-at"] = start
    if type_id:
        attributes["appointment-type"] = type_id
    return {
        "data": {
            "type": "visits",
            "attributes": attributes,
            "relationships": {"schedule": {"data": {"type": "schedules", "id": schedule_id}}},
        }
    }


def _held_record(ctx: RequestContext, jti: str) -> TokenRecord:
    record = token_by_jti(ctx.session.connection(), jti)
    if record is None or record.site_pk != ctx.tenant.site_pk:
        raise fhir_error(
            404, "No held Appointment with that id.", "not-found", "appointment-reference"
        )
    return record


def book(ctx: RequestContext, req: ApiRequest) -> Any:
    parts = read_parameters(req)
    target = parse_target(parts)
    session: Session = ctx.session
    record = None
    if target.hold_jti:
        record = _held_record(ctx, target.hold_jti)
        schedule_id = session.get_one(Schedule, record.schedule_pk).slug
        start_epoch, type_id = record.appointment_at, _type_slug(ctx, record)
    else:
        schedule, type_id = resolve_type(ctx, target)
        schedule_id, start_epoch = schedule.id, target.start
    schedule = cached_schedules(session, ctx.memo, ctx.tenant, [schedule_id])[schedule_id]
    start = format_times([start_epoch], schedule.rules.time_zone)[0]
    # A proposal without a type is of the schedule's default type (SPEC section 13).
    default = schedule.default_type()
    type_id = type_id or (default.id if default else None)
    body = _visit_body(parts, schedule_id, start, type_id)
    print_ = fingerprint(body)
    key = req.headers.get("idempotency-key", "").strip()[:200] or None
    key = f"fhir:{key}" if key else "fhir-book:" + hashlib.sha256(print_.encode()).hexdigest()
    earlier = visit_by_idempotency_key(session.connection(), ctx.tenant.site_pk, key)
    if earlier is None and record is not None and record.used_at is not None and record.visit_pk:
        earlier = visit_by_pk(session.connection(), record.visit_pk)
    if earlier is not None:
        if not hmac.compare_digest(earlier.fingerprint, print_):
            raise fhir_error(
                422,
                "This appointment was already booked with other details.",
                "already-booked",
                "appointment-reference",
            )
        token = (
            management.derive(ctx.settings.secret_key, earlier.visit_id, earlier.management_salt)
            if earlier.management_salt
            else None
        )
        return _answer(ctx, req, booked_appointment(ctx, earlier, token))
    visit, problems = parse_visit_body(body)
    structural = [p for p in problems if p.status == 400]
    if structural:
        raise ApiError(
            [ErrorObject(400, p.code, "Invalid", p.message, pointer=p.pointer) for p in structural]
        )
    if record is None:
        assert req.principal is not None  # the "book" scope guarantees a key
        # The same hold GET /visit-token places, converted into the visit below in this
        # transaction: it cannot outlive the request, so it does not count against the cap.
        held = place_hold(
            ctx,
            key_pk=req.principal.key_pk,
            schedule_id=schedule_id,
            when=datetime.fromtimestamp(start_epoch, UTC),
            type_id=type_id,
            enforce_cap=False,
        )
        record = token_by_jti(session.connection(), held.jti)
        assert record is not None
    elif record.used_at is not None:
        raise fhir_error(422, "That hold was already used.", "token-used", "appointment-reference")
    elif _expires(session, record.jti) <= int(ctx.now.timestamp()):
        raise fhir_error(
            422, "That hold has expired; $hold again.", "expired-hold", "appointment-reference"
        )
    expires = _expires(session, record.jti)
    claims = TokenClaims(record.jti, schedule_id, start, expires)
    created = book_visit(ctx, claims, record, visit, print_, key, problems)
    return _answer(ctx, req, booked_appointment(ctx, created.visit, created.management_token))


def _expires(session: Session, jti: str) -> int:
    return session.get_one(VisitToken, jti).expires_at


def _type_slug(ctx: RequestContext, record: TokenRecord) -> str | None:
    if record.appointment_type_pk is None:
        return None
    return ctx.session.get_one(AppointmentType, record.appointment_type_pk).slug


def _answer(ctx: RequestContext, req: ApiRequest, appointment: dict[str, Any]) -> Any:
    bundle = searchset(req, ctx.base_url, [appointment], 1, 0, 1)
    token = next(
        (
            e["valueString"]
            for e in appointment.get("extension", [])
            if e["url"].endswith("management-token")
        ),
        None,
    )
    return fhir_response(bundle, 200, {"X-Management-Token": token} if token else None)
