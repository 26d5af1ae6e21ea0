"""Request builders and response readers for the booking HTTP tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jwt
import orjson
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.availability.models import SeatClaim
from inquicker.booking.models import Visit, VisitToken
from tests.booking_http.world import (
    CHEN_PC,
    DISCHARGE,
    GARCIA_PC,
    HOST,
    OTHER_SCHEDULE,
    PEDIATRICS,
)
from tests.conftest import ApiClient

JSONAPI = "application/vnd.api+json"
ORIGIN = "http://testserver"

DEFAULT_TYPE = {
    CHEN_PC: "sick-visit",
    GARCIA_PC: "sick-visit",
    PEDIATRICS: "sick-visit",
    DISCHARGE: "follow-up",
    OTHER_SCHEDULE: "other-visit",
}

# The patient of every booking unless a test says otherwise: an adult, with every
# attribute the demo's rules require. None of these values may ever come back.
FIRST_NAME = "Zelda"
LAST_NAME = "Quimby"
EMAIL = "zelda.quimby@example.org"
PHONE = "423-555-0187"
PATIENT: dict[str, Any] = {
    "first-name": FIRST_NAME,
    "last-name": LAST_NAME,
    "email": EMAIL,
    "phone-number": PHONE,
    "birthdate": "1985-04-12",
    "gender": "female",
    "new-patient": "yes",
    "address": "975 Elm Street",
    "city": "Chattanooga",
    "state": "TN",
    "zip": "37403",
    "patient-complaint": "Sore throat for three days",
}


def ny(day: int, clock: str) -> str:
    """A New York wall-clock time in December 2026 (EST, -05:00)."""
    return f"2026-12-{day:02d}T{clock}:00-05:00"


def chicago(day: int, clock: str) -> str:
    """A Chicago wall-clock time in December 2026 (CST, -06:00)."""
    return f"2026-12-{day:02d}T{clock}:00-06:00"


def path(rest: str, host: str = HOST, prefix: str = "/api/v3") -> str:
    return f"{prefix}/{host}{rest}"


# --- availability and tokens ---------------------------------------------------------------


def times(
    api: ApiClient,
    key: str,
    schedule: str,
    appointment_type: str | None = None,
    *,
    host: str = HOST,
) -> list[str]:
    """The times offered for one schedule in the default window (14 days from now)."""
    params = [("schedule_ids[]", schedule), ("api_key", key)]
    if appointment_type:
        params.append(("appointment_type", appointment_type))
    response = api.get(path("/available-appointment-times", host), params=params)
    assert response.status_code == 200, response.text
    [element] = response.json()
    assert element["schedule-id"] == schedule
    result: list[str] = element["times"]
    return result


def request_token(
    api: ApiClient, key: str | None, schedule: str, at: str, *, host: str = HOST, **extra: str
) -> Response:
    params = {"schedule_id": schedule, "appointment_at": at, **extra}
    if key is not None:
        params["api_key"] = key
    return api.get(path("/visit-token", host), params=params)


def issue(api: ApiClient, key: str, schedule: str, at: str, *, host: str = HOST) -> str:
    """A visit token for the schedule and time (which must be offered)."""
    response = request_token(api, key, schedule, at, host=host)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/jwt"
    return response.text


def claims_of(token: str, secret: str) -> dict[str, Any]:
    """The verified claims of a visit token (signature and audience; the test clock is
    fixed in the future, so time claims are compared by the tests themselves)."""
    claims: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience=HOST,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    return claims


# --- visits --------------------------------------------------------------------------------


def visit_body(
    schedule: str,
    at: str | None,
    changes: Mapping[str, Any] | None = None,
    drop: Iterable[str] = (),
) -> dict[str, Any]:
    """A POST /visits document for the standard patient, with ``changes`` applied and the
    attributes in ``drop`` left out."""
    attributes: dict[str, Any] = {
        "appointment-at": at,
        "appointment-type": DEFAULT_TYPE.get(schedule),
        **PATIENT,
        **(changes or {}),
    }
    for name in drop:
        attributes.pop(name, None)
    return {
        "data": {
            "type": "visits",
            "attributes": attributes,
            "relationships": {"schedule": {"data": {"type": "schedules", "id": schedule}}},
        }
    }


def post_visit(
    api: ApiClient,
    token: str | None,
    body: Any,
    *,
    host: str = HOST,
    prefix: str = "/api/v3",
    headers: Mapping[str, str] | None = None,
    content_type: str = JSONAPI,
) -> Response:
    sent = {"Content-Type": content_type, **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, bytes) else _json(body)
    return api.post(path("/visits", host, prefix), content=content, headers=sent)


def book(
    api: ApiClient,
    key: str,
    schedule: str,
    at: str,
    changes: Mapping[str, Any] | None = None,
    drop: Iterable[str] = (),
    *,
    host: str = HOST,
) -> dict[str, Any]:
    """Token, then POST /visits; the created visits resource (asserting 201)."""
    token = issue(api, key, schedule, at, host=host)
    response = post_visit(api, token, visit_body(schedule, at, changes, drop), host=host)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _json(body: Any) -> bytes:
    return orjson.dumps(body)


# --- reading responses ---------------------------------------------------------------------


def errors(response: Response, status: int) -> list[dict[str, Any]]:
    """The error objects of an error response with this overall status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSONAPI
    found: list[dict[str, Any]] = response.json()["errors"]
    assert found
    return found


def only_error(response: Response, status: int) -> dict[str, Any]:
    [error] = errors(response, status)
    assert error["status"] == str(status)
    return error


def problems(response: Response, status: int = 422) -> set[tuple[str, str]]:
    """(pointer, code) of every error of the response."""
    return {(e["source"]["pointer"], e["code"]) for e in errors(response, status)}


def attribute(name: str) -> str:
    return f"/data/attributes/{name}"


# --- the database --------------------------------------------------------------------------


def counts(session_factory: sessionmaker[Session]) -> tuple[int, int, int]:
    """(visits, seat claims, used visit tokens): what a refused request must not change."""
    with session_factory() as session:
        visits = session.scalar(select(func.count()).select_from(Visit))
        claims = session.scalar(select(func.count()).select_from(SeatClaim))
        used = session.scalar(
            select(func.count()).select_from(VisitToken).where(VisitToken.used_at.is_not(None))
        )
    return visits or 0, claims or 0, used or 0
