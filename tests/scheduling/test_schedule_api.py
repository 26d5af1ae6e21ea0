"""The schedule routes of the operator API: preview, decisions, save, roles, tenancy."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.booking.models import Visit
from inquicker.events.models import Event
from inquicker.operators.models import AuditEntry
from inquicker.tenancy.models import HealthSystem
from tests.booking_http.helpers import FIRST_NAME, book, ny, times
from tests.booking_http.world import CHEN_PC, OTHER_SCHEDULE, World
from tests.conftest import ApiClient
from tests.operators.conftest import Staff, bearer
from tests.scheduling.helpers import afternoon_block, post_change


def _errors(response: Any, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/vnd.api+json"
    found: list[dict[str, Any]] = response.json()["errors"]
    return found


def test_list_and_show(api: ApiClient, world: World, staff: Staff) -> None:
    listed = api.get("/admin/api/schedules", headers=bearer(staff.tokens["scheduler"]))
    assert listed.status_code == 200, listed.text
    ids = [r["id"] for r in listed.json()["data"]]
    assert CHEN_PC in ids and OTHER_SCHEDULE not in ids
    shown = api.get(f"/admin/api/schedules/{CHEN_PC}", headers=bearer(staff.tokens["admin"]))
    attributes = shown.json()["data"]["attributes"]
    assert attributes["time-zone"] == "America/New_York"
    assert attributes["slot-minutes"] == 15
    assert {"weekday": 1, "opens": "08:00", "closes": "17:00"} in attributes["weekly-hours"]
    assert attributes["blocks"] == []


def test_block_previews_the_visit_then_cancel_saves(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    visit = book(api, world.book, CHEN_PC, ny(3, "14:00"))
    morning = book(api, world.book, CHEN_PC, ny(3, "10:00"))
    token = staff.tokens["scheduler"]
    preview = post_change(api, token, CHEN_PC, afternoon_block(), preview=True)
    assert preview.status_code == 200, preview.text
    [listed] = preview.json()["data"]
    assert listed["id"] == visit["id"]
    assert listed["attributes"]["conflict"] == "blocked"
    assert listed["attributes"]["appointment-at"] == ny(3, "14:00")
    assert FIRST_NAME not in preview.text
    # The preview wrote nothing.
    assert ny(3, "13:00") in times(api, world.book, CHEN_PC)

    refused = _errors(post_change(api, token, CHEN_PC, afternoon_block()), 422)
    assert [(e["code"], e["meta"]["visit"]) for e in refused] == [
        ("decision-required", visit["id"])
    ]
    assert ny(3, "13:00") in times(api, world.book, CHEN_PC)

    decisions = [{"visit": visit["id"], "action": "cancel", "reason": "Provider unavailable"}]
    saved = post_change(api, token, CHEN_PC, afternoon_block(), decisions)
    assert saved.status_code == 200, saved.text
    assert saved.json()["meta"] == {"kept": [], "cancelled": [visit["id"]]}
    [block] = saved.json()["data"]["attributes"]["blocks"]
    assert (block["starts-at"], block["ends-at"]) == (
        "2026-12-03T18:00:00Z",
        "2026-12-03T22:00:00Z",
    )
    offered = times(api, world.book, CHEN_PC)
    assert ny(3, "12:45") in offered
    assert [t for t in offered if t.startswith("2026-12-03T1") and "T13" <= t[10:13] < "T17"] == []
    with session_factory() as session:
        rows = {v.visit_id: v for v in session.scalars(select(Visit))}
        assert rows[visit["id"]].status == "cancelled"
        assert rows[visit["id"]].cancellation_reason == "Provider unavailable"
        assert rows[morning["id"]].status == "booked"
        events = session.scalars(select(Event.type).where(Event.visit_pk == rows[visit["id"]].pk))
        assert "visit.cancelled" in list(events)
        actions = [(a.action, a.visit_id) for a in session.scalars(select(AuditEntry))]
        assert ("visit.cancel", visit["id"]) in actions
        assert ("schedule.change", None) in actions
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "schedule.change"))
        assert entry.details["cancelled"] == [visit["id"]]
        assert entry.patient_data is False
        assert "Staff meeting" not in str(entry.details)


def test_keep_as_overbooking_and_capacity(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    visit = book(api, world.book, CHEN_PC, ny(3, "14:00"))
    with session_factory() as session:
        version = session.scalar(
            select(HealthSystem.data_version).where(HealthSystem.slug == "winter-health")
        )
    decisions = [{"visit": visit["id"], "action": "keep"}]
    saved = post_change(api, staff.tokens["admin"], CHEN_PC, afternoon_block(), decisions)
    assert saved.status_code == 200, saved.text
    assert saved.json()["meta"] == {"kept": [visit["id"]], "cancelled": []}
    with session_factory() as session:
        assert session.scalar(select(Visit.status).where(Visit.visit_id == visit["id"])) == "booked"
        after = session.scalar(
            select(HealthSystem.data_version).where(HealthSystem.slug == "winter-health")
        )
    assert after == (version or 0) + 1
    # A kept overbooking is not asked about again by the next change.
    again = post_change(api, staff.tokens["admin"], CHEN_PC, {"lead-minutes": 60}, preview=True)
    assert again.json()["data"] == []
    # Capacity 0 leaves the visit over capacity... no: it is already blocked, so unchanged.
    other = book(api, world.book, CHEN_PC, ny(8, "09:00"))
    zero = post_change(api, staff.tokens["admin"], CHEN_PC, {"capacity": 0}, preview=True)
    assert [(d["id"], d["attributes"]["conflict"]) for d in zero.json()["data"]] == [
        (other["id"], "over-capacity")
    ]


def test_weekly_hours_and_exceptions(api: ApiClient, world: World, staff: Staff) -> None:
    visit = book(api, world.book, CHEN_PC, ny(8, "09:00"))
    token = staff.tokens["scheduler"]
    closed = post_change(
        api, token, CHEN_PC, {"add-exceptions": [{"date": "2026-12-08"}]}, preview=True
    )
    assert [(d["id"], d["attributes"]["conflict"]) for d in closed.json()["data"]] == [
        (visit["id"], "outside-hours")
    ]
    later = {"add-exceptions": [{"date": "2026-12-08", "opens": "12:00", "closes": "16:00"}]}
    decisions = [{"visit": visit["id"], "action": "keep"}]
    saved = post_change(api, token, CHEN_PC, later, decisions)
    assert saved.status_code == 200, saved.text
    exceptions = saved.json()["data"]["attributes"]["exceptions"]
    assert [e for e in exceptions if e["date"] == "2026-12-08"] == [
        {"date": "2026-12-08", "opens": "12:00", "closes": "16:00"}
    ]
    offered = [t for t in times(api, world.book, CHEN_PC) if t.startswith("2026-12-08")]
    assert offered[0] == ny(8, "12:00") and offered[-1] == ny(8, "15:45")
    removed = post_change(api, token, CHEN_PC, {"remove-exceptions": ["2026-12-08"]})
    assert removed.status_code == 200, removed.text
    assert ny(8, "08:00") in times(api, world.book, CHEN_PC)
    # Weekly hours replaced: Tuesdays only, mornings.
    weekly = {"weekly-hours": [{"weekday": 1, "opens": "08:00", "closes": "12:00"}]}
    assert post_change(api, token, CHEN_PC, weekly).status_code == 200
    days = {t[:10] for t in times(api, world.book, CHEN_PC)}
    assert "2026-12-03" not in days and "2026-12-08" in days


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_viewer_and_auditor_are_forbidden(
    api: ApiClient, world: World, staff: Staff, role: str
) -> None:
    token = staff.tokens[role]
    for response in (
        api.get("/admin/api/schedules", headers=bearer(token)),
        api.get(f"/admin/api/schedules/{CHEN_PC}", headers=bearer(token)),
        post_change(api, token, CHEN_PC, {"capacity": 2}, preview=True),
        post_change(api, token, CHEN_PC, {"capacity": 2}),
    ):
        assert _errors(response, 403)[0]["code"] == "forbidden"


def test_another_health_systems_schedule_is_404(api: ApiClient, world: World, staff: Staff) -> None:
    token = staff.tokens["admin"]
    for response in (
        api.get(f"/admin/api/schedules/{OTHER_SCHEDULE}", headers=bearer(token)),
        post_change(api, token, OTHER_SCHEDULE, {"capacity": 2}, preview=True),
        post_change(api, token, OTHER_SCHEDULE, {"capacity": 2}),
        post_change(api, staff.other, CHEN_PC, {"capacity": 2}),
    ):
        assert _errors(response, 404)[0]["code"] == "not-found"


# (attributes, overall status, the pointers of the errors in order)
BAD_CHANGES: list[tuple[Any, int, list[str]]] = [
    (
        {
            "add-blocks": [
                {
                    "starts-at": "2026-12-03T17:00:00-05:00",
                    "ends-at": "2026-12-03T13:00:00-05:00",
                }
            ]
        },
        422,
        ["/data/attributes/add-blocks/0"],
    ),
    (
        {
            "add-blocks": [
                {"starts-at": "2026-12-03T13:00:00Z", "ends-at": "2026-12-03T15:00:00Z"},
                {"starts-at": "2026-12-03T14:00:00Z", "ends-at": "2026-12-03T16:00:00Z"},
            ]
        },
        422,
        ["/data/attributes/add-blocks/1"],
    ),
    (
        {"add-blocks": [{"starts-at": "2026-12-03T13:00:00", "ends-at": "x"}]},
        400,
        ["/data/attributes/add-blocks/0/starts-at", "/data/attributes/add-blocks/0/ends-at"],
    ),
    (
        {"add-exceptions": [{"date": "2026-02-30"}]},
        400,
        ["/data/attributes/add-exceptions/0/date"],
    ),
    ({"remove-exceptions": ["99999-01-01"]}, 400, ["/data/attributes/remove-exceptions/0"]),
    ({"capacity": 10**12}, 422, ["/data/attributes/capacity"]),
    ({"capacity": 10**30}, 400, ["/data/attributes/capacity"]),
    ({"lead-minutes": -1}, 422, ["/data/attributes/lead-minutes"]),
    ({"slot-minutes": "15"}, 400, ["/data/attributes/slot-minutes"]),
    (
        {
            "weekly-hours": [
                {"weekday": 1, "opens": "08:00", "closes": "12:00"},
                {"weekday": 1, "opens": "11:00", "closes": "13:00"},
            ]
        },
        422,
        ["/data/attributes/weekly-hours/1"],
    ),
    (
        {"weekly-hours": [{"weekday": 9, "opens": "12:00", "closes": "08:00"}]},
        422,
        ["/data/attributes/weekly-hours/0/weekday", "/data/attributes/weekly-hours/0"],
    ),
    ({"remove-blocks": ["12345"]}, 422, ["/data/attributes/remove-blocks/0"]),
    ({"colour": "red"}, 400, ["/data/attributes/colour"]),
    ({}, 422, ["/data/attributes"]),
]


def test_bad_input(api: ApiClient, world: World, staff: Staff) -> None:
    # One test per engine (the world takes seconds to build): every case, both routes.
    token = staff.tokens["scheduler"]
    for attributes, status, pointers in BAD_CHANGES:
        for preview in (True, False):
            response = post_change(api, token, CHEN_PC, attributes, preview=preview)
            found = _errors(response, status)
            assert [e["source"]["pointer"] for e in found] == pointers, attributes


def test_bad_documents_and_decisions(api: ApiClient, world: World, staff: Staff) -> None:
    token = staff.tokens["scheduler"]
    url = f"/admin/api/schedules/{CHEN_PC}/changes"
    headers = {**bearer(token), "Content-Type": "application/vnd.api+json"}
    assert _errors(api.post(url, content=b"{", headers=headers), 400)[0]["code"] == "invalid-json"
    assert _errors(api.post(url, json={"data": []}, headers=headers), 400)[0]["source"] == {
        "pointer": "/data"
    }
    assert api.post(url, json={}, headers=bearer(token)).status_code == 415
    no_reason = post_change(
        api, token, CHEN_PC, {"capacity": 2}, [{"visit": "v", "action": "cancel"}]
    )
    assert _errors(no_reason, 422)[0]["source"]["pointer"] == "/meta/decisions/0/reason"
    bad_action = post_change(
        api, token, CHEN_PC, {"capacity": 2}, [{"visit": "v", "action": "drop"}]
    )
    assert _errors(bad_action, 400)[0]["source"]["pointer"] == "/meta/decisions/0/action"
    assert api.get(url, headers=bearer(token)).status_code == 405


def test_overlapping_a_stored_block_and_removing_it(
    api: ApiClient, world: World, staff: Staff
) -> None:
    token = staff.tokens["scheduler"]
    first = post_change(api, token, CHEN_PC, afternoon_block())
    [block] = first.json()["data"]["attributes"]["blocks"]
    overlap = post_change(api, token, CHEN_PC, afternoon_block(), preview=True)
    assert _errors(overlap, 422)[0]["code"] == "overlapping-ranges"
    removed = post_change(api, token, CHEN_PC, {"remove-blocks": [block["id"]]})
    assert removed.json()["data"]["attributes"]["blocks"] == []
    assert ny(3, "14:00") in times(api, world.book, CHEN_PC)
