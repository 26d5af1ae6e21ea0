"""Console: reschedule a visit to a time the availability engine offers (SPEC section 12,
"cancel / reschedule / check-in / no-show").

The page lists the times a partner would be offered that day on the visit's schedule, for
the visit's appointment type, as radio buttons in a plain form (no script needed). The
move goes through operators.visits.change -- the operator API's path: the same hold and
conversion (booking/reschedule.py), the same ``visit.reschedule`` audit entry -- inside a
savepoint, so a refused move (the time was taken meanwhile) changes nothing and the page
comes back with the day's times as they are now.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from inquicker.booking.errors import BookingError, SlotUnavailable
from inquicker.console.pages import Pages
from inquicker.console.web import NotFoundError
from inquicker.jsonapi.errors import ApiError
from inquicker.operators import roles, visits
from inquicker.operators.auth import OperatorPrincipal


def _day(raw: Any) -> date | None:
    text = str(raw or "").strip()
    try:
        on = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
    return on if on is not None and 1900 <= on.year <= 2200 else None


class ReschedulePages(Pages):
    def _picker(
        self,
        request: Request,
        session: Session,
        me: OperatorPrincipal,
        visit_id: str,
        on: date | None,
        *,
        status: int = 200,
        error: str | None = None,
        chosen: str | None = None,
    ) -> Response:
        options = visits.move_options(session, self.caller(request, me), visit_id, on)
        if options is None:
            raise NotFoundError(visit_id)
        row = options.row
        day = on or visits.local_day_of(row, self.clock())
        view = visits.attributes(row, None)
        return self.render(
            request,
            "reschedule.html",
            status,
            principal=me,
            row=row,
            view=view,
            options=options,
            day=day,
            prev=(day - timedelta(days=1)).isoformat(),
            next=(day + timedelta(days=1)).isoformat(),
            error=error,
            chosen=chosen,
        )

    async def reschedule_page(self, request: Request) -> Response:
        visit_id = request.path_params["visit_id"]
        raw = request.query_params.get("date")

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.require(me, roles.CHANGE_VISITS)
            on = _day(raw)
            problem = "Give a date as YYYY-MM-DD." if raw and on is None else None
            return self._picker(
                request, session, me, visit_id, on, status=400 if problem else 200, error=problem
            )

        return await self.run(request, page)

    async def reschedule_submit(self, request: Request) -> Response:
        visit_id = request.path_params["visit_id"]
        form = await request.form()

        def page(session: Session, me: OperatorPrincipal) -> Response:
            self.check_csrf(me, form)
            self.require(me, roles.CHANGE_VISITS)
            on = _day(form.get("date"))
            at = str(form.get("at", "")).strip()
            if not at:
                return self._picker(
                    request, session, me, visit_id, on, status=422, error="Pick a new time."
                )
            base = f"{request.url.scheme}://{request.url.netloc}/admin/api"
            try:
                with session.begin_nested():
                    row = visits.change(
                        session,
                        self.caller(request, me),
                        visit_id,
                        base,
                        {"appointment-at": at},
                        {},
                        {},
                    )
            except (BookingError, ApiError) as exc:
                # Taken meanwhile: 409, and the day's times as they are now.
                status = 409 if isinstance(exc, SlotUnavailable) else 422
                detail = exc.errors[0].detail if isinstance(exc, ApiError) else exc.detail
                return self._picker(
                    request,
                    session,
                    me,
                    visit_id,
                    on,
                    status=status,
                    error=detail or "The visit could not be moved.",
                    chosen=at,
                )
            if row is None:
                raise NotFoundError(visit_id)
            return RedirectResponse(
                f"/admin/visits/{quote(visit_id, safe='')}?done=rescheduled", status_code=303
            )

        return await self.run(request, page)
