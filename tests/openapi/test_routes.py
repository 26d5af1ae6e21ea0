"""Every operation of the OpenAPI document is a route the app serves (SPEC section 14).

Each documented (method, path) is requested with ids of the Winter Health demo (and a visit
booked for the purpose); an answer of 404 or 405 means the document names a route the app does
not serve.
"""

from __future__ import annotations

from typing import Any

from inquicker.jsonapi.operations import JSONAPI_MEDIA_TYPE
from tests.booking_http.helpers import ny
from tests.booking_http.world import CHEN_PC, HOST
from tests.openapi.conftest import Demo, document

# Values of required query parameters (every one the document has).
QUERY_SAMPLES: dict[str, Any] = {
    "schedule_ids[]": [CHEN_PC],
    "schedule_id": CHEN_PC,
    # Thursday 3 December, 10:00 New York: offered by Dr Chen's schedule (world.py).
    "appointment_at": ny(3, "10:00"),
    "date": "2026-12-03",
    "token": "not-a-management-token",
}


def concrete(demo: Demo, template: str) -> str:
    """The path with the demo's ids in place of its parameters."""
    head = template.split("/")[2]
    path = template.replace("{partner_hostname}", HOST).replace("{schedule_id}", CHEN_PC)
    if "{id}" in path:
        path = path.replace("{id}", demo.visit_id if head == "visits" else demo.ids[head][0])
    assert "{" not in path, path
    return "/api/v3" + path


def answers(demo: Demo) -> dict[tuple[str, str], int]:
    """(method, path template) -> the status the app answered."""
    found: dict[tuple[str, str], int] = {}
    for template, methods in document(demo.client)["paths"].items():
        for method, operation in methods.items():
            query: dict[str, Any] = {"api_key": demo.world.book}
            for param in operation["parameters"]:
                if param["in"] == "query" and param["required"]:
                    query[param["name"]] = QUERY_SAMPLES[param["name"]]
            response = demo.client.request(
                method.upper(),
                concrete(demo, template),
                params=query,
                content=b"{}" if "requestBody" in operation else None,
                headers={"Content-Type": JSONAPI_MEDIA_TYPE},
            )
            found[(method, template)] = response.status_code
    return found


def test_every_documented_operation_is_served(demo):
    found = answers(demo)
    assert len(found) == 46
    unserved = {k: s for k, s in found.items() if s in (404, 405)}
    assert unserved == {}
    assert all(status < 500 for status in found.values()), found
    # Concrete answers: reads succeed, a visit needs its token, a token is issued.
    groups = "/{partner_hostname}/providers/{id}/relationships/medical-group-resources"
    assert found[("get", groups)] == 200
    assert found[("get", "/{partner_hostname}/visits/{id}/location")] == 200
    assert found[("get", "/{partner_hostname}/available-appointment-times")] == 200
    assert found[("get", "/{partner_hostname}/visit-token")] == 200
    assert found[("post", "/{partner_hostname}/visits")] == 401
