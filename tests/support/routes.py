"""The API's route table as the tests read it: every route, as a concrete request on the
two-tenant seed (tests/support/seed.py). Lists of "every route" come from here, so a route
added to the table is tested without editing a test."""

from __future__ import annotations

from typing import Any

from inquicker.app import api_routes
from inquicker.catalog.registry import build_registry
from inquicker.jsonapi.routing import Route
from tests.support.seed import ALPHA_S1

REGISTRY = build_registry()
TABLE = api_routes(REGISTRY, max_page_size=100)
RESOURCE_TYPES = frozenset(r.type for r in REGISTRY)

# Ids of alpha's data only (beta has none of them), by the route's first segment.
ALPHA_IDS = {
    "health-systems": "alpha-health",
    "locations": "downtown",
    "services": "cardiology",
    "medical-groups": "alpha-physicians",
    "appointment-types": "consult",
    "insurance-plans": "aetna-ppo",
    "providers": "dr-smith",
    "schedules": ALPHA_S1,
    "visit-settings": ALPHA_S1,
    "visits": "0" * 32,  # no such visit: enough for routing, methods and authentication
}
# Values of the query parameters a route requires (from its OpenAPI operations).
REQUIRED_QUERY = {
    "schedule_ids[]": ALPHA_S1,
    "schedule_id": ALPHA_S1,
    "date": "2026-12-03",
    "appointment_at": "2026-12-03T10:00:00-05:00",
    "token": "not-a-management-token",
}


def head(route: Route[Any]) -> str:
    return route.template.split("/")[1]


def concrete(route: Route[Any], ids: dict[str, str] = ALPHA_IDS) -> str:
    """The route's path with the seed's ids in place of its parameters."""
    path = route.template
    for name in route.parameters:
        path = path.replace(f"{{{name}}}", ids[head(route)])
    return path


def required_query(route: Route[Any]) -> dict[str, str]:
    return {
        p.name: REQUIRED_QUERY[p.name]
        for op in route.operations
        for p in op.parameters
        if p.location == "query" and p.required
    }


def templates() -> dict[str, frozenset[str]]:
    """Every template of the table with the methods it allows (over all its routes)."""
    allowed: dict[str, frozenset[str]] = {}
    for route in TABLE:
        allowed[route.template] = allowed.get(route.template, frozenset()) | route.methods
    return allowed


def keyed_reads() -> list[Route[Any]]:
    """The GET routes an API key with the read scope opens."""
    return [r for r in TABLE if r.scope == "read" and "GET" in r.methods]


def resource_id_routes() -> list[Route[Any]]:
    """Resource routes naming an id (show, related, relationship)."""
    return [r for r in TABLE if head(r) in RESOURCE_TYPES and "id" in r.parameters]
