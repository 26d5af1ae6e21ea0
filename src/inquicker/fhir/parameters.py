"""Reading operation input: a FHIR ``Parameters`` body (POST) or the query string (GET)."""

from __future__ import annotations

from typing import Any

import orjson
from fhir.resources.R4B.parameters import Parameters
from pydantic import ValidationError

from inquicker.fhir.outcome import fhir_error
from inquicker.web.request import ApiRequest

MAX_DEPTH = 32


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def read_parameters(req: ApiRequest) -> dict[str, list[dict[str, Any]]]:
    """Parts by name. A body must be a valid Parameters resource (400 saying where not);
    query parameters become valueString parts."""
    parts: dict[str, list[dict[str, Any]]] = {}
    if req.method == "POST" and req.body.strip():
        try:
            body = orjson.loads(req.body)
        except orjson.JSONDecodeError:
            raise fhir_error(400, "The body is not valid JSON.", "invalid-json") from None
        if _depth(body) > MAX_DEPTH:
            raise fhir_error(400, f"JSON nested deeper than {MAX_DEPTH} levels.", "too-deep")
        if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
            raise fhir_error(
                400, "The body must be a FHIR Parameters resource.", "invalid", "resourceType"
            )
        try:
            Parameters.model_validate(body)
        except (ValidationError, ValueError, TypeError) as exc:
            # Locations only: a message could repeat a submitted (patient) value.
            where = _where(exc)
            raise fhir_error(
                400, f"The Parameters resource is not valid FHIR R4 at {where}.", "invalid", where
            ) from None
        for part in body.get("parameter") or []:
            if isinstance(part, dict) and isinstance(part.get("name"), str):
                parts.setdefault(part["name"], []).append(part)
    for key, value in req.params:
        if key != "api_key":
            parts.setdefault(key, []).append({"name": key, "valueString": value})
    return parts


def _where(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and exc.errors():
        loc = exc.errors()[0].get("loc", ())
        return "Parameters." + ".".join(str(p) for p in loc if not isinstance(p, int))
    return "Parameters"


def first_value(parts: dict[str, list[dict[str, Any]]], name: str) -> Any:
    """The value[x] of the first part called ``name`` (None when absent)."""
    for part in parts.get(name, []):
        for key, value in part.items():
            if key.startswith("value"):
                return value
    return None


def text_values(parts: dict[str, list[dict[str, Any]]], name: str) -> list[str]:
    """Strings, codes, Codings and References of every ``name`` part, as plain ids/codes."""
    out: list[str] = []
    for part in parts.get(name, []):
        for key, value in part.items():
            if not key.startswith("value"):
                continue
            if isinstance(value, str):
                out.extend(v.strip() for v in value.split(",") if v.strip())
            elif isinstance(value, dict) and isinstance(value.get("code"), str):
                out.append(value["code"])
            elif isinstance(value, dict) and isinstance(value.get("reference"), str):
                out.append(value["reference"])
            elif isinstance(value, dict) and isinstance(value.get("coding"), list):
                out.extend(c["code"] for c in value["coding"] if isinstance(c.get("code"), str))
    return out


def resource_of(parts: dict[str, list[dict[str, Any]]], name: str) -> dict[str, Any] | None:
    for part in parts.get(name, []):
        resource = part.get("resource")
        if isinstance(resource, dict):
            return resource
    return None
