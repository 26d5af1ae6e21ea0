"""Operators' visit use cases, shared by the JSON API and the console: read (audited, with
patient data only for roles allowed), list, and change (as an operator, audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from inquicker.availability.endpoint import times_on
from inquicker.availability.zones import format_times
from inquicker.booking import lifecycle, phi
from inquicker.booking.repository import BookedVisit, visit_by_id
from inquicker.booking.reschedule import target_schedule, type_for
from inquicker.booking.visit_management_endpoint import apply_change
from inquicker.memo import Memo
from inquicker.operators import audit, repository, roles
from inquicker.operators.auth import OperatorPrincipal
from inquicker.settings import Settings
from inquicker.tenancy.resolve import Tenant
from inquicker.web.context import RequestContext

# Booking attributes stored with the patient's fields; not patient data themselves.
_NOT_PATIENT = frozenset({"appointment-at", "appointment-type"})
# The audit action of each status an operator sets.
STATUS_ACTIONS = {
    lifecycle.CANCELLED: "visit.cancel",
    lifecycle.CHECKED_IN: "visit.check-in",
    lifecycle.NO_SHOW: "visit.no-show",
    lifecycle.COMPLETED: "visit.complete",
}


@dataclass(frozen=True)
class Caller:
    """Who asks, from where, and when."""

    principal: OperatorPrincipal
    client: str | None
    now: datetime
    settings: Settings
    # The app's memo for values derived from catalog data (schedule time zones); None: none.
    memo: Memo | None = None

    def may(self, permission: str) -> bool:
        return roles.may(self.principal.role, permission)

    def record(self, action: str, row: Any, patient: bool, **details: Any) -> audit.Record:
        return audit.Record(
            self.principal.email,
            action,
            row.health_system_pk,
            row.visit_id,
            patient,
            self.client,
            details,
        )


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def patient_of(row: Any, settings: Settings) -> dict[str, Any]:
    key = phi.decode_key(settings.phi_key) if settings.phi_key else None
    return _patient(row.patient_data, key)


def attributes(
    row: Any,
    patient: dict[str, Any] | None,
    appointment_at: str | None = None,
) -> dict[str, Any]:
    """A visit's attributes; ``appointment_at`` when the caller formatted it already (a
    page formats all its times per zone at once: ``appointment_times``)."""
    zone = row.time_zone_name
    previous = row.previous_appointment_at
    if appointment_at is None:
        appointment_at = format_times([row.appointment_at], zone)[0]
    out: dict[str, Any] = {
        "appointment-at": appointment_at,
        "appointment-type": row.appointment_type,
        "appointment-type-name": row.appointment_type_name,
        "confirmation-number": row.confirmation_number,
        "status": row.status,
        "previous-appointment-at": format_times([previous], zone)[0] if previous else None,
        "cancelled-at": _stamp(row.cancelled_at),
        "cancellation-reason": row.cancellation_reason,
        "created-at": _stamp(row.created_at),
        "location-name": row.location_name,
        "provider-name": row.provider_name,
        "schedule-name": row.schedule_name,
        "time-zone": zone,
    }
    if patient is not None:
        out["patient"] = patient
    return out


def appointment_times(rows: Sequence[Any]) -> list[str]:
    """The rows' appointment times, formatted with one ``format_times`` call per time zone
    (a page is in time order, so each call formats whole runs of one UTC offset)."""
    by_zone: dict[str, list[int]] = {}
    for row in rows:
        by_zone.setdefault(row.time_zone_name, []).append(row.appointment_at)
    texts = {zone: iter(format_times(times, zone)) for zone, times in by_zone.items()}
    return [next(texts[row.time_zone_name]) for row in rows]


def read(session: Session, caller: Caller, visit_id: str) -> tuple[Any, dict[str, Any] | None]:
    """One visit (None if not this operator's), patient data if allowed; audited."""
    shown = caller.may(roles.READ_PATIENT_DATA)
    conn = session.connection()
    row = repository.visit_row(
        conn, visit_id, caller.principal.health_system_pks, with_patient=shown
    )
    if row is None:
        return None, None
    patient = patient_of(row, caller.settings) if shown else None
    audit.write(conn, caller.now, caller.record("visit.read", row, shown))
    return row, patient


def zones(conn: Connection, caller: Caller) -> list[str]:
    """The time zones of the caller's health systems' schedules: memoised under their data
    versions (every import bumps them, and only imports create or change schedules' time
    zones), read from the database when the versions are unknown (console sessions)."""
    hs_pks = caller.principal.health_system_pks
    versions = caller.principal.data_versions
    if caller.memo is None or len(versions) != len(hs_pks):
        return repository.time_zones(conn, hs_pks)
    key = ("operator-time-zones", hs_pks, versions)
    found: list[str] = caller.memo.once(key, lambda: repository.time_zones(conn, hs_pks))
    return found


def page(
    session: Session,
    caller: Caller,
    filters: repository.VisitFilters,
    sort: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
) -> tuple[list[tuple[Any, dict[str, Any] | None]], int]:
    """A page of visits; every row shown with patient data leaves its audit entry."""
    shown = caller.may(roles.READ_PATIENT_DATA)
    conn = session.connection()
    if filters.zones is None and (filters.date_from or filters.date_to):
        filters = replace(filters, zones=zones(conn, caller))
    rows, total = repository.visits_page(conn, filters, sort, offset, limit, with_patient=shown)
    if not shown:
        return [(row, None) for row in rows], total
    key = phi.decode_key(caller.settings.phi_key) if caller.settings.phi_key else None
    out: list[tuple[Any, dict[str, Any] | None]] = [
        (row, _patient(row.patient_data, key)) for row in rows
    ]
    audit.write_reads(
        conn,
        caller.now,
        caller.principal.email,
        caller.client,
        [(row.health_system_pk, row.visit_id) for row in rows],
    )
    return out, total


def _patient(stored: str, key: bytes | None) -> dict[str, Any]:
    data = phi.unseal(stored, key)
    return {k: v for k, v in data.items() if k not in _NOT_PATIENT}


def _operators_visit(
    session: Session, caller: Caller, visit_id: str
) -> tuple[Any, BookedVisit] | None:
    """The visit's row (no patient data) and its booking record, when it is this
    operator's."""
    conn = session.connection()
    hs_pks = caller.principal.health_system_pks
    row = repository.visit_row(conn, visit_id, hs_pks, with_patient=False)
    visit = visit_by_id(conn, visit_id, tuple(hs_pks)) if row is not None else None
    return None if row is None or visit is None else (row, visit)


def _context(session: Session, caller: Caller, row: Any, base_url: str) -> RequestContext:
    """The booking context of a visit's own site: a reschedule's visit token was (or is)
    issued for it, and only its health system's schedules are in reach."""
    tenant = Tenant(row.site_pk, row.hostname, (row.health_system_pk,))
    # A memo of its own: this tenant carries no data versions, so a shared memo would keep
    # serving a schedule's rules from before an operator changed them.
    return RequestContext(session, tenant, base_url, caller.settings, caller.now, Memo())


@dataclass(frozen=True)
class MoveOptions:
    """What the console's reschedule page offers for one local date."""

    row: Any  # the visit (without patient data)
    type_name: str | None  # the appointment type a move keeps (booking/reschedule.type_for)
    duration_minutes: int
    times: list[str]  # offered starts that day, ISO 8601 with the schedule's offset
    bookable: bool  # False when the visit's schedule takes no bookings (retired)


def move_options(
    session: Session, caller: Caller, visit_id: str, day: date | None
) -> MoveOptions | None:
    """The times the visit could move to on its schedule on ``day`` (the visit's own local
    date when None, or today when that has passed); None when it is not this operator's.

    Reads no patient data (nothing to audit); the times are the partner API's answer for
    the schedule and the visit's appointment type.
    """
    found = _operators_visit(session, caller, visit_id)
    if found is None:
        return None
    row, visit = found
    ctx = _context(session, caller, row, "")
    schedule = target_schedule(ctx, visit, None)
    if schedule is None:
        return MoveOptions(row, row.appointment_type_name, 0, [], False)
    type_id = type_for(schedule, visit, None)
    offered = schedule.type(type_id) if type_id else schedule.default_type()
    duration = offered.duration_minutes if offered else schedule.rules.slot_minutes
    on = day if day is not None else local_day_of(row, caller.now)
    times = times_on(ctx, schedule, offered.id if offered else None, on)
    return MoveOptions(row, offered.name if offered else None, duration, times, True)


def local_day_of(row: Any, now: datetime) -> date:
    """The visit's local date, or the schedule's today when the visit is in the past."""
    zone = ZoneInfo(row.time_zone_name)
    visit_day = datetime.fromtimestamp(row.appointment_at, zone).date()
    return max(visit_day, now.astimezone(zone).date())


def change(
    session: Session,
    caller: Caller,
    visit_id: str,
    base_url: str,
    attributes_: dict[str, Any],
    relationships: dict[str, Any],
    meta: dict[str, Any],
) -> Any | None:
    """Apply a visits PATCH document as an operator (no cancellation cutoff); audited.
    The visit's row afterwards, or None when it is not this operator's."""
    found = _operators_visit(session, caller, visit_id)
    if found is None:
        return None
    row, visit = found
    conn, hs_pks = session.connection(), caller.principal.health_system_pks
    ctx = _context(session, caller, row, base_url)
    changed = apply_change(ctx, visit, attributes_, relationships, meta, operator=True)
    after: Any = repository.visit_row(conn, visit_id, hs_pks, with_patient=False)
    if (changed.appointment_at, changed.schedule_pk) != (visit.appointment_at, visit.schedule_pk):
        zone = after.time_zone_name
        action, details = (
            "visit.reschedule",
            {
                "schedule": after.schedule,
                "from": format_times([visit.appointment_at], zone)[0],
                "to": format_times([changed.appointment_at], zone)[0],
                # Partner-issued token, or the operator's own hold (booking/reschedule.py).
                "with-visit-token": meta.get("visit-token") is not None,
            },
        )
    elif changed.status != visit.status:
        action = STATUS_ACTIONS.get(changed.status, "visit.status")
        details = {"from": visit.status, "to": changed.status}
        if attributes_.get("cancellation-reason"):
            details["reason-given"] = True  # the reason's text may name the patient
    else:
        return after  # nothing changed (a repeated cancel): nothing to record
    audit.write(conn, caller.now, caller.record(action, after, False, **details))
    return after
