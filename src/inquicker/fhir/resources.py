"""FHIR R4 resources built from catalog rows, engine times and visits.

Each builder returns the JSON form after validating it with the R4B models of
``fhir.resources`` (the R4-compatible release), so nothing invalid leaves the server.
FHIR ids are the JSON:API ids. Providers of type Practitioner are ``Practitioner``s and
health resources ``HealthcareService``s; either is the actor of a schedule.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from inquicker.fhir.repository import HEALTH_RESOURCE

NAMESPACE = "https://inquicker.com/fhir"
SERVICE_SYSTEM = f"{NAMESPACE}/CodeSystem/service"
APPOINTMENT_TYPE_SYSTEM = f"{NAMESPACE}/CodeSystem/appointment-type"
CONFIRMATION_SYSTEM = f"{NAMESPACE}/NamingSystem/confirmation-number"
HOLD_EXPIRES = f"{NAMESPACE}/StructureDefinition/hold-expires"
VISIT_TOKEN = f"{NAMESPACE}/StructureDefinition/visit-token"
MANAGEMENT_TOKEN = f"{NAMESPACE}/StructureDefinition/management-token"
SMART = "http://fhir-registry.smarthealthit.org/StructureDefinition"
BOOKING_DEEP_LINK = f"{SMART}/booking-deep-link"
BOOKING_PHONE = f"{SMART}/booking-phone"
SLOT_CAPACITY = f"{SMART}/slot-capacity"

# Visit lifecycle status -> Appointment.status.
APPOINTMENT_STATUS = {
    "booked": "booked",
    "cancelled": "cancelled",
    "checked-in": "checked-in",
    "no-show": "noshow",
    "completed": "fulfilled",
}


def actor_type(provider_type: str) -> str:
    return "HealthcareService" if provider_type == HEALTH_RESOURCE else "Practitioner"


def type_tag(type_id: str) -> str:
    """A short stable tag of an appointment type id, for ids limited to 64 characters."""
    return hashlib.blake2b(type_id.encode(), digest_size=4).hexdigest()


def slot_id(schedule_id: str, start: int) -> str:
    """Stable for a schedule and start (UTC epoch seconds): the engine recomputes it."""
    return f"{schedule_id}.{start}"


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def location(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Location", "id": row.slug, "name": row.name}
    if row.facility_name:
        out["alias"] = [row.facility_name]
    if row.phone:
        out["telecom"] = [{"system": "phone", "value": row.phone}]
    address = {
        k: v for k, v in (("city", row.city), ("state", row.state), ("postalCode", row.zip)) if v
    }
    if row.address:
        address["line"] = [row.address]
    if address:
        out["address"] = address
    if row.latitude is not None and row.longitude is not None:
        out["position"] = {"latitude": row.latitude, "longitude": row.longitude}
    Location.model_validate(out)
    return out


def practitioner(row: Any) -> dict[str, Any]:
    name: dict[str, Any] = {"text": row.name}
    if row.suffix:
        name["suffix"] = [row.suffix]
    out: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": row.slug,
        "active": True,
        "name": [name],
    }
    if row.gender in ("m", "f"):
        out["gender"] = "male" if row.gender == "m" else "female"
    if row.languages:
        out["communication"] = [{"text": language} for language in row.languages]
    Practitioner.model_validate(out)
    return out


def healthcare_service(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": row.slug,
        "active": True,
        "name": row.name,
    }
    HealthcareService.model_validate(out)
    return out


def provider_resource(row: Any) -> dict[str, Any]:
    if row.provider_type == HEALTH_RESOURCE:
        return healthcare_service(row)
    return practitioner(row)


def _actors(row: Any) -> list[dict[str, Any]]:
    return [
        {
            "reference": f"{actor_type(row.provider_type)}/{row.provider}",
            "display": row.provider_name,
        },
        {"reference": f"Location/{row.location}", "display": row.location_name},
    ]


def schedule(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": row.slug,
        "active": True,
        "serviceType": [_concept(SERVICE_SYSTEM, row.service, row.service_name)],
        "actor": _actors(row),
        "comment": row.name,
    }
    Schedule.model_validate(out)
    return out


def slot(
    row: Any,
    start: int,
    times: tuple[str, str],
    status: str,
    type_concept: tuple[str, str] | None,
    extensions: list[dict[str, Any]],
    *,
    validate: bool = True,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Slot",
        "id": slot_id(row.slug, start),
        "schedule": {"reference": f"Schedule/{row.slug}"},
        "status": status,
        "start": times[0],
        "end": times[1],
        "serviceType": [_concept(SERVICE_SYSTEM, row.service, row.service_name)],
    }
    if type_concept:
        out["appointmentType"] = _concept(APPOINTMENT_TYPE_SYSTEM, *type_concept)
    if extensions:
        out["extension"] = extensions
    if validate:
        Slot.model_validate(out)
    return out


def appointment(
    row: Any,
    appointment_id: str,
    status: str,
    times: tuple[str, str],
    minutes: int,
    type_concept: tuple[str, str] | None,
    *,
    slot_ref: str | None = None,
    identifier: str | None = None,
    extensions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An Appointment of the IHE ITI Scheduling profile (proposed, pending or booked)."""
    participant_status = "needs-action" if status in ("proposed", "pending") else "accepted"
    out: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": appointment_id,
        "status": status,
        "serviceType": [_concept(SERVICE_SYSTEM, row.service, row.service_name)],
        "start": times[0],
        "end": times[1],
        "minutesDuration": minutes,
        "participant": [
            {"actor": actor, "required": "required", "status": participant_status}
            for actor in _actors(row)
        ],
    }
    if type_concept:
        out["appointmentType"] = _concept(APPOINTMENT_TYPE_SYSTEM, *type_concept)
    if slot_ref:
        out["slot"] = [{"reference": slot_ref}]
    if identifier is not None:
        out["identifier"] = [{"system": CONFIRMATION_SYSTEM, "value": identifier}]
    if extensions:
        out["extension"] = extensions
    Appointment.model_validate(out)
    return out
