"""The console's route table (mounted by app.py under /admin), with the permission each
page needs: tests/console/test_console_routes.py tries every entry with every role and with
another health system's operator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from inquicker.console.bundle_pages import BundlePages
from inquicker.console.pages import Pages
from inquicker.console.reschedule_pages import ReschedulePages
from inquicker.console.schedule_pages import SchedulePages
from inquicker.console.web import HERE
from inquicker.console.webhook_pages import WebhookPages
from inquicker.operators import roles
from inquicker.settings import Settings

# "METHOD path" -> the permission the page checks (None: any logged-in operator, or the
# login pages themselves). Every route below must be listed here.
PERMISSIONS: Final[dict[str, str | None]] = {
    "GET /admin": None,
    "GET /admin/": None,
    "GET /admin/login": None,
    "POST /admin/login": None,
    "POST /admin/logout": None,
    "GET /admin/visits": roles.READ_VISITS,
    "GET /admin/visits/{visit_id}": roles.READ_VISITS,
    "GET /admin/visits/{visit_id}/reschedule": roles.CHANGE_VISITS,
    "POST /admin/visits/{visit_id}/reschedule": roles.CHANGE_VISITS,
    "POST /admin/visits/{visit_id}/status": roles.CHANGE_VISITS,
    "GET /admin/keys": roles.MANAGE_KEYS,
    "POST /admin/keys": roles.MANAGE_KEYS,
    "POST /admin/keys/{key_id}/revoke": roles.MANAGE_KEYS,
    "GET /admin/audit": roles.READ_AUDIT,
    "GET /admin/schedules": roles.MANAGE_SCHEDULES,
    "GET /admin/schedules/{schedule_id}": roles.MANAGE_SCHEDULES,
    "POST /admin/schedules/{schedule_id}/changes": roles.MANAGE_SCHEDULES,
    "GET /admin/schedules/{schedule_id}/explain": roles.MANAGE_SCHEDULES,
    "GET /admin/webhooks": roles.MANAGE_WEBHOOKS,
    "POST /admin/webhooks": roles.MANAGE_WEBHOOKS,
    "GET /admin/webhooks/{subscription_id}": roles.MANAGE_WEBHOOKS,
    "POST /admin/webhooks/{subscription_id}/replay": roles.MANAGE_WEBHOOKS,
    "POST /admin/webhooks/{subscription_id}/delete": roles.MANAGE_WEBHOOKS,
    "GET /admin/bundle": roles.IMPORT_BUNDLES,
    "POST /admin/bundle": roles.IMPORT_BUNDLES,
}


def console_routes(
    settings: Settings, sessions: sessionmaker[Session], clock: Callable[[], datetime]
) -> list[BaseRoute]:
    pages = Pages(settings, sessions, clock)
    schedules = SchedulePages(settings, sessions, clock)
    webhooks = WebhookPages(settings, sessions, clock)
    bundles = BundlePages(settings, sessions, clock)
    moves = ReschedulePages(settings, sessions, clock)
    routes: list[BaseRoute] = [
        Route("/admin", pages.home, methods=["GET"]),
        Route("/admin/", pages.home, methods=["GET"]),
        Route("/admin/login", pages.login_page, methods=["GET"]),
        Route("/admin/login", pages.login_submit, methods=["POST"]),
        Route("/admin/logout", pages.logout, methods=["POST"]),
        Route("/admin/visits", pages.day, methods=["GET"]),
        Route("/admin/visits/{visit_id}", pages.visit, methods=["GET"]),
        Route("/admin/visits/{visit_id}/reschedule", moves.reschedule_page, methods=["GET"]),
        Route("/admin/visits/{visit_id}/reschedule", moves.reschedule_submit, methods=["POST"]),
        Route("/admin/visits/{visit_id}/status", pages.visit_action, methods=["POST"]),
        Route("/admin/keys", pages.keys, methods=["GET", "POST"]),
        Route("/admin/keys/{key_id}/revoke", pages.revoke_key, methods=["POST"]),
        Route("/admin/audit", pages.audit_log, methods=["GET"]),
        Route("/admin/schedules", schedules.schedules, methods=["GET"]),
        Route("/admin/schedules/{schedule_id}", schedules.schedule, methods=["GET"]),
        Route("/admin/schedules/{schedule_id}/changes", schedules.change, methods=["POST"]),
        Route("/admin/schedules/{schedule_id}/explain", schedules.explain, methods=["GET"]),
        Route("/admin/webhooks", webhooks.subscriptions, methods=["GET", "POST"]),
        Route("/admin/webhooks/{subscription_id}", webhooks.subscription, methods=["GET"]),
        Route("/admin/webhooks/{subscription_id}/replay", webhooks.replay, methods=["POST"]),
        Route("/admin/webhooks/{subscription_id}/delete", webhooks.delete, methods=["POST"]),
        Route("/admin/bundle", bundles.bundle, methods=["GET", "POST"]),
    ]
    listed = {
        f"{method} {route.path}"
        for route in routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert listed == set(PERMISSIONS), sorted(listed ^ set(PERMISSIONS))
    # Vendored assets only: the console loads nothing from another host.
    routes.append(
        Mount("/admin/static", StaticFiles(directory=HERE / "static"), name="console-static")
    )
    return routes
