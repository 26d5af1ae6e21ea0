"""The reference's booking walk-through, step by step, against the Winter Health demo.

Clock: 2026-12-01T14:00Z (Tuesday, 09:00 in New York). The patient books David Chen's
primary-care schedule in Chattanooga (Tue/Thu 08:00-17:00 EST, 15-minute grid, lead
60 minutes), so the first offered time is 10:00 EST.
"""

from __future__ import annotations

import re
from typing import Any

from inquicker.settings import Settings
from tests.booking_http.helpers import (
    EMAIL,
    FIRST_NAME,
    LAST_NAME,
    ORIGIN,
    PATIENT,
    PHONE,
    claims_of,
    ny,
    path,
    post_visit,
    times,
)
from tests.booking_http.world import CHEN_PC, HOST, World
from tests.conftest import ApiClient

V3 = f"{ORIGIN}/v3/{HOST}"
CHEN_PLANS = {
    "bcbst-network-p",
    "bcbst-network-s",
    "humana-medicare-advantage",
    "tenncare-bluecare",
}
DEMO_PLANS = CHEN_PLANS | {
    "aetna-hmo",
    "aetna-ppo",
    "cigna-open-access",
    "unitedhealthcare-choice-plus",
}
DEMO_TYPES = [
    ("new-patient-visit", "New Patient Visit", 1),
    ("annual-physical", "Annual Physical", 2),
    ("well-child", "Well-Child Visit", 2),
    ("sick-visit", "Sick Visit", 3),
    ("follow-up", "Follow-up Visit", 4),
    ("mri-scan", "MRI Scan", 5),
]


def reference_body(at: str) -> dict[str, Any]:
    """The walk-through's body: every yes/no spelling, optin 1, the terms flags and nulls."""
    attributes = {
        **PATIENT,
        "appointment-at": at,
        "appointment-type": "sick-visit",
        "address-2": None,
        "caregiver-name": None,
        "comments": None,
        "has-physician": "yes",
        "new-patient": "true",
        "requires-translator": 1,
        "pregnant": "0",
        "requires-standing-assistance": False,
        "optin": 1,
        "terms-tos": "1",
        "terms-911": True,
        "insurance-plan-permalink": "bcbst-network-p",
        "insurance-member-number": "XJ553201",
        "insurance-group-number": None,
        "middle-initial": None,
        "primary-care-physician": "Dr. Hollis Grant",
        "translator-language": "Spanish",
        "weeks-pregnant": None,
        "remote-uid": None,
        "referer": "https://partner.example/find-a-doctor",
        "user-agent": "PartnerApp/1.0",
    }
    return {
        "data": {
            "type": "visits",
            "attributes": attributes,
            "relationships": {"schedule": {"data": {"type": "schedules", "id": CHEN_PC}}},
        }
    }


def get_json(api: ApiClient, url: str, key: str) -> dict[str, Any]:
    response = api.get(url, params={"api_key": key})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_no_patient_data(text: str) -> None:
    for value in (FIRST_NAME, LAST_NAME, EMAIL, PHONE, "1985-04-12", "975 Elm Street"):
        assert value not in text
    assert "Sore throat" not in text
    assert "XJ553201" not in text
    assert "Hollis" not in text


