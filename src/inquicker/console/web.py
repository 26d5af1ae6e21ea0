"""Console plumbing: templates (autoescaped), the session cookie, CSRF, role checks."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from inquicker.operators import roles
from inquicker.operators.api import client_address
from inquicker.operators.auth import OperatorPrincipal, by_session
from inquicker.operators.visits import Caller
from inquicker.settings import Settings

HERE = Path(__file__).resolve().parent
COOKIE = "iq_session"
LOGIN_CSRF_COOKIE = "iq_login_csrf"
HTMX = "htmx-2.0.4.min.js"
# Pages never cached: they carry patient data and CSRF tokens.
NO_STORE = {"Cache-Control": "no-store"}


def when(stamp: str | None) -> str:
    """An ISO 8601 instant as people read it: "Tue 1 Dec 2026, 10:00" (its own offset)."""
    if not stamp:
        return ""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M}"


class ForbiddenError(Exception):
    """The operator's role lacks what the page needs (rendered as the 403 page)."""


class NotFoundError(Exception):
    """Not this operator's (another health system's ids look like unknown ones)."""


class BadFormError(Exception):
    """A form without the session's CSRF token: refused, never acted on."""


@dataclass
class Console:
    settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]

    def __post_init__(self) -> None:
        # Autoescape everything: every text a partner or patient typed is shown somewhere.
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        self.env.filters["when"] = when

    @property
    def secure_cookies(self) -> bool:
        return self.settings.env == "production"

    def render(
        self,
        request: Request,
        template: str,
        status: int = 200,
        principal: OperatorPrincipal | None = None,
        **values: Any,
    ) -> HTMLResponse:
        html = self.env.get_template(template).render(
            request=request,
            me=principal,
            may=(lambda p: roles.may(principal.role, p)) if principal else (lambda p: False),
            htmx=HTMX,
            **values,
        )
        return HTMLResponse(html, status_code=status, headers=NO_STORE)

    def principal(self, session: Session, request: Request) -> OperatorPrincipal | None:
        raw = request.cookies.get(COOKIE)
        return by_session(session, raw, self.clock()) if raw else None

    def caller(self, request: Request, principal: OperatorPrincipal) -> Caller:
        return Caller(
            principal, client_address(request, self.settings), self.clock(), self.settings
        )

    @staticmethod
    def require(principal: OperatorPrincipal, permission: str) -> None:
        if not roles.may(principal.role, permission):
            raise ForbiddenError(permission)

    @staticmethod
    def check_csrf(principal: OperatorPrincipal, form: Any) -> None:
        sent = str(form.get("csrf", ""))
        if not principal.csrf_token or not secrets.compare_digest(sent, principal.csrf_token):
            raise BadFormError()

    @staticmethod
    def to_login(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/admin/login?next={quote(target)}", status_code=303)

    def forbidden(self, request: Request, principal: OperatorPrincipal) -> Response:
        return self.render(
            request,
            "error.html",
            403,
            principal,
            title="Not allowed",
            message=f"Your role ({principal.role}) does not give access to this page.",
        )

    def not_found(self, request: Request, principal: OperatorPrincipal | None) -> Response:
        return self.render(
            request,
            "error.html",
            404,
            principal,
            title="Not found",
            message="There is nothing here, or it belongs to another health system.",
        )

    def bad_form(self, request: Request, principal: OperatorPrincipal | None) -> Response:
        return self.render(
            request,
            "error.html",
            403,
            principal,
            title="Form expired",
            message="The form was missing its security token. Reload the page and try again.",
        )
