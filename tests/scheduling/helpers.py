"""Requests of the schedule operator API."""

from __future__ import annotations

from typing import Any

from httpx2 import Response

from tests.conftest import ApiClient
from tests.operators.conftest import bearer

JSONAPI = "application/vnd.api+json"


def change_body(attributes: Any, decisions: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"data": {"type": "schedule-changes", "attributes": attributes}}
    if decisions is not None:
        body["meta"] = {"decisions": decisions}
    return body


def post_change(
    api: ApiClient,
    token: str,
    schedule: str,
    attributes: Any,
    decisions: Any = None,
    *,
    preview: bool = False,
) -> Response:
    url = f"/admin/api/schedules/{schedule}/changes" + ("/preview" if preview else "")
    headers = {**bearer(token), "Content-Type": JSONAPI}
    return api.post(url, json=change_body(attributes, decisions), headers=headers)


def afternoon_block(day: int = 3) -> dict[str, Any]:
    """13:00-17:00 New York (EST) on December ``day``, 2026."""
    return {
        "add-blocks": [
            {
                "starts-at": f"2026-12-{day:02d}T13:00:00-05:00",
                "ends-at": f"2026-12-{day:02d}T17:00:00-05:00",
                "reason": "Staff meeting",
            }
        ]
    }
