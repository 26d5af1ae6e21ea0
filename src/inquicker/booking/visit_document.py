"""The visits resource as partners see it: booking facts and status, never patient data."""

from __future__ import annotations

from typing import Any

from inquicker.availability.repository import BookableSchedule
from inquicker.availability.zones import format_times
from inquicker.booking.repository import BookedVisit
from inquicker.catalog.models import AppointmentType
from inquicker.catalog.schedule_models import Schedule
from inquicker.web.context import RequestContext

RELATED = {"schedule": "schedules", "location": "locations", "provider": "providers"}


def visit_resource(
    ctx: RequestContext,
    visit: BookedVisit,
    booked: BookableSchedule | None = None,
    *,
    management_token: str | None = None,
) -> dict[str, Any]:
    """The resource object; ``booked`` (the schedule just booked) spares a lookup, and
    ``management_token`` is shown only to the booking's own answer."""
    if booked is not None and booked.pk == visit.schedule_pk:
        time_zone = booked.rules.time_zone
        offered = next((t for t in booked.types if t.pk == visit.appointment_type_pk), None)
        type_id, type_name = (offered.id, offered.name) if offered else (None, None)
    else:
        time_zone = ctx.session.get_one(Schedule, visit.schedule_pk).time_zone_name
        row = (
            ctx.session.get(AppointmentType, visit.appointment_type_pk)
            if visit.appointment_type_pk
            else None
        )
        type_id, type_name = (row.slug, row.name) if row else (None, None)
    self_url = ctx.url("visits", visit.visit_id)
    previous = visit.previous_appointment_at
    resource: dict[str, Any] = {
        "type": "visits",
        "id": visit.visit_id,
        "links": {"self": self_url},
        "attributes": {
            "appointment-at": format_times([visit.appointment_at], time_zone)[0],
            "appointment-type": type_id,
            "appointment-type-name": type_name,
            "confirmation-number": visit.confirmation_number,
            "remote-visit-ids": visit.remote_visit_ids,
            "status": visit.status,
            "previous-appointment-at": (
                format_times([previous], time_zone)[0] if previous is not None else None
            ),
            "cancelled-at": (
                visit.cancelled_at.isoformat().replace("+00:00", "Z")
                if visit.cancelled_at
                else None
            ),
            "cancellation-reason": visit.cancellation_reason,
        },
        "relationships": {
            name: {
                "links": {
                    "self": f"{self_url}/relationships/{name}",
                    "related": f"{self_url}/{name}",
                }
            }
            for name in RELATED
        },
    }
    # The calendar's address is in meta: the JSON:API schema allows only "self" in a
    # resource's links. With the token in it, calendar apps (which cannot send headers)
    # can subscribe to it as it is.
    calendar = f"{self_url}/calendar.ics"
    resource["meta"] = {"calendar": calendar}
    if management_token is not None:
        resource["meta"] = {
            "calendar": f"{calendar}?token={management_token}",
            "management-token": management_token,
        }
    return resource


def visit_document(
    ctx: RequestContext,
    visit: BookedVisit,
    booked: BookableSchedule | None = None,
    *,
    management_token: str | None = None,
) -> dict[str, Any]:
    resource = visit_resource(ctx, visit, booked, management_token=management_token)
    return {"data": resource, "links": {"self": resource["links"]["self"]}}
