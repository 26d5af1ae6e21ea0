"""The console's schedule pages over HTTP: roles, tenancy, CSRF, preview, bad input."""

from __future__ import annotations

import html
import re

import pytest

from tests.booking_http.helpers import book, ny, times
from tests.booking_http.world import CHEN_PC, OTHER_SCHEDULE, World
from tests.conftest import ApiClient
from tests.operators.conftest import PASSWORD, Staff, email

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _login(api: ApiClient, who: str) -> str:
    """Log in; the session's CSRF token (from the next page's forms)."""
    page = api.get("/admin/login")
    token = _CSRF.search(page.text)
    assert token is not None
    form = {"csrf": token.group(1), "email": who, "password": PASSWORD, "next": "/admin/"}
    response = api.post("/admin/login", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    schedules = api.get("/admin/keys") if "admin@" in who else api.get("/admin/visits")
    found = _CSRF.search(schedules.text)
    assert found is not None
    return found.group(1)


def _block(csrf: str, **extra: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "kind": "block",
        "date": "2026-12-03",
        "from": "13:00",
        "to": "17:00",
        "reason": "<script>alert(1)</script>",
        **extra,
    }


def test_scheduler_previews_decides_and_saves(api: ApiClient, world: World, staff: Staff) -> None:
    visit = book(api, world.book, CHEN_PC, ny(3, "14:00"))
    csrf = _login(api, email("scheduler"))
    listed = api.get("/admin/schedules")
    assert listed.status_code == 200 and f"/admin/schedules/{CHEN_PC}" in listed.text
    assert OTHER_SCHEDULE not in listed.text
    url = f"/admin/schedules/{CHEN_PC}/changes"
    preview = api.post(url, data=_block(csrf))
    assert preview.status_code == 200
    assert f'name="decision-{visit["id"]}"' in preview.text
    assert ny(3, "15:00") in times(api, world.book, CHEN_PC)  # nothing saved yet
    change = re.search(r'name="change" value="([^"]+)"', preview.text)
    assert change is not None
    confirm = {
        "csrf": csrf,
        "change": html.unescape(change.group(1)),
        "listed": visit["id"],
    }
    # No decision: refused with the list again, nothing saved.
    again = api.post(url, data=confirm)
    assert again.status_code == 422 and "Choose keep or cancel" in again.text
    assert ny(3, "15:00") in times(api, world.book, CHEN_PC)
    confirm[f"decision-{visit['id']}"] = "keep"
    saved = api.post(url, data=confirm, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    page = api.get(saved.headers["location"])
    assert "Saved. Cancelled 0, kept 1 as overbooked." in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    assert ny(3, "15:00") not in times(api, world.book, CHEN_PC)
    explain = api.get(f"/admin/schedules/{CHEN_PC}/explain?date=2026-12-03")
    assert explain.status_code == 200 and "<code>blocked</code>" in explain.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"to": "12:00"}, "ends-at must be after starts-at."),
        ({"date": "2026-13-45"}, "Must be an ISO 8601 date-time with an offset or Z."),
    ],
)
def test_bad_forms_are_422_with_the_problem(
    api: ApiClient, world: World, staff: Staff, fields: dict[str, str], message: str
) -> None:
    csrf = _login(api, email("scheduler"))
    response = api.post(f"/admin/schedules/{CHEN_PC}/changes", data=_block(csrf, **fields))
    assert response.status_code == 422
    assert message in response.text


def test_settings_form_huge_values(api: ApiClient, world: World, staff: Staff) -> None:
    csrf = _login(api, email("admin"))
    form = {"csrf": csrf, "kind": "settings", "capacity": "99999999999999"}
    response = api.post(f"/admin/schedules/{CHEN_PC}/changes", data=form)
    assert response.status_code == 422 and "Must be an integer." in response.text
    form = {"csrf": csrf, "kind": "settings", "capacity": "5000"}
    response = api.post(f"/admin/schedules/{CHEN_PC}/changes", data=form)
    assert response.status_code == 422 and "Must be from 0 to 1000." in response.text


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_viewer_and_auditor_get_the_403_page(
    api: ApiClient, world: World, staff: Staff, role: str
) -> None:
    _login_any(api, email(role))
    for path in (
        "/admin/schedules",
        f"/admin/schedules/{CHEN_PC}",
        f"/admin/schedules/{CHEN_PC}/explain",
    ):
        assert api.get(path).status_code == 403, path


def test_another_health_systems_schedule_and_csrf(
    api: ApiClient, world: World, staff: Staff
) -> None:
    csrf = _login(api, email("scheduler"))
    assert api.get(f"/admin/schedules/{OTHER_SCHEDULE}").status_code == 404
    assert api.get(f"/admin/schedules/{OTHER_SCHEDULE}/explain").status_code == 404
    assert (
        api.post(f"/admin/schedules/{OTHER_SCHEDULE}/changes", data=_block(csrf)).status_code == 404
    )
    no_csrf = _block("")
    assert api.post(f"/admin/schedules/{CHEN_PC}/changes", data=no_csrf).status_code == 403
    bad_day = api.get(f"/admin/schedules/{CHEN_PC}/explain?date=2026-02-30")
    assert bad_day.status_code == 400


def _login_any(api: ApiClient, who: str) -> None:
    page = api.get("/admin/login")
    token = _CSRF.search(page.text)
    assert token is not None
    form = {"csrf": token.group(1), "email": who, "password": PASSWORD, "next": "/admin/"}
    response = api.post("/admin/login", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
