"""HTTP helpers shared by the reliability tests (real servers or the in-process client)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx2
import orjson

from tests.reliability.fixture import HOST, TYPE

JSONAPI = "application/vnd.api+json"
PREFIX = f"/api/v3/{HOST}"


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]

    @property
    def codes(self) -> list[str]:
        return [e.get("code", "") for e in self.body.get("errors", [])]


def offered_times(
    client: httpx2.Client, key: str, schedule_id: str, day: str, to: str | None = None
) -> list[str]:
    """The times GET /available-appointment-times offers for the type on ``day``."""
    response = client.get(
        f"{PREFIX}/available-appointment-times",
        params={
            "schedule_ids[]": schedule_id,
            "appointment_type": TYPE,
            "from": day,
            "to": to or day,
            "api_key": key,
        },
    )
    assert response.status_code == 200, response.text
    [entry] = response.json()
    times: list[str] = entry["times"]
    return times


def mint(client: httpx2.Client, key: str, schedule_id: str, appointment_at: str) -> str:
    """A visit token from GET /visit-token (asserting it was issued)."""
    response = client.get(
        f"{PREFIX}/visit-token",
        params={
            "schedule_id": schedule_id,
            "appointment_at": appointment_at,
            "appointment_type": TYPE,
            "api_key": key,
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jwt")
    return response.text


def post_visit(
    client: httpx2.Client, token: str, body: dict[str, Any], **headers: str
) -> httpx2.Response:
    return client.post(
        f"{PREFIX}/visits",
        content=orjson.dumps(body),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": JSONAPI,
            "Accept": JSONAPI,
            **headers,
        },
    )


def fire_together(calls: Sequence[Callable[[], httpx2.Response]]) -> list[Outcome]:
    """Run every call on its own thread, all released at once by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx2.Response]) -> Outcome:
        barrier.wait(timeout=30)
        response = call()
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {"raw": response.text}
        return Outcome(response.status_code, body)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
