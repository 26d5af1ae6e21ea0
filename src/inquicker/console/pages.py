"""Console pages: login/logout, visits (day view, search, detail, actions), API keys, audit.

Each page runs in one transaction with its audit entries (a patient-data view is recorded
in the transaction that read it).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from inquicker.availability.zones import format_times
from inquicker.booking.errors import BookingError
from inquicker.console import queries
from inquicker.console.rows import visit_rows
from inquicker.console.web import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    BadFormError,
    Console,
    ForbiddenError,
    NotFoundError,
)
from inquicker.db.engine import immediate_writes
from inquicker.jsonapi.errors import ApiError
from inquicker.operators import audit, repository, roles, visits
from inquicker.operators.api import client_address
from inquicker.operators.auth import (
    LoginOutcome,
    OperatorPrincipal,
    end_session,
    login,
    start_session,
)
from inquicker.tenancy import keys as api_keys

Page = Callable[[Session, OperatorPrincipal], Response]
# Visits a day view shows: a whole day of a busy location (the list says when there are more).
DAY_LIMIT = 3000
ACTIONS = {
    "checked-in": "Check in",
    "no-show": "No-show",
    "completed": "Complete",
    "cancelled": "Cancel visit",
}


class Pages(Console):
    async def run(self, request: Request, page: Page) -> Response:
        return await run_in_threadpool(self._run, request, page)

    def _run(self, request: Request, page: Page) -> Response:
        principal = None
        try:
            with immediate_writes(), self.sessions() as session, session.begin():
                principal = self.principal(session, request)
                if principal is None:
                    return self.to_login(request)
                return page(session, principal)
        except ForbiddenError:
            assert principal is not None
            return self.forbidden(request, principal)
        except NotFoundError:
            return self.not_found(request, principal)
        except BadFormError:
            return self.bad_form(request, principal)

    # --- login ----------------------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = self.render(
            request, "login.html", csrf=token, next=_next(request), need_code=False
        )
        self._login_cookie(response, token)
        return response

    def _login_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
            path="/admin",
        )

    async def login_submit(self, request: Request) -> Response:
        form = await request.form()
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        sent = str(form.get("csrf", ""))
        if not cookie or not secrets.compare_digest(cookie, sent):
            return self.bad_form(request, None)
        email, password = str(form.get("email", "")), str(form.get("password", ""))
        code = str(form.get("code", "")) or None
        client = client_address(request, self.settings)

        def check() -> tuple[LoginOutcome, str | None]:
            with immediate_writes(), self.sessions() as session, session.begin():
                outcome, operator = login(session, email, password, code, self.clock(), client)
                raw = start_session(session, operator, self.clock()) if operator else None
                return outcome, raw

        outcome, raw = await run_in_threadpool(check)
        if raw is not None:
            response = RedirectResponse(_next(request, form.get("next")), status_code=303)
            response.set_cookie(
                COOKIE,
                raw,
                httponly=True,
                samesite="lax",
                secure=self.secure_cookies,
                path="/admin",
            )
            response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin")
            return response
        message = {
            LoginOutcome.LOCKED: "Too many failed attempts: this account is locked for 15 minutes.",
            LoginOutcome.NEED_CODE: "Enter the 6-digit code from your authenticator app.",
        }.get(outcome, "Wrong e-mail, password or code.")
        token = secrets.token_urlsafe(24)
        page: Response = self.render(
            request,
            "login.html",
            401 if outcome != LoginOutcome.NEED_CODE else 200,
            csrf=token,
            next=_next(request, form.get("next")),
            error=message,
            email=email,
            need_code=outcome == LoginOutcome.NEED_CODE,
        )
        self._login_cookie(page, token)
        return page

    async def logout(self, request: Request) -> Response:
        form = await request.form()

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.check_csrf(me, form)
            end_session(session, request.cookies.get(COOKIE, ""), self.clock())
            audit.write(
                session.connection(),
                self.clock(),
                audit.Record(me.email, "logout", client=client_address(request, self.settings)),
            )
            response = RedirectResponse("/admin/login", status_code=303)
            response.delete_cookie(COOKIE, path="/admin")
            return response

        return await self.run(request, page)

    # --- home, visits ------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        def page(session: Session, me: OperatorPrincipal) -> Response:
            target = "/admin/visits" if roles.may(me.role, roles.READ_VISITS) else "/admin/audit"
            return RedirectResponse(target, status_code=303)

        return await self.run(request, page)

    async def day(self, request: Request) -> Response:
        q = request.query_params

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.require(me, roles.READ_VISITS)
            caller = self.caller(request, me)
            try:
                day = date.fromisoformat(q.get("date", ""))
            except ValueError:
                day = self.clock().date()
            location, provider = q.get("location") or None, q.get("provider") or None
            search = (q.get("q") or "").strip()
            number = int(search) if search.isdigit() and len(search) < 10 else None
            filters = repository.VisitFilters(
                health_system_pks=me.health_system_pks,
                date_from=None if number is not None else day,
                date_to=None if number is not None else day,
                location=location,
                provider=provider,
                confirmation_number=number,
            )
            by_name = bool(search) and number is None
            if by_name and not roles.may(me.role, roles.READ_PATIENT_DATA):
                raise ForbiddenError(roles.READ_PATIENT_DATA)
            rows, total = repository.visits_page(
                session.connection(),
                filters,
                [("appointment-at", False)],
                0,
                DAY_LIMIT,
                with_patient=by_name,
            )
            names: dict[str, str] = {}
            if by_name:
                # Patient names are encrypted at rest: matched here, and each match shown
                # is an audited read of patient data.
                wanted = search.lower()
                matched = []
                for row in rows:
                    patient = visits.patient_of(row, self.settings)
                    name = f"{patient.get('first-name', '')} {patient.get('last-name', '')}"
                    if wanted in name.lower():
                        matched.append(row)
                        names[row.visit_id] = name.strip()
                rows = matched
                audit.write(
                    session.connection(),
                    caller.now,
                    *(caller.record("visit.read", r, True, via="search") for r in rows),
                )
            # A column that would say the same on every row (the chosen location or
            # provider) is left out.
            columns = [
                name
                for name, chosen in (("provider", provider), ("location", location), ("type", None))
                if not chosen
            ]
            return self.render(
                request,
                "visits.html",
                principal=me,
                rows=rows,
                table_rows=visit_rows(
                    rows,
                    _local_times(rows),
                    names,
                    with_date=bool(search),
                    columns=columns,
                ),
                columns=columns,
                total=total,
                limit=DAY_LIMIT,
                day=day,
                location=location,
                provider=provider,
                search=search,
                names=names,
                locations=queries.locations(session, me.health_system_pks),
                providers=queries.providers(session, me.health_system_pks),
            )

        return await self.run(request, page)

    async def visit(self, request: Request) -> Response:
        visit_id = request.path_params["visit_id"]

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.require(me, roles.READ_VISITS)
            row, patient = visits.read(session, self.caller(request, me), visit_id)
            if row is None:
                raise NotFoundError(visit_id)
            events = repository.visit_events(session.connection(), row.pk)
            return self.render(
                request,
                "visit.html",
                principal=me,
                row=row,
                patient=patient,
                view=visits.attributes(row, None),
                events=events,
                actions=ACTIONS,
                done=request.query_params.get("done"),
                error=request.query_params.get("error"),
            )

        return await self.run(request, page)

    async def visit_action(self, request: Request) -> Response:
        visit_id = request.path_params["visit_id"]
        form = await request.form()

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.check_csrf(me, form)
            self.require(me, roles.CHANGE_VISITS)
            status = str(form.get("status", ""))
            change: dict[str, Any] = {"status": status}
            reason = str(form.get("reason", "")).strip()
            if status == "cancelled" and reason:
                change["cancellation-reason"] = reason[:500]
            base = f"{request.url.scheme}://{request.url.netloc}/admin/api"
            where = f"/admin/visits/{visit_id}"
            try:
                with session.begin_nested():
                    row = visits.change(
                        session, self.caller(request, me), visit_id, base, change, {}, {}
                    )
            except (BookingError, ApiError) as exc:
                detail = exc.errors[0].detail if isinstance(exc, ApiError) else str(exc)
                return RedirectResponse(f"{where}?error={_q(detail or 'refused')}", 303)
            if row is None:
                raise NotFoundError(visit_id)
            return RedirectResponse(f"{where}?done={_q(status)}", status_code=303)

        return await self.run(request, page)

    # --- keys, audit -------------------------------------------------------------------------

    async def keys(self, request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.require(me, roles.MANAGE_KEYS)
            sites = queries.sites(session, me.health_system_pks)
            issued = None
            if form is not None:
                self.check_csrf(me, form)
                site = next((s for s in sites if s.hostname == form.get("site")), None)
                if site is None:
                    raise NotFoundError("site")
                scopes = tuple(s for s in ("read", "book") if form.get(f"scope-{s}"))
                name = str(form.get("name", "")).strip()[:200] or None
                issued = api_keys.create_key(session, site.hostname, name, scopes or ("read",))
                audit.write(
                    session.connection(),
                    self.clock(),
                    audit.Record(
                        me.email,
                        "key.create",
                        site.health_system_pk,
                        client=client_address(request, self.settings),
                        details={
                            "key": issued.key_id,
                            "site": site.hostname,
                            "scopes": ",".join(issued.scopes),
                        },
                    ),
                )
            rows = queries.keys(session, [s.pk for s in sites])
            return self.render(
                request,
                "keys.html",
                principal=me,
                sites=sites,
                keys=rows,
                issued=issued,
                revoked=request.query_params.get("revoked"),
            )

        return await self.run(request, page)

    async def revoke_key(self, request: Request) -> Response:
        key_id = request.path_params["key_id"]
        form = await request.form()

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.check_csrf(me, form)
            self.require(me, roles.MANAGE_KEYS)
            sites = {s.pk: s for s in queries.sites(session, me.health_system_pks)}
            site_pk = queries.key_site(session, key_id)
            if site_pk is None or site_pk not in sites:
                raise NotFoundError(key_id)
            api_keys.revoke_key(session, key_id)
            audit.write(
                session.connection(),
                self.clock(),
                audit.Record(
                    me.email,
                    "key.revoke",
                    sites[site_pk].health_system_pk,
                    client=client_address(request, self.settings),
                    details={"key": key_id},
                ),
            )
            return RedirectResponse(f"/admin/keys?revoked={_q(key_id)}", status_code=303)

        return await self.run(request, page)

    async def audit_log(self, request: Request) -> Response:
        q = request.query_params

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.require(me, roles.READ_AUDIT)
            since = None
            try:
                since = datetime.fromisoformat(q["since"]) if q.get("since") else None
            except ValueError:
                since = None
            if since is not None and since.tzinfo is None:
                since = since.replace(tzinfo=self.clock().tzinfo)
            filters = audit.Filters(
                since=since,
                actor=q.get("actor") or None,
                action=q.get("action") or None,
                visit_id=q.get("visit") or None,
                health_system_pks=None if me.superuser else me.health_system_pks,
            )
            entries = audit.entries(session.connection(), filters, limit=200)
            return self.render(request, "audit.html", principal=me, entries=entries, q=q)

        return await self.run(request, page)


def _local_times(rows: list[Any]) -> dict[str, str]:
    """Visit id -> its appointment time on its schedule's clock (ISO 8601 with offset),
    formatted a zone at a time: one call per zone, not one per visit."""
    by_zone: dict[str, list[Any]] = {}
    for row in rows:
        by_zone.setdefault(row.time_zone_name, []).append(row)
    out: dict[str, str] = {}
    for zone, group in by_zone.items():
        stamps = format_times([r.appointment_at for r in group], zone)
        out.update((r.visit_id, stamp) for r, stamp in zip(group, stamps, strict=True))
    return out


def _q(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _next(request: Request, value: Any = None) -> str:
    target = str(value or request.query_params.get("next") or "/admin/")
    # Only paths of the console: never an open redirect to another host.
    return target if target.startswith("/admin") and not target.startswith("//") else "/admin/"
