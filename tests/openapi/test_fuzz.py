"""schemathesis over the OpenAPI document, against the app on the Winter Health demo (SPEC 14).

Bounded and repeatable: a fixed number of examples per operation and generation mode,
derandomized (the same requests every run), no shrinking. Asserts for every answer: no 5xx, the
status, content type, headers and body conform to the document, and every 4xx is a JSON:API
error document (checked against the official schema too). Half of the generated ids are
swapped for ids of the demo, so requests reach past the 404 of an unknown id.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from inquicker.jsonapi.operations import JSONAPI_MEDIA_TYPE
from tests.booking_http.world import CHEN_PC, HOST
from tests.openapi.conftest import Demo
from tests.support.jsonapi import assert_valid_document

# Per operation and mode; about 40 operations x 2 modes x 2 engines stay well under a minute
# each. INQUICKER_FUZZ_EXAMPLES raises it for a longer local run.
EXAMPLES = int(os.environ.get("INQUICKER_FUZZ_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _sample_ids(demo: Demo, path: str) -> list[str]:
    head = path.split("/")[2]
    if head == "visits":
        return [demo.visit_id]
    return demo.ids.get(head) or [CHEN_PC]


def _authenticate(case: Any, demo: Demo) -> None:
    """The key where the document says a key goes; generated credentials would only ever
    meet the one 401. POST /visits keeps its generated (never valid) visit token."""
    case.path_parameters["partner_hostname"] = HOST
    if case.operation.definition.raw.get("security") == [{"visit_token": []}]:
        return
    for name in ("Authorization", "X-Api-Key"):
        (case.headers or {}).pop(name, None)
    case.query = {**(case.query or {}), "api_key": demo.world.book}


def _check_error_document(response: Any) -> None:
    assert response.headers["content-type"][0] == JSONAPI_MEDIA_TYPE
    body = response.json()
    assert_valid_document(body)
    assert body["errors"], body
    assert all(e["status"].startswith("4") for e in body["errors"]), body


def _fuzz(demo: Demo, operation: Any, mode: GenerationMode, seen: set[int]) -> list[str]:
    """Failures of one operation in one mode, each with the request that caused it; the
    statuses answered are added to ``seen``."""
    failures: list[str] = []
    strategy = operation.as_strategy(
        generation_mode=mode, path_parameters={"partner_hostname": HOST}
    )
    ids = _sample_ids(demo, operation.path)

    @given(case=strategy, data=st.data())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, data: st.DataObject) -> None:
        _authenticate(case, demo)
        for name in ("id", "schedule_id"):
            if name in case.path_parameters and data.draw(st.booleans()):
                case.path_parameters[name] = data.draw(st.sampled_from(ids))
        response = case.call()
        seen.add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
            if 400 <= response.status_code < 500:
                _check_error_document(response)
        except (AssertionError, Exception) as exc:  # every failure is collected, then shown
            failures.append(
                f"{operation.label} [{mode.value}] -> {response.status_code}: "
                f"{str(exc)[:800]}\n  path={case.path_parameters} query={case.query} "
                f"headers={case.headers} body={str(case.body)[:300]}"
            )

    run()
    return failures


def test_the_api_conforms_to_its_document(demo):
    schema = schemathesis.openapi.from_asgi("/api/v3/openapi.json", demo.app)
    failures: list[str] = []
    seen: set[int] = set()
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _fuzz(demo, operation, mode, seen)
        ran += 1
    assert ran == 46
    assert failures == [], "\n\n".join(failures[:20])
    # The run reached past authentication and unknown ids: reads succeeded, bad input was
    # refused, and POST /visits met its token check.
    assert {200, 400, 401, 404} <= seen, seen
