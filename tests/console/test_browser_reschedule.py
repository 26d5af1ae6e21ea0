"""Rescheduling in a real browser: a visit booked through the partner API is opened in the
console, moved to another offered time with the picker (no script needed), shown at its new
time, and the partner API offers the old time again at once.

Screenshots (desktop and phone) as in test_browser.py: reschedule (the picker, a time
chosen) and visit-rescheduled (the visit afterwards).
"""

from __future__ import annotations

from typing import Any

from tests.booking_http.helpers import book, ny, times
from tests.booking_http.world import CHEN_PC, World
from tests.conftest import ApiClient
from tests.console.test_browser import DESKTOP, Shots, _login, shots  # noqa: F401
from tests.operators.conftest import Staff, email

AT = ny(1, "10:30")
LATER = ny(1, "14:00")


def test_scheduler_reschedules_a_visit_to_an_offered_time(
    browser: Any,
    live_server: str,
    api: ApiClient,
    world: World,
    staff: Staff,
    shots: Shots,  # noqa: F811
) -> None:
    visit = book(api, world.book, CHEN_PC, AT)
    number = visit["attributes"]["confirmation-number"]
    assert AT not in times(api, world.read, CHEN_PC)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _login(page, live_server, email("scheduler"), f"/admin/visits/{visit['id']}")
    assert page.get_by_role("heading", name=f"Visit #{number}").count() == 1

    page.get_by_role("link", name="Reschedule…").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=f"Reschedule visit #{number}").count() == 1
    assert "Tue 1 Dec 2026, 10:30" in page.inner_text("main")
    # The visit's own time is taken (by the visit): not offered; 14:00 is.
    assert page.get_by_role("radio", name="10:30").count() == 0
    page.get_by_role("radio", name="14:00").check()
    shots.take(page, "reschedule")

    page.get_by_role("button", name="Move the visit to this time").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/admin/visits/{visit['id']}?done=rescheduled")
    main = page.inner_text("main")
    assert "Rescheduled: the visit is now Tue 1 Dec 2026, 14:00." in main
    assert "Moved from" in main and "Tue 1 Dec 2026, 10:30" in main
    assert "visit.rescheduled" in main  # the events list
    shots.take(page, "visit-rescheduled")

    offered = times(api, world.read, CHEN_PC)
    assert AT in offered and LATER not in offered
    context.close()
