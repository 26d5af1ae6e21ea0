"""Every console route (console.routes.PERMISSIONS) with every role, with another health
system's operator, without a session and without the CSRF token; HTML in what the new
pages show is escaped."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from httpx2 import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.booking.models import Visit
from inquicker.console.routes import PERMISSIONS
from inquicker.events.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from inquicker.operators import roles
from inquicker.operators.models import AuditEntry
from inquicker.tenancy.models import HealthSystem
from tests.booking_http.conftest import MakeApi
from tests.booking_http.helpers import ny
from tests.booking_http.world import CHEN_PC, Clock, World
from tests.console.helpers import CSRF, Targets, login, make_targets
from tests.operators.conftest import PASSWORD, ROLES, Staff, email

# The login pages and logout: tried by their own tests.
OPEN = {"GET /admin", "GET /admin/", "GET /admin/login", "POST /admin/login", "POST /admin/logout"}
# GETs first, so the POSTs that change things (a check-in, a deletion) come after them.
CHECKED = sorted(
    (entry for entry in PERMISSIONS if entry not in OPEN),
    key=lambda entry: (not entry.startswith("GET"), list(PERMISSIONS).index(entry)),
)


def _url(path: str, t: Targets) -> str:
    return (
        path.replace("{visit_id}", t.visit_id)
        .replace("{key_id}", t.key_id)
        .replace("{schedule_id}", CHEN_PC)
        .replace("{subscription_id}", t.subscription_id)
    )


def _form(path: str, t: Targets) -> dict[str, str]:
    """A valid form for the route (without its CSRF token)."""
    forms: dict[str, dict[str, str]] = {
        # Listed before the status change, so the visit is still booked: 14:00 is offered.
        "/admin/visits/{visit_id}/reschedule": {"at": ny(1, "14:00"), "date": "2026-12-01"},
        "/admin/visits/{visit_id}/status": {"status": "checked-in"},
        "/admin/keys": {"site": "winter-health.inquicker.com", "name": "k", "scope-read": "1"},
        "/admin/schedules/{schedule_id}/changes": {"kind": "settings", "capacity": "3"},
        "/admin/webhooks": {"url": "https://hooks.example.org/second"},
        "/admin/webhooks/{subscription_id}/replay": {"delivery": str(t.delivery_pk)},
        "/admin/webhooks/{subscription_id}/delete": {"confirm": "1"},
    }
    return forms.get(path, {})


def _send(api: Any, entry: str, t: Targets, csrf: str | None) -> Response:
    method, path = entry.split(" ", 1)
    url = _url(path, t)
    if method == "GET":
        return api.get(url, follow_redirects=False)  # type: ignore[no-any-return]
    form = _form(path, t)
    if csrf is not None:
        form["csrf"] = csrf
    files = {"bundle": ("winter-health.json", t.bundle, "application/json")}
    if path == "/admin/bundle":
        return api.post(url, data=form, files=files, follow_redirects=False)  # type: ignore[no-any-return]
    return api.post(url, data=form, follow_redirects=False)  # type: ignore[no-any-return]


@pytest.fixture
def targets(
    make_api: MakeApi,
    world: World,
    staff: Staff,
    engine: Engine,
    session_factory: sessionmaker[Session],
) -> Targets:
    return make_targets(make_api(), world, engine, session_factory)


def test_every_route_is_tried() -> None:
    assert {path.split(" ", 1)[1] for path in CHECKED} >= {
        "/admin/webhooks/{subscription_id}/replay",
        "/admin/bundle",
        "/admin/visits/{visit_id}/reschedule",
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_route_with_every_role(make_api: MakeApi, targets: Targets, role: str) -> None:
    api = make_api()
    csrf = login(api, email(role))
    for entry in CHECKED:
        response = _send(api, entry, targets, csrf)
        permission = PERMISSIONS[entry]
        if permission is None or roles.may(role, permission):
            assert response.status_code in (200, 303), (entry, response.text)
            if response.status_code == 303:
                assert not response.headers["location"].startswith("/admin/login"), entry
                assert "error=" not in response.headers["location"], (entry, response.headers)
        else:
            assert response.status_code == 403, (entry, response.status_code)
            assert "Not allowed" in response.text, entry


def test_another_health_systems_operator(
    make_api: MakeApi, targets: Targets, session_factory: sessionmaker[Session]
) -> None:
    api = make_api()
    csrf = login(api, "admin@elsewhere.example")
    theirs = (targets.visit_id, targets.key_id, targets.subscription_id, CHEN_PC)
    for entry in CHECKED:
        path = entry.split(" ", 1)[1]
        response = _send(api, entry, targets, csrf)
        if "{" in path or entry == "POST /admin/keys":
            # Another health system's ids (and site) look like unknown ones.
            assert response.status_code == 404, (entry, response.status_code)
        elif entry == "POST /admin/bundle":
            assert response.status_code == 422, entry
            assert "only your own health system" in response.text
        else:
            assert response.status_code == 200, (entry, response.status_code)
            assert not [t for t in theirs if t in response.text], entry
    with session_factory() as session:
        visit = session.scalars(select(Visit).where(Visit.visit_id == targets.visit_id)).one()
        assert visit.status == "booked"
        assert (
            session.scalar(
                select(HealthSystem.data_version).where(HealthSystem.slug == "winter-health")
            )
            == 1
        )
        delivery = session.get(WebhookDelivery, targets.delivery_pk)
        assert delivery is not None and delivery.attempts == 0
    day = api.get("/admin/visits?date=2026-12-01")
    assert targets.visit_id not in day.text and "0 visits" in day.text


def test_no_session_goes_to_login_and_no_csrf_is_refused(
    make_api: MakeApi, targets: Targets, session_factory: sessionmaker[Session]
) -> None:
    anonymous = make_api()
    for entry in CHECKED:
        response = _send(anonymous, entry, targets, None)
        assert response.status_code == 303, entry
        assert response.headers["location"].startswith("/admin/login?next="), entry
    api = make_api()
    login(api, email("admin"))
    for entry in [e for e in CHECKED if e.startswith("POST")] + ["POST /admin/logout"]:
        response = _send(api, entry, targets, "")
        assert response.status_code == 403, entry
        assert "Form expired" in response.text, entry
    with session_factory() as session:
        assert (
            session.scalar(select(WebhookSubscription.subscription_id)) == targets.subscription_id
        )
        visit = session.scalars(select(Visit).where(Visit.visit_id == targets.visit_id)).one()
        assert visit.status == "booked"
        actions = set(session.scalars(select(AuditEntry.action)))
        assert not actions & {"webhook.replay", "webhook.delete", "bundle.import", "key.create"}
    assert api.get("/admin/visits").status_code == 200  # still logged in


SCRIPT = "<script>alert(1)</script>"


def test_html_in_webhook_and_bundle_pages_is_escaped(
    make_api: MakeApi, targets: Targets, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        session.add(
            WebhookAttempt(
                delivery_pk=targets.delivery_pk,
                duration_ms=12,
                status_code=500,
                outcome="http-error",
                response_excerpt=SCRIPT + "x" * 2000,
            )
        )
    api = make_api()
    csrf = login(api, email("admin"))
    created = api.post(
        "/admin/webhooks", data={"csrf": csrf, "url": f"https://hooks.example.org/{SCRIPT}"}
    )
    assert created.status_code == 200 and "Signing secret" in created.text
    assert SCRIPT not in created.text and "&lt;script&gt;" in created.text
    log = api.get(f"/admin/webhooks/{targets.subscription_id}")
    assert log.status_code == 200
    assert SCRIPT not in log.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in log.text
    assert "x" * 999 in log.text and "x" * 1000 not in log.text  # the first 1 KiB only
    assert "whsec_" not in log.text  # the secret is never shown again
    refused = api.post("/admin/webhooks", data={"csrf": csrf, "url": f"ftp://{SCRIPT}"})
    assert refused.status_code == 422 and SCRIPT not in refused.text
    bad = {"format": "inquicker-bundle/1", "health_system": {"id": "winter-health", "name": 5}}
    bad["regions"] = [{"id": SCRIPT, "name": SCRIPT}]
    response = api.post(
        "/admin/bundle",
        data={"csrf": csrf},
        files={"bundle": (f"{SCRIPT}.json", orjson.dumps(bad), "application/json")},
    )
    assert response.status_code == 422
    assert SCRIPT not in response.text and "&lt;script&gt;" in response.text
    assert "<code>health_system.name</code>" in response.text


def test_delete_needs_the_confirmation_and_replay_a_time(
    make_api: MakeApi, targets: Targets, session_factory: sessionmaker[Session]
) -> None:
    api = make_api()
    csrf = login(api, email("admin"))
    url = f"/admin/webhooks/{targets.subscription_id}"
    kept = api.post(url + "/delete", data={"csrf": csrf}, follow_redirects=False)
    assert "error=" in kept.headers["location"]
    assert api.get(url).status_code == 200
    bad = api.post(
        url + "/replay", data={"csrf": csrf, "since": "yesterday"}, follow_redirects=False
    )
    assert "error=" in bad.headers["location"]
    other = api.post(url + "/replay", data={"csrf": csrf, "delivery": "999999"})
    assert other.status_code == 404
    since = api.post(
        url + "/replay", data={"csrf": csrf, "since": "2026-11-01T00:00"}, follow_redirects=False
    )
    page = api.get(since.headers["location"])
    assert "1 delivery since 2026-11-01 00:00 UTC will be sent again." in page.text
    gone = api.post(url + "/delete", data={"csrf": csrf, "confirm": "1"}, follow_redirects=False)
    assert gone.headers["location"].startswith("/admin/webhooks?done=")
    assert api.get(url).status_code == 404
    with session_factory() as session:
        assert session.scalar(select(WebhookSubscription.pk)) is None


def test_wrong_password_lockout_and_expired_session(
    make_api: MakeApi, world: World, staff: Staff, clock: Clock
) -> None:
    api = make_api()

    def attempt(password: str) -> Response:
        page = api.get("/admin/login")
        token = CSRF.search(page.text)
        assert token is not None
        form = {"csrf": token.group(1), "email": email("viewer"), "password": password}
        return api.post("/admin/login", data=form, follow_redirects=False)  # type: ignore[no-any-return]

    wrong = attempt("not the password")
    assert wrong.status_code == 401 and "Wrong e-mail, password or code." in wrong.text
    for _ in range(9):
        attempt("not the password")
    locked = attempt(PASSWORD)  # right, but locked
    assert locked.status_code == 401 and "locked for 15 minutes" in locked.text
    clock.advance(minutes=16)
    assert attempt(PASSWORD).status_code == 303
    assert api.get("/admin/visits").status_code == 200
    clock.advance(hours=12, minutes=1)  # sessions last 12 hours
    expired = api.get("/admin/visits", follow_redirects=False)
    assert expired.status_code == 303
    assert expired.headers["location"] == "/admin/login?next=/admin/visits"
