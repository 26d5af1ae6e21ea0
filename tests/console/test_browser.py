"""The console in a real browser: log in, find a visit just booked through the partner API,
open it (audited), cancel it (offered again), create and revoke a key, and a viewer's limits.

Screenshots of each page at desktop and phone widths go to the test's tmp folder; with
INQUICKER_UPDATE_SCREENSHOTS=1 (sqlite run) a set is copied to docs/console/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.booking_http.helpers import FIRST_NAME, book, ny, path, times
from tests.booking_http.world import CHEN_PC, World
from tests.conftest import ApiClient
from tests.operators.conftest import PASSWORD, Staff, email

DOCS = Path(__file__).resolve().parents[2] / "docs" / "console"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


class Shots:
    def __init__(self, folder: Path, engine: str) -> None:
        self.folder = folder
        self.copy = engine == "sqlite" and os.environ.get("INQUICKER_UPDATE_SCREENSHOTS") == "1"
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page: Any, name: str) -> None:
        """The page at desktop and phone widths (full length)."""
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            target = self.folder / f"{name}-{label}.png"
            page.screenshot(path=str(target), full_page=True)
            if self.copy:
                DOCS.mkdir(parents=True, exist_ok=True)
                shutil.copy(target, DOCS / target.name)
        page.set_viewport_size(DESKTOP)


def _login(page: Any, base: str, who: str, target: str = "/admin/") -> None:
    page.goto(base + target)
    assert "/admin/login" in page.url
    page.get_by_label("E-mail").fill(who)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


@pytest.fixture
def shots(tmp_path: Path, request: pytest.FixtureRequest) -> Shots:
    engine = request.node.callspec.params.get("engine", "sqlite")
    return Shots(tmp_path / "screenshots", engine)


def test_scheduler_day_in_the_console(
    browser: Any,
    live_server: str,
    api: ApiClient,
    world: World,
    staff: Staff,
    shots: Shots,
) -> None:
    at = ny(1, "10:00")
    visit = book(api, world.book, CHEN_PC, at)
    number = str(visit["attributes"]["confirmation-number"])
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    shots.take(page.goto(live_server + "/admin/login") and page, "login")

    _login(page, live_server, email("admin"), "/admin/visits?date=2026-12-01")
    assert page.url.endswith("/admin/visits?date=2026-12-01")
    row = page.get_by_role("row").filter(has_text=f"#{number}")
    assert row.count() == 1
    assert "booked" in row.inner_text()
    shots.take(page, "visits-day")

    page.get_by_role("link", name=f"#{number}").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=f"Visit #{number}").count() == 1
    assert FIRST_NAME in page.inner_text("main")
    shots.take(page, "visit-detail")

    page.goto(live_server + f"/admin/audit?visit={visit['id']}")
    audit_rows = page.get_by_role("row").filter(has_text="visit.read")
    assert audit_rows.count() >= 1
    assert email("admin") in audit_rows.first.inner_text()
    assert "yes" in audit_rows.first.inner_text()
    shots.take(page, "audit-log")

    page.goto(live_server + f"/admin/visits/{visit['id']}")
    page.get_by_label("Cancellation reason").fill("Provider ill")
    page.get_by_role("button", name="Cancel visit").click()
    page.wait_for_load_state()
    assert "Done: the visit is now cancelled." in page.inner_text("main")
    shots.take(page, "visit-cancelled")
    assert at in times(api, world.read, CHEN_PC)

    page.goto(live_server + "/admin/keys")
    page.get_by_label("Name").fill("Browser test <partner>")
    page.get_by_role("button", name="Create key").click()
    page.wait_for_load_state()
    secret = page.get_by_label("API key").input_value()
    assert secret.startswith("iqk_")
    assert "Browser test <partner>" in page.inner_text("main")  # escaped, shown as text
    shots.take(page, "keys-created")
    assert api.get(path("/locations"), params={"api_key": secret}).status_code == 200
    key_id = page.locator(".notice strong").inner_text().split()[-1]
    page.get_by_role("button", name=f"Revoke {key_id}").click()
    page.wait_for_load_state()
    assert f"Revoked {key_id}." in page.inner_text("main")
    assert api.get(path("/locations"), params={"api_key": secret}).status_code == 401
    context.close()


def test_viewer_sees_no_patient_data_and_no_scheduler_pages(
    browser: Any,
    live_server: str,
    api: ApiClient,
    world: World,
    staff: Staff,
    shots: Shots,
) -> None:
    visit = book(api, world.book, CHEN_PC, ny(1, "10:15"))
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _login(page, live_server, email("viewer"), f"/admin/visits/{visit['id']}")
    main = page.inner_text("main")
    assert FIRST_NAME not in main
    assert "does not show patient data" in main
    assert page.get_by_role("button", name="Cancel visit").count() == 0
    shots.take(page, "viewer-visit")
    response = page.goto(live_server + "/admin/keys")
    assert response.status == 403
    assert page.get_by_role("heading", name="Not allowed").count() == 1
    shots.take(page, "forbidden")
    assert page.goto(live_server + "/admin/visits?q=Quimby").status == 403
    assert page.goto(live_server + "/admin/audit").status == 403
    context.close()
