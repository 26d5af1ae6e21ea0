"""GET metadata: a CapabilityStatement listing exactly what this face serves."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from inquicker import __version__
from inquicker.fhir.reads import SEARCH_PARAMS
from inquicker.web.context import RequestContext
from inquicker.web.request import ApiRequest

_TYPES = {
    "Schedule": "reference",
    "actor": "reference",
    "location": "reference",
    "service-type": "token",
    "active": "token",
    "_id": "token",
    "schedule": "reference",
    "start": "date",
    "status": "token",
    "appointment-type": "token",
}
IHE = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition"


def capability_statement(ctx: RequestContext, req: ApiRequest) -> dict[str, Any]:
    resources: list[dict[str, Any]] = [
        {
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": p, "type": _TYPES[p]} for p in params],
        }
        for kind, params in SEARCH_PARAMS.items()
    ]
    resources.append(
        {
            "type": "Appointment",
            "profile": "https://profiles.ihe.net/ITI/Scheduling/StructureDefinition/ihe-sched-appt",
            "interaction": [{"code": "read"}],
            "operation": [
                {"name": "find", "definition": f"{IHE}/appointment-find"},
                {"name": "hold", "definition": f"{IHE}/appointment-hold"},
                {"name": "book", "definition": f"{IHE}/appointment-book"},
            ],
        }
    )
    statement = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": ctx.now.date().isoformat(),
        "kind": "instance",
        "software": {"name": "inquicker", "version": __version__},
        "implementation": {"description": "InQuicker FHIR R4 scheduling", "url": ctx.base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "API key as ?api_key= or Authorization (scopes read, book); "
                    "a booked Appointment is read with its management token (Bearer)."
                },
                "resource": resources,
                "operation": [
                    {
                        "name": "bulk-publish",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
                        "bulk-publish",
                    }
                ],
            }
        ],
    }
    CapabilityStatement.model_validate(statement)
    return statement
