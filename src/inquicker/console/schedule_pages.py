"""Console schedule pages: the list, a schedule with its forms, the change preview with a
keep/cancel decision per conflicting visit, and the availability explanation of a day.

Every form goes through the operator API's parser and scheduling.service, so the console
and the API refuse and save exactly the same changes.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from inquicker.availability.explain import Seats, explain_day, local_day, render
from inquicker.availability.repository import ALL_DATES, load_schedules, seats_by_kind
from inquicker.availability.zones import DAY
from inquicker.console import schedule_forms
from inquicker.console.pages import Pages
from inquicker.console.web import NotFoundError
from inquicker.operators import roles
from inquicker.operators.auth import OperatorPrincipal
from inquicker.operators.schedules_api import conflict_meta
from inquicker.scheduling import service
from inquicker.scheduling.changes import InvalidChangeError, Problem, parse

# What each explain reason means to clinic staff (SPEC section 12b codes).
REASONS = {
    None: "Offered",
    "closed": "Closed (outside weekly hours)",
    "exception": "Closed by a date exception",
    "blocked": "Blocked time",
    "before-lead-time": "Too soon (lead time)",
    "after-horizon": "Too far ahead (horizon)",
    "full": "Full (booked)",
    "held": "Held by a partner's visit token",
    "duration-overruns-hours": "Appointment would run past closing",
    "nonexistent-local-time": "Does not exist (clock change)",
}


# The change's parts as the preview page names them.
CHANGES = {
    "weekly-hours": "new weekly hours",
    "add-exceptions": "a date exception",
    "remove-exceptions": "removing a date exception",
    "add-blocks": "blocking time",
    "remove-blocks": "removing a block",
    "capacity": "capacity",
    "slot-minutes": "slot length",
    "lead-minutes": "lead time",
}


class SchedulePages(Pages):
    async def schedules(self, request: Request) -> Response:
        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.require(me, roles.MANAGE_SCHEDULES)
            rows = service.schedules(session, self.caller(request, me))
            return self.render(request, "schedules.html", principal=me, rows=rows)

        return await self.run(request, page)

    async def schedule(self, request: Request) -> Response:
        schedule_id = request.path_params["schedule_id"]

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.require(me, roles.MANAGE_SCHEDULES)
            return self._schedule_page(request, session, me, schedule_id)

        return await self.run(request, page)

    def _schedule_page(
        self,
        request: Request,
        session: Session,
        me: OperatorPrincipal,
        schedule_id: str,
        problems: list[Problem] | None = None,
        status: int = 200,
    ) -> Response:
        state = service.show(session, self.caller(request, me), schedule_id)
        if state is None:
            raise NotFoundError(schedule_id)
        return self.render(
            request,
            "schedule.html",
            status,
            principal=me,
            s=state,
            weekdays=schedule_forms.WEEKDAYS,
            weekly=schedule_forms.weekly_text(state.weekly),
            problems=problems or [],
            blocks=[
                (b, _local(b.starts_at, state.time_zone), _local(b.ends_at, state.time_zone))
                for b in state.blocks
            ],
            done=request.query_params.get("done"),
            today=self.clock().date().isoformat(),
        )

    async def change(self, request: Request) -> Response:
        """A form's change: previewed; saved at once when it conflicts with no visit, else
        shown with its conflicts until each has a decision."""
        schedule_id = request.path_params["schedule_id"]
        form = await request.form()

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.check_csrf(me, form)
            self.require(me, roles.MANAGE_SCHEDULES)
            caller = self.caller(request, me)
            state = service.show(session, caller, schedule_id)
            if state is None:
                raise NotFoundError(schedule_id)
            # A confirmed preview carries the change it previewed, exactly as parsed then.
            raw = form.get("change")
            attributes: Any = {}
            conflicts: list[Any] = []
            try:
                attributes = (
                    json.loads(str(raw))
                    if raw
                    else schedule_forms.attributes(form, state.time_zone)
                )
                change = parse(attributes)
                listed = [str(v) for v in form.getlist("listed")]
                decisions = service.parse_decisions(schedule_forms.decisions(form, listed))
                found = service.preview(session, caller, schedule_id, change)
                assert found is not None
                conflicts = list(found[1])
                if conflicts and not raw:
                    return self._preview(request, me, state, attributes, conflicts, [], 200)
                with session.begin_nested():
                    saved = service.save(session, caller, schedule_id, change, decisions)
            except (InvalidChangeError, ValueError) as exc:
                problems = (
                    exc.problems
                    if isinstance(exc, InvalidChangeError)
                    else [Problem(400, "invalid", "", "The form could not be read.")]
                )
                if raw:
                    return self._preview(request, me, state, attributes, conflicts, problems, 422)
                return self._schedule_page(request, session, me, schedule_id, problems, 422)
            except service.DecisionsRequiredError as exc:
                missing = [
                    Problem(
                        422,
                        "decision-required",
                        "",
                        "Choose keep or cancel for every visit listed.",
                    )
                ]
                return self._preview(request, me, state, attributes, exc.conflicts, missing, 422)
            assert saved is not None
            done = f"Saved. Cancelled {len(saved.cancelled)}, kept {len(saved.kept)} as overbooked."
            return RedirectResponse(
                f"/admin/schedules/{schedule_id}?done={_q(done)}", status_code=303
            )

        return await self.run(request, page)

    def _preview(
        self,
        request: Request,
        me: OperatorPrincipal,
        state: Any,
        attributes: Any,
        conflicts: list[Any],
        problems: list[Problem],
        status: int,
    ) -> Response:
        return self.render(
            request,
            "schedule_preview.html",
            status,
            principal=me,
            s=state,
            change=json.dumps(attributes),
            changed=", ".join(
                CHANGES.get(name, name)
                for name in (parse(attributes).changed() if not problems else [])
            ),
            conflicts=[conflict_meta(c, state.time_zone) for c in conflicts],
            problems=problems,
        )

    async def explain(self, request: Request) -> Response:
        schedule_id = request.path_params["schedule_id"]
        raw = request.query_params.get("date", "")

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.require(me, roles.MANAGE_SCHEDULES)
            found = load_schedules(session, me.health_system_pks, [schedule_id], *ALL_DATES)
            schedule = found.get(schedule_id)
            if schedule is None:
                raise NotFoundError(schedule_id)
            try:
                on = date.fromisoformat(raw) if len(raw) == 10 else None
            except ValueError:
                on = None
            problem = None
            if on is None or not 1900 <= on.year <= 2200:
                problem = "Give a date as YYYY-MM-DD." if raw else None
                on = self.clock().date()
            state = service.show(session, self.caller(request, me), schedule_id)
            rules = schedule.rules
            offered = schedule.default_type()
            duration = offered.duration_minutes if offered else rules.slot_minutes
            # The same cells and seats the explain endpoint reads (availability/explain).
            day = local_day(on)
            first, last = (day - 1) * DAY, (day + 2) * DAY + duration * 60
            now = self.clock()
            booked, held = seats_by_kind(session, schedule.pk, first, last, int(now.timestamp()))
            grid = render(
                explain_day(rules, duration, on, Seats(booked, held), now), on, rules.time_zone
            )
            # Closed hours of the night say little: show from the first to the last open time.
            open_rows = [i for i, g in enumerate(grid) if g["reason"] != "closed"]
            shown = grid[open_rows[0] : open_rows[-1] + 1] if open_rows else []
            return self.render(
                request,
                "explain.html",
                400 if problem else 200,
                principal=me,
                schedule_id=schedule_id,
                name=state.name if state else schedule_id,
                on=on,
                prev=(on - timedelta(days=1)).isoformat(),
                next=(on + timedelta(days=1)).isoformat(),
                rows=shown,
                reasons=REASONS,
                type_name=offered.name if offered else None,
                duration=duration,
                problem=problem,
            )

        return await self.run(request, page)


def _local(moment: datetime, zone: str) -> str:
    """An instant on the schedule's clock, as staff entered it: "Thu 3 Dec 2026, 13:00"."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def _q(text: str) -> str:
    return quote(text, safe="")