def test_reference_walkthrough(api: ApiClient, world: World, settings: Settings) -> None:
    key = world.book

    # 1. The insurance plans and appointment types a form offers.
    plans = get_json(api, f"{V3}/insurance-plans", key)
    assert {p["id"] for p in plans["data"]} == DEMO_PLANS
    assert plans["meta"] == {"record-count": 8}
    types = get_json(api, f"{V3}/appointment-types", key)
    assert [
        (t["id"], t["attributes"]["name"], t["attributes"]["priority"]) for t in types["data"]
    ] == DEMO_TYPES

    # 2. The location's schedules, with the plans each accepts.
    located = api.get(
        f"{V3}/locations/chattanooga-downtown/schedules",
        params={"include": "insurance-plans", "api_key": key},
    )
    assert located.status_code == 200, located.text
    schedules = {s["id"]: s for s in located.json()["data"]}
    chen = schedules[CHEN_PC]
    assert chen["attributes"]["name"] == "David Chen, DO - Primary Care (Chattanooga)"
    assert chen["attributes"]["time-zone-name"] == "America/New_York"
    linked = {r["id"] for r in chen["relationships"]["insurance-plans"]["data"]}
    assert linked == CHEN_PLANS
    included = {(r["type"], r["id"]) for r in located.json()["included"]}
    assert {("insurance-plans", p) for p in CHEN_PLANS} <= included

    # 3. Open times: 60 minutes of lead from 09:00 EST, on the 15-minute grid.
    response = api.get(
        f"{V3}/available-appointment-times", params={"schedule_ids[]": CHEN_PC, "api_key": key}
    )
    assert response.status_code == 200, response.text
    [offer] = response.json()
    assert offer["appointment-type"] == "sick-visit"
    assert offer["times"][:4] == [ny(1, "10:00"), ny(1, "10:15"), ny(1, "10:30"), ny(1, "10:45")]
    first = offer["times"][0]

    # 4. A visit token, with the time in double quotes as the reference sends it.
    issued = api.get(
        f"{V3}/visit-token",
        params={"schedule_id": CHEN_PC, "appointment_at": f'"{first}"', "api_key": key},
    )
    assert issued.status_code == 200, issued.text
    assert issued.headers["content-type"] == "application/jwt"
    token = issued.text
    claims = claims_of(token, settings.secret_key)
    assert claims["data"] == {"schedule_id": CHEN_PC, "appointment_at": "2026-12-01T10:00:00-05:00"}

    # 5. The visit, under the reference's /v3 prefix.
    created = post_visit(api, token, reference_body(first), prefix="/v3")
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == "application/vnd.api+json"
    visit = created.json()["data"]
    assert visit["type"] == "visits"
    assert re.fullmatch(r"[0-9a-f]{32}", visit["id"])
    self_url = f"{V3}/visits/{visit['id']}"
    assert created.headers["location"] == self_url
    assert visit["links"] == {"self": self_url}
    assert visit["attributes"] == {
        "appointment-at": "2026-12-01T10:00:00-05:00",
        "appointment-type": "sick-visit",
        "appointment-type-name": "Sick Visit",
        "confirmation-number": 1,
        "remote-visit-ids": "",
        "status": "booked",
        "previous-appointment-at": None,
        "cancelled-at": None,
        "cancellation-reason": None,
    }
    assert set(visit["relationships"]) == {"schedule", "location", "provider"}
    assert_no_patient_data(created.text)

    # 6. The visit's related links can be followed with a read key.
    links = visit["relationships"]
    for name, type_, id_ in (
        ("schedule", "schedules", CHEN_PC),
        ("location", "locations", "chattanooga-downtown"),
        ("provider", "providers", "dr-david-chen"),
    ):
        assert links[name]["links"] == {
            "self": f"{self_url}/relationships/{name}",
            "related": f"{self_url}/{name}",
        }
        related = get_json(api, links[name]["links"]["related"], world.read)
        assert (related["data"]["type"], related["data"]["id"]) == (type_, id_)
        linkage = get_json(api, links[name]["links"]["self"], world.read)
        assert linkage["data"] == {"type": type_, "id": id_}

    # 7. The booked time is gone; its neighbour is still offered.
    offered = times(api, world.read, CHEN_PC)
    assert first not in offered
    assert offered[0] == ny(1, "10:15")

    # 8. The next patient: the instant in UTC, its '+' sent raw so it arrives as a space.
    raw = api.get(
        path(
            f"/visit-token?schedule_id={CHEN_PC}&appointment_at=2026-12-01T15:15:00+00:00"
            f"&api_key={key}",
            prefix="/v3",
        )
    )
    assert raw.status_code == 200, raw.text
    claims = claims_of(raw.text, settings.secret_key)
    assert claims["data"]["appointment_at"] == "2026-12-01T10:15:00-05:00"
    second = post_visit(api, raw.text, reference_body("2026-12-01T15:15:00+00:00"), prefix="/v3")
    assert second.status_code == 201, second.text
    attributes = second.json()["data"]["attributes"]
    assert attributes["appointment-at"] == "2026-12-01T10:15:00-05:00"
    assert attributes["confirmation-number"] == 2
    assert second.json()["data"]["id"] != visit["id"]
    assert_no_patient_data(second.text)
    assert times(api, world.read, CHEN_PC)[0] == ny(1, "10:30")
