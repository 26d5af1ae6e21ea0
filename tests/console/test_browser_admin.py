"""The admin's pages in a real browser: a webhook subscription created in the console
receives a visit booked through the partner API, its delivery log shows the attempt, and a
replay makes a new attempt; a bundle with problems is refused with each problem's path, a
good one is imported (the partner API serves it at once); other roles get the 403 page.

Screenshots as in test_browser.py (INQUICKER_UPDATE_SCREENSHOTS=1 copies them to docs/).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.bundle.exporter import export_bundle
from inquicker.bundle.io import dumps_document
from inquicker.events.worker import Deliverer, WorkerConfig
from inquicker.operators.models import AuditEntry
from inquicker.tenancy.models import HealthSystem
from tests.booking_http.helpers import book, ny, path
from tests.booking_http.world import CHEN_PC, Clock, World
from tests.conftest import ApiClient
from tests.console.test_browser import DESKTOP, Shots, _login, shots  # noqa: F401
from tests.events.receiver import Answer, running_receiver
from tests.operators.conftest import Staff, email


def _deliver(engine: Engine, clock: Clock) -> int:
    """One run of the worker, on the test's clock (replays are due at its "now")."""
    config = WorkerConfig(timeout=5, concurrency=2)
    with Deliverer(engine, None, config, clock=lambda: clock().timestamp()) as deliverer:
        return deliverer.run_once()


def test_webhook_deliveries_and_replay(
    browser: Any,
    live_server: str,
    api: ApiClient,
    world: World,
    staff: Staff,
    shots: Shots,  # noqa: F811
    engine: Engine,
    clock: Clock,
    session_factory: sessionmaker[Session],
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    answer = Answer(200, b'<html><body>Thanks <script>alert("x")</script></body></html>')
    with running_receiver(behaviour=lambda _r, _n: answer) as receiver:
        _login(page, live_server, email("admin"), "/admin/webhooks")
        assert page.get_by_role("heading", name="Webhook subscriptions").count() == 1
        page.get_by_label("URL", exact=True).fill(receiver.base + "/hooks/inquicker")
        page.get_by_label("visit.booked").check()
        page.get_by_label("visit.cancelled").check()
        page.get_by_role("button", name="Create subscription").click()
        page.wait_for_load_state()
        secret = page.get_by_label("Signing secret").input_value()
        assert secret.startswith("whsec_")
        shots.take(page, "webhooks")
        page.goto(live_server + "/admin/webhooks")
        assert secret not in page.content()  # shown once

        visit = book(api, world.book, CHEN_PC, ny(1, "10:00"))
        assert _deliver(engine, clock) == 1
        assert [r.body["type"] for r in receiver.received] == ["visit.booked"]

        page.get_by_role("link", name=receiver.base + "/hooks/inquicker").click()
        page.wait_for_load_state()
        delivery = page.locator("li.delivery").first
        text = delivery.inner_text()
        assert "visit.booked" in text and "delivered" in text
        assert f"#{visit['attributes']['confirmation-number']}" in text
        attempts = delivery.locator("table.attempts tbody tr")
        assert attempts.count() == 1
        assert "200" in attempts.first.inner_text() and "success" in attempts.first.inner_text()
        assert '<script>alert("x")</script>' in attempts.first.inner_text()  # shown as text
        shots.take(page, "webhook-deliveries")

        delivery.get_by_role("button", name="Replay").click()
        page.wait_for_load_state()
        assert "will be sent again" in page.inner_text("main")
        assert "pending" in page.locator("li.delivery").first.inner_text()
        assert _deliver(engine, clock) == 1
        page.reload()
        attempts = page.locator("li.delivery").first.locator("table.attempts tbody tr")
        assert attempts.count() == 2
        assert len(receiver.received) == 2
        assert receiver.ids()[0] == receiver.ids()[1]  # the same event id: de-duplicable

        page.get_by_label("Since (UTC)").fill("2026-11-01T00:00")
        page.get_by_role("button", name="Replay since").click()
        page.wait_for_load_state()
        assert "1 delivery since 2026-11-01 00:00 UTC will be sent again." in page.inner_text(
            "main"
        )
        assert _deliver(engine, clock) == 1
        page.reload()
        shots.take(page, "webhook-replayed")
        page.get_by_role("button", name="Delete subscription").click()
        assert "/delete" not in page.url  # the browser asks for the confirmation first
        page.get_by_label("Yes, delete it and its delivery log").check()
        page.get_by_role("button", name="Delete subscription").click()
        page.wait_for_load_state()
        assert "Deleted whsub_" in page.inner_text("main")
        assert "No subscriptions yet." in page.inner_text("main")
    with session_factory() as session:
        replays = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "webhook.replay").order_by(AuditEntry.pk)
        ).all()
        assert [r.actor for r in replays] == [email("admin")] * 2
        assert "delivery" in replays[0].details and "since" in replays[1].details
        actions = set(session.scalars(select(AuditEntry.action)))
        assert {"webhook.create", "webhook.delete"} <= actions
    context.close()


