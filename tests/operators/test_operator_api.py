"""The operator JSON API: roles on every route, tenancy, patient data and its audit, changes
as an operator, and the events feed (SPEC sections 11 and 12)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.operators import accounts, roles
from inquicker.operators.api import ROUTES
from inquicker.operators.models import AuditEntry
from tests.booking_http.helpers import FIRST_NAME, book, ny, times
from tests.booking_http.world import CHEN_PC, World
from tests.conftest import ApiClient
from tests.operators.conftest import ROLES, Staff, bearer, email

JSONAPI = "application/vnd.api+json"


def _patch(status: str) -> dict[str, Any]:
    return {"data": {"type": "visits", "attributes": {"status": status}}}


def _call(api: ApiClient, method: str, pattern: str, visit_id: str, token: str) -> Any:
    # Schedule routes take a schedule id (the visit's); the rest a visit id.
    target = CHEN_PC if pattern.startswith("schedules") else visit_id
    url = "/admin/api/" + pattern.replace("{id}", target)
    if method == "POST":
        # A change without conflicts: raise the capacity.
        body = {"data": {"type": "schedule-changes", "attributes": {"capacity": 3}}}
        return api.post(url, json=body, headers={**bearer(token), "Content-Type": JSONAPI})
    if method == "PATCH":
        body = _patch("checked-in")
        body["data"]["id"] = visit_id
        headers = {**bearer(token), "Content-Type": JSONAPI}
        return api.patch(url, json=body, headers=headers)
    return api.get(url, headers=bearer(token))


def _audit(session_factory: sessionmaker[Session]) -> list[AuditEntry]:
    with session_factory() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.pk)))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.pattern}")
def test_every_route_with_every_role(
    api: ApiClient, world: World, staff: Staff, route: Any, role: str
) -> None:
    visit = book(api, world.book, CHEN_PC, ny(1, "10:00"))
    response = _call(api, route.method, route.pattern, visit["id"], staff.tokens[role])
    if roles.may(role, route.permission):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == JSONAPI
    else:
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["code"] == "forbidden"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.pattern}")
def test_another_health_systems_operator_sees_nothing(
    api: ApiClient, world: World, staff: Staff, route: Any
) -> None:
    visit = book(api, world.book, CHEN_PC, ny(1, "10:00"))
    response = _call(api, route.method, route.pattern, visit["id"], staff.other)
    if "{id}" in route.pattern:
        assert response.status_code == 404, response.text
        assert response.json()["errors"][0]["code"] == "not-found"
    elif route.pattern == "schedules":
        # Its own schedules only: none of winter-health's.
        assert response.status_code == 200
        assert CHEN_PC not in [r["id"] for r in response.json()["data"]]
    else:
        assert response.status_code == 200
        assert response.json()["data"] == []


def test_missing_unknown_and_disabled_tokens_are_401(
    api: ApiClient, session_factory: sessionmaker[Session], staff: Staff
) -> None:
    assert api.get("/admin/api/visits").status_code == 401
    assert api.get("/admin/api/visits", headers=bearer("iqo_nope")).status_code == 401
    assert api.get("/admin/api/visits", headers=bearer(staff.tokens["admin"])).status_code == 200
    with session_factory() as session, session.begin():
        accounts.disable(session, email("admin"))
    response = api.get("/admin/api/visits", headers=bearer(staff.tokens["admin"]))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="admin"'


def test_viewer_reads_without_patient_data_and_scheduler_with(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    visit = book(api, world.book, CHEN_PC, ny(1, "10:00"))
    viewer = api.get(f"/admin/api/visits/{visit['id']}", headers=bearer(staff.tokens["viewer"]))
    assert viewer.status_code == 200
    assert "patient" not in viewer.json()["data"]["attributes"]
    assert FIRST_NAME not in viewer.text
    reads = [e for e in _audit(session_factory) if e.action == "visit.read"]
    assert [(e.actor, e.visit_id, e.patient_data) for e in reads] == [
        (email("viewer"), visit["id"], False)
    ]
    assert reads[0].client == "testclient"

    scheduler = api.get(
        f"/admin/api/visits/{visit['id']}", headers=bearer(staff.tokens["scheduler"])
    )
    attributes = scheduler.json()["data"]["attributes"]
    assert attributes["patient"]["first-name"] == FIRST_NAME
    assert attributes["patient"]["last-name"] == "Quimby"
    assert attributes["confirmation-number"] == visit["attributes"]["confirmation-number"]
    with_patient = [e for e in _audit(session_factory) if e.patient_data]
    assert [(e.actor, e.action, e.visit_id) for e in with_patient] == [
        (email("scheduler"), "visit.read", visit["id"])
    ]


def test_cancel_as_operator_frees_the_time_and_is_audited(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    at = ny(1, "10:00")
    visit = book(api, world.book, CHEN_PC, at)
    assert at not in times(api, world.read, CHEN_PC)
    body = _patch("cancelled")
    body["data"]["attributes"]["cancellation-reason"] = "Provider ill"
    response = api.patch(
        f"/admin/api/visits/{visit['id']}",
        json=body,
        headers={**bearer(staff.tokens["scheduler"]), "Content-Type": JSONAPI},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["status"] == "cancelled"
    assert response.json()["data"]["attributes"]["cancellation-reason"] == "Provider ill"
    assert at in times(api, world.read, CHEN_PC)
    [entry] = [e for e in _audit(session_factory) if e.action == "visit.cancel"]
    assert entry.actor == email("scheduler")
    assert entry.details == {"from": "booked", "to": "cancelled", "reason-given": True}
    assert entry.patient_data is False


def test_bad_status_and_invalid_transition_are_422(
    api: ApiClient, world: World, staff: Staff
) -> None:
    visit = book(api, world.book, CHEN_PC, ny(1, "10:00"))
    headers = {**bearer(staff.tokens["admin"]), "Content-Type": JSONAPI}
    url = f"/admin/api/visits/{visit['id']}"
    assert api.patch(url, json=_patch("no-show"), headers=headers).status_code == 200
    again = api.patch(url, json=_patch("completed"), headers=headers)
    assert again.status_code == 422
    assert api.patch(url, json=_patch("sleeping"), headers=headers).status_code == 422


def test_list_filters_sort_and_pages(api: ApiClient, world: World, staff: Staff) -> None:
    first = book(api, world.book, CHEN_PC, ny(1, "10:00"))
    second = book(api, world.book, CHEN_PC, ny(3, "11:00"))
    headers = bearer(staff.tokens["viewer"])

    def ids(**params: str) -> list[str]:
        response = api.get("/admin/api/visits", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["data"]]

    assert ids() == [first["id"], second["id"]]
    assert ids(sort="-appointment-at") == [second["id"], first["id"]]
    assert ids(**{"filter[from]": "2026-12-01", "filter[to]": "2026-12-01"}) == [first["id"]]
    assert ids(**{"filter[from]": "2026-12-02"}) == [second["id"]]
    assert ids(**{"filter[status]": "cancelled"}) == []
    assert ids(**{"filter[location]": "chattanooga-downtown"}) == [first["id"], second["id"]]
    assert ids(**{"filter[provider]": "nobody"}) == []
    paged = api.get("/admin/api/visits", params={"page[size]": "1"}, headers=headers).json()
    assert paged["meta"]["record-count"] == 2
    assert [r["id"] for r in paged["data"]] == [first["id"]]
    assert "page%5Bnumber%5D=2" in paged["links"]["next"]
    bad = api.get("/admin/api/visits", params={"filter[from]": "yesterday"}, headers=headers)
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"]["parameter"] == "filter[from]"


def test_events_feed_exactly_once_across_pages(api: ApiClient, world: World, staff: Staff) -> None:
    booked = [book(api, world.book, CHEN_PC, ny(1, t)) for t in ("10:00", "10:15", "10:30")]
    headers = bearer(staff.tokens["scheduler"])
    cancel = _patch("cancelled")
    api.patch(
        f"/admin/api/visits/{booked[1]['id']}",
        json=cancel,
        headers={**headers, "Content-Type": JSONAPI},
    )
    seen: list[tuple[str, str]] = []
    url = "/admin/api/events?limit=2"
    for _ in range(5):
        page = api.get(url, headers=headers).json()
        seen += [
            (e["attributes"]["event-type"], e["attributes"]["visit"]["id"]) for e in page["data"]
        ]
        url = page["links"]["next"]
        if not page["data"]:
            break
    assert seen == [
        ("visit.booked", booked[0]["id"]),
        ("visit.booked", booked[1]["id"]),
        ("visit.booked", booked[2]["id"]),
        ("visit.cancelled", booked[1]["id"]),
    ]
    later = book(api, world.book, CHEN_PC, ny(1, "11:00"))
    page = api.get(url, headers=headers).json()
    assert [e["attributes"]["visit"]["id"] for e in page["data"]] == [later["id"]]
    assert api.get(page["links"]["next"], headers=headers).json()["data"] == []
    assert api.get("/admin/api/events", headers=bearer(staff.other)).json()["data"] == []


def test_wrong_method_is_405_with_allow(api: ApiClient, staff: Staff) -> None:
    response = api.delete("/admin/api/visits", headers=bearer(staff.tokens["admin"]))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert api.get("/admin/api/nothing", headers=bearer(staff.tokens["admin"])).status_code == 404


def test_a_page_read_with_patient_data_leaves_one_entry_per_visit(
    api: ApiClient, world: World, staff: Staff, session_factory: sessionmaker[Session]
) -> None:
    booked = [book(api, world.book, CHEN_PC, ny(1, t)) for t in ("10:00", "10:15", "10:30")]
    response = api.get("/admin/api/visits", headers=bearer(staff.tokens["scheduler"]))
    assert response.status_code == 200
    reads = [e for e in _audit(session_factory) if e.action == "visit.read"]
    assert sorted((e.visit_id, e.patient_data, e.client, e.details) for e in reads) == sorted(
        (b["id"], True, "testclient", {}) for b in booked
    )
    assert {e.actor for e in reads} == {email("scheduler")}
    assert len({e.at for e in reads}) == 1 and reads[0].at.tzinfo is not None
