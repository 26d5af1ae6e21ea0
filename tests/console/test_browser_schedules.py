"""Schedules in a real browser: block an afternoon that holds a booked visit, see the
preview list it, cancel it, save; the partner API no longer offers the afternoon and the
visit is cancelled. Then the day's availability explanation says "blocked".

Screenshots as in test_browser.py (INQUICKER_UPDATE_SCREENSHOTS=1 copies them to docs/).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.booking.models import Visit
from tests.booking_http.helpers import book, ny, times
from tests.booking_http.world import CHEN_PC, World
from tests.conftest import ApiClient
from tests.console.test_browser import DESKTOP, Shots, _login, shots  # noqa: F401
from tests.operators.conftest import Staff, email


def test_block_an_afternoon_with_a_booked_visit(
    browser: Any,
    live_server: str,
    api: ApiClient,
    world: World,
    staff: Staff,
    shots: Shots,  # noqa: F811
    session_factory: sessionmaker[Session],
) -> None:
    visit = book(api, world.book, CHEN_PC, ny(3, "14:00"))
    number = str(visit["attributes"]["confirmation-number"])
    assert ny(3, "15:00") in times(api, world.read, CHEN_PC)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _login(page, live_server, email("scheduler"), "/admin/schedules")
    assert page.url.endswith("/admin/schedules")
    shots.take(page, "schedules")

    page.goto(live_server + f"/admin/schedules/{CHEN_PC}")
    block = page.get_by_role("region", name="Block time")
    block.get_by_label("Date").fill("2026-12-03")
    block.get_by_label("From").fill("13:00")
    block.get_by_label("To").fill("17:00")
    block.get_by_label("Reason (staff only)").fill("Staff <meeting>")
    shots.take(page, "schedule")
    block.get_by_role("button", name="Preview and block").click()
    page.wait_for_load_state()

    # The preview lists the booked visit, and nothing is saved yet.
    rows = page.locator("#conflicts tbody tr")
    assert rows.count() == 1
    assert number in rows.first.inner_text()
    assert "blocked" in rows.first.inner_text()
    assert ny(3, "15:00") in times(api, world.read, CHEN_PC)
    rows.first.get_by_role("radio", name="Cancel").check()
    rows.first.get_by_label("Cancellation reason").fill("Clinic closed this afternoon")
    shots.take(page, "schedule-preview")
    page.get_by_role("button", name="Save the change").click()
    page.wait_for_load_state()
    assert "Saved. Cancelled 1, kept 0 as overbooked." in page.inner_text("main")
    assert "Staff <meeting>" in page.inner_text("main")  # escaped, shown as text
    shots.take(page, "schedule-saved")

    offered = times(api, world.read, CHEN_PC)
    assert ny(3, "12:45") in offered
    assert [t for t in offered if ny(3, "13:00") <= t < ny(3, "17:00")] == []
    with session_factory() as session:
        row = session.scalars(select(Visit).where(Visit.visit_id == visit["id"])).one()
        assert (row.status, row.cancellation_reason) == (
            "cancelled",
            "Clinic closed this afternoon",
        )

    page.goto(live_server + f"/admin/schedules/{CHEN_PC}/explain?date=2026-12-03")
    text = page.inner_text("main")
    assert "Blocked time" in text and "blocked" in text
    row = page.get_by_role("row").filter(has_text="14:00")
    assert "no" in row.first.inner_text()
    shots.take(page, "schedule-explain")
    context.close()