def test_bundle_upload_problems_then_import(
    browser: Any,
    live_server: str,
    api: ApiClient,
    world: World,
    staff: Staff,
    shots: Shots,  # noqa: F811
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        document = export_bundle(session, "winter-health")
        before = session.scalar(
            select(HealthSystem.data_version).where(HealthSystem.slug == "winter-health")
        )
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _login(page, live_server, email("admin"), "/admin/bundle")
    shots.take(page, "bundle")

    bad = orjson.loads(dumps_document(document))
    bad["schedules"][0]["hours"][0]["closes"] = "07:00"
    bad["locations"][0]["zip"] = 37403
    bad["providers"][0]["name"] = "Dr <b>Bold</b>"
    page.get_by_label("Bundle file").set_input_files(
        {"name": "winter-health.json", "mimeType": "application/json", "buffer": orjson.dumps(bad)}
    )
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    text = alert.inner_text()
    assert "nothing was changed" in text
    assert "schedules[0].hours[0]" in text and "locations[0].zip" in text
    shots.take(page, "bundle-problems")

    good = orjson.loads(dumps_document(document))
    good["locations"][0]["name"] = "Winter Health <Downtown>"
    page.get_by_label("Bundle file").set_input_files(
        {"name": "winter-health.json", "mimeType": "application/json", "buffer": orjson.dumps(good)}
    )
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_load_state()
    status = page.locator("#imported").inner_text()
    assert f"winter-health updated (data version {before + 1})" in status
    assert "1 locations updated" in status
    shots.take(page, "bundle-imported")
    served = api.get(path("/locations/chattanooga-downtown"), params={"api_key": world.read})
    assert served.json()["data"]["attributes"]["name"] == "Winter Health <Downtown>"
    with session_factory() as session:
        imports = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "bundle.import")
        ).all()
        assert [(e.actor, e.details["data_version"]) for e in imports] == [
            (email("admin"), str(before + 1))
        ]
    context.close()


def test_other_roles_get_the_403_page(
    browser: Any,
    live_server: str,
    world: World,
    staff: Staff,
    shots: Shots,  # noqa: F811
) -> None:
    for role in ("scheduler", "viewer", "auditor"):
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        _login(page, live_server, email(role))
        nav = page.get_by_role("navigation", name="Main").inner_text()
        assert "Webhooks" not in nav and "Bundle upload" not in nav
        for target in ("/admin/webhooks", "/admin/bundle"):
            response = page.goto(live_server + target)
            assert response.status == 403, (role, target)
            assert page.get_by_role("heading", name="Not allowed").count() == 1
        if role != "scheduler":
            assert page.goto(live_server + "/admin/schedules").status == 403
        if role == "auditor":
            assert page.goto(live_server + "/admin/visits").status == 403
            shots.take(page, "forbidden-auditor")
        context.close()
