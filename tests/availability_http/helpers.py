"""Request builders and expected-time spellers for the availability HTTP tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from httpx2 import Response

from tests.availability_http.fixture import HOST
from tests.conftest import ApiClient

PATH = "/available-appointment-times"
JSONAPI = "application/vnd.api+json"
NY_OFFSET = "-05:00"  # December: EST
IN_OFFSET = "+05:30"  # IST, no DST

# Wall-clock starts of a full open day, per schedule and appointment type.
NY_CLINIC_DAY = ("09:00", "09:15", "09:30", "09:45", "13:00", "13:15", "13:30", "13:45")
NY_GROUP_DAY = ("10:00", "10:30", "11:00")
KOLKATA_DAY = ("10:00", "10:30", "11:00", "11:30", "14:00", "14:30")


def get(
    client: ApiClient,
    params: Sequence[tuple[str, str]],
    key: str | None,
    *,
    host: str = HOST,
    prefix: str = "/api/v3",
    path: str = PATH,
) -> Response:
    pairs = list(params) + ([("api_key", key)] if key is not None else [])
    return client.get(f"{prefix}/{host}{path}", params=pairs)


def ids(*schedule_ids: str) -> list[tuple[str, str]]:
    return [("schedule_ids[]", s) for s in schedule_ids]


def ok(response: Response) -> list[dict[str, Any]]:
    """The body of a successful availability response (a plain JSON array)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body, list)
    for element in body:
        assert set(element) == {"schedule-id", "appointment-type", "times"}, element
    return body


def times_of(response: Response) -> dict[str, list[str]]:
    """schedule-id -> times, for a successful response."""
    return {e["schedule-id"]: e["times"] for e in ok(response)}


def errors(response: Response, status: int) -> list[dict[str, Any]]:
    """The JSON:API error objects of an error response with this overall status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSONAPI
    errs = response.json()["errors"]
    assert errs
    return errs


def bad_parameter(response: Response, status: int = 400) -> list[str]:
    """The source parameters an error response names, in order."""
    errs = errors(response, status)
    for err in errs:
        assert err["status"] == str(status)
    return [err["source"]["parameter"] for err in errs]


def ny(day: str, *clocks: str) -> list[str]:
    """New York times on 2026-12-<day> (or a full date), e.g. ny("07", "09:00")."""
    return [f"{_date(day)}T{clock}:00{NY_OFFSET}" for clock in clocks]


def kolkata(day: str, *clocks: str) -> list[str]:
    return [f"{_date(day)}T{clock}:00{IN_OFFSET}" for clock in clocks]


def _date(day: str) -> str:
    return day if len(day) == 10 else f"2026-12-{day}"
