"""Requests to the FHIR face, and validation of everything it answers."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from httpx2 import Response

from tests.booking_http.world import HOST
from tests.conftest import ApiClient

FHIR_JSON = "application/fhir+json"


def fhir_path(rest: str, host: str = HOST) -> str:
    return f"/fhir/r4/{host}/{rest}"


def body_of(response: Response) -> dict[str, Any]:
    """The JSON body, validated: a Bundle (and every resource in it) or OperationOutcome."""
    assert response.headers["content-type"].startswith(FHIR_JSON), response.text
    data: dict[str, Any] = response.json()
    if data["resourceType"] == "Bundle":
        Bundle.model_validate(data)
    if data["resourceType"] == "OperationOutcome":
        OperationOutcome.model_validate(data)
        assert response.status_code >= 400
    return data


def get(api: ApiClient, rest: str, key: str | None, **params: Any) -> Response:
    query = {**params, **({"api_key": key} if key else {})}
    return api.get(fhir_path(rest), params=query)


def post(api: ApiClient, rest: str, key: str | None, parameters: list[dict[str, Any]]) -> Response:
    headers = {"Content-Type": FHIR_JSON, **({"Authorization": key} if key else {})}
    return api.post(
        fhir_path(rest),
        json={"resourceType": "Parameters", "parameter": parameters},
        headers=headers,
    )


def resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", [])]


PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "name": [{"use": "official", "family": "Quimby", "given": ["Zelda"]}],
    "gender": "female",
    "birthDate": "1985-04-12",
    "telecom": [
        {"system": "email", "value": "zelda.quimby@example.org"},
        {"system": "phone", "value": "423-555-0187"},
    ],
    "address": [
        {"line": ["975 Elm Street"], "city": "Chattanooga", "state": "TN", "postalCode": "37403"}
    ],
}


def book_parts(appointment_id: str, patient: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "name": "appointment-reference",
            "valueReference": {"reference": f"Appointment/{appointment_id}"},
        },
        {"name": "patient-resource", "resource": patient or PATIENT},
        {"name": "comment", "valueString": "Sore throat for three days"},
        {"name": "new-patient", "valueBoolean": True},
    ]
