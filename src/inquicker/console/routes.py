"""The console's route table (mounted by app.py under /admin)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from inquicker.console.pages import Pages
from inquicker.console.schedule_pages import SchedulePages
from inquicker.console.web import HERE
from inquicker.settings import Settings


def console_routes(
    settings: Settings, sessions: sessionmaker[Session], clock: Callable[[], datetime]
) -> list[BaseRoute]:
    pages = Pages(settings, sessions, clock)
    schedules = SchedulePages(settings, sessions, clock)
    return [
        Route("/admin", pages.home, methods=["GET"]),
        Route("/admin/", pages.home, methods=["GET"]),
        Route("/admin/login", pages.login_page, methods=["GET"]),
        Route("/admin/login", pages.login_submit, methods=["POST"]),
        Route("/admin/logout", pages.logout, methods=["POST"]),
        Route("/admin/visits", pages.day, methods=["GET"]),
        Route("/admin/visits/{visit_id}", pages.visit, methods=["GET"]),
        Route("/admin/visits/{visit_id}/status", pages.visit_action, methods=["POST"]),
        Route("/admin/keys", pages.keys, methods=["GET", "POST"]),
        Route("/admin/keys/{key_id}/revoke", pages.revoke_key, methods=["POST"]),
        Route("/admin/audit", pages.audit_log, methods=["GET"]),
        Route("/admin/schedules", schedules.schedules, methods=["GET"]),
        Route("/admin/schedules/{schedule_id}", schedules.schedule, methods=["GET"]),
        Route("/admin/schedules/{schedule_id}/changes", schedules.change, methods=["POST"]),
        Route("/admin/schedules/{schedule_id}/explain", schedules.explain, methods=["GET"]),
        # Vendored assets only: the console loads nothing from another host.
        Mount("/admin/static", StaticFiles(directory=HERE / "static"), name="console-static"),
    ]
