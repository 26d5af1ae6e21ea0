"""Creating a visit: token, body and rules checks, then one transaction that claims the seats.

Everything happens in the request's transaction: if anything fails, nothing is written and
the token stays unused. The database's unique keys (seat, token, confirmation number) make
a double booking impossible whatever the concurrency.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Insert
from sqlalchemy.orm import Session

from inquicker.availability.engine import covered_cells
from inquicker.availability.repository import BookableSchedule, cached_schedules
from inquicker.booking import lifecycle, management, phi, seats
from inquicker.booking.builtin_rules import RuleContext, builtin_violations
from inquicker.booking.errors import Problem, SlotUnavailable, Violations
from inquicker.booking.repository import (
    USE_TOKEN,
    BookedVisit,
    BookingFacts,
    TokenRecord,
    cached_booking_facts,
    insert_visit,
    token_by_jti,
    use_token,
    use_token_params,
)
from inquicker.booking.rules import Violation, check
from inquicker.booking.tokens import TokenClaims, refuse
from inquicker.booking.visit_input import BodyProblem, VisitInput
from inquicker.db.engine import WriteConflictError
from inquicker.events.outbox import (
    insert_after,
    record_event,
    visit_payload,
)
from inquicker.memo import Memo
from inquicker.tenancy.resolve import Tenant

# A booking's event, marking its visit token used in the same statement (PostgreSQL).
_EVENT_USING_TOKEN = insert_after(USE_TOKEN)


@dataclass(frozen=True)
class NewVisit:
    visit: BookedVisit
    schedule: BookableSchedule
    management_token: str


def token_record(session: Session, claims: TokenClaims, site_pk: int) -> TokenRecord:
    """The issued token behind valid claims; 401 if this site never issued it."""
    record = token_by_jti(session.connection(), claims.jti)
    if record is None or record.site_pk != site_pk:
        raise refuse("The visit token was not issued by this site.", "unknown-token")
    return record


def _attribute_problems(violations: list[Violation]) -> list[Problem]:
    return [
        Problem(v.code, "Invalid attribute", v.message, f"/data/attributes/{v.attribute}")
        for v in violations
    ]


def _match_token(visit: VisitInput, claims: TokenClaims, record: TokenRecord) -> list[Problem]:
    errors: list[Problem] = []
    if visit.schedule_id is not None and visit.schedule_id != claims.schedule_id:
        errors.append(
            Problem(
                "token-mismatch",
                "Does not match the visit token",
                "The schedule must be the one the visit token was issued for.",
                "/data/relationships/schedule/data/id",
            )
        )
    if (
        visit.appointment_at is not None
        and int(visit.appointment_at.timestamp()) != record.appointment_at
    ):
        errors.append(
            Problem(
                "token-mismatch",
                "Does not match the visit token",
                "appointment-at must be the instant the visit token was issued for.",
                "/data/attributes/appointment-at",
            )
        )
    return errors


def _rule_violations(
    visit: VisitInput, facts: BookingFacts, schedule: BookableSchedule, today: datetime
) -> list[Violation]:
    zone = ZoneInfo(schedule.rules.time_zone)
    appointment_date = (visit.appointment_at or today).astimezone(zone).date()
    local_today = today.astimezone(zone).date()
    context = RuleContext(
        offered_type_ids=tuple(t.id for t in schedule.types),
        age_limit_direction=facts.age_limit_direction,
        age_limit_threshold=facts.age_limit_threshold,
        appointment_date=appointment_date,
        today=local_today,
        features=facts.features,
        accepted_plan_ids=facts.accepted_plan_ids,
    )
    violations = [
        *builtin_violations(visit.attributes, context),
        *check(facts.settings.validations, visit.attributes, local_today),
    ]
    # A refused value was already reported by the parser; "blank" on top would be noise.
    return [v for v in violations if v.attribute not in visit.rejected]


def create_visit(
    session: Session,
    *,
    claims: TokenClaims,
    record: TokenRecord,
    visit: VisitInput,
    tenant: Tenant,
    memo: Memo,
    now: datetime,
    fingerprint: str,
    idempotency_key: str | None,
    phi_key: bytes | None,
    problems: Sequence[BodyProblem],
    secret_key: str,
) -> NewVisit:
    """Validate everything (reporting all problems together), then book in one transaction."""
    errors = [Problem(p.code, "Invalid attribute", p.message, p.pointer) for p in problems]
    errors += _match_token(visit, claims, record)
    facts = cached_booking_facts(session, memo, tenant, claims.schedule_id)
    schedule = cached_schedules(session, memo, tenant, [claims.schedule_id]).get(claims.schedule_id)
    if facts is None or schedule is None or not facts.active:
        raise SlotUnavailable("This schedule no longer takes bookings.")
    errors += _attribute_problems(_rule_violations(visit, facts, schedule, now))
    if errors:
        raise Violations(errors)

    type_id = visit.attributes.get("appointment-type")
    offered = schedule.type(type_id) if isinstance(type_id, str) else schedule.default_type()
    duration = offered.duration_minutes if offered else schedule.rules.slot_minutes
    cells = covered_cells(schedule.rules, record.appointment_at, duration)
    if cells is None:
        raise SlotUnavailable("That appointment type does not fit at this time.")
    epoch = int(now.timestamp())
    conn = session.connection()
    # Bookers of this schedule queue here; the token's used_at is re-read under its lock.
    # Used meanwhile by the same token (or gone): run again, to answer as a retry does.
    lock = seats.lock_for_booking(conn, schedule.pk, record.jti)
    if lock is None or lock.used_at is not None:
        raise WriteConflictError("token used concurrently")
    # The visit first: its confirmation number does not queue, and the claims can name it.
    visit_id = secrets.token_hex(16)
    salt = management.new_salt()
    token = management.derive(secret_key, visit_id, salt)
    type_pk = offered.pk if offered else None
    pk, number = insert_visit(
        conn,
        facts.health_system_pk,
        {
            "visit_id": visit_id,
            "health_system_pk": facts.health_system_pk,
            "site_pk": tenant.site_pk,
            "schedule_pk": schedule.pk,
            "appointment_at": record.appointment_at,
            "appointment_type_pk": type_pk,
            "token_jti": record.jti,
            "idempotency_key": idempotency_key,
            "fingerprint": fingerprint,
            "patient_data": phi.seal(visit.attributes, phi_key),
            "remote_visit_ids": "",
            "created_at": now,
            "status": lifecycle.BOOKED,
            "management_token_hash": management.digest(token),
            "management_salt": salt,
            "previous_appointment_at": None,
            "cancelled_at": None,
            "cancellation_reason": None,
            "sequence": 0,
            "updated_at": None,
        },
    )
    held: list[int] = []
    if lock.held:
        held = seats.convert_hold(
            conn, record.jti, schedule.pk, cells, epoch, visit_pk=pk, held=lock.held
        )
    missing = [c for c in cells if c not in held]
    if missing and not seats.claim(
        conn, schedule.pk, missing, schedule.rules.capacity, epoch, visit_pk=pk
    ):
        raise SlotUnavailable("That time is no longer available.")
    # The outbox: the event commits with the visit, or neither does. Built from the
    # memoised booking facts, and on PostgreSQL the token is marked used by the event's
    # INSERT itself (a CTE), so the outbox costs the booking no round trip of its own.
    payload = visit_payload(
        facts.event_facts,
        visit_id=visit_id,
        confirmation_number=number,
        status=lifecycle.BOOKED,
        appointment_at=record.appointment_at,
        previous_appointment_at=None,
        appointment_type=offered.id if offered else None,
    )
    event_type = lifecycle.EVENT_TYPES[lifecycle.BOOKED]
    statement: Insert | None = None
    change_params: dict[str, Any] | None = None
    if conn.dialect.name == "postgresql":
        # One round trip: the event's insert also marks the token used.
        statement, change_params = _EVENT_USING_TOKEN, use_token_params(record.jti, epoch, pk)
    else:
        use_token(conn, record.jti, epoch, pk)
    record_event(
        conn,
        event_type,
        health_system_pk=facts.health_system_pk,
        visit_pk=pk,
        payload=payload,
        now=now,
        statement=statement,
        change_params=change_params,
    )
    booked = BookedVisit(
        pk,
        visit_id,
        schedule.pk,
        record.appointment_at,
        type_pk,
        number,
        "",
        fingerprint,
        facts.health_system_pk,
        lifecycle.BOOKED,
        None,
        None,
        None,
        0,
        salt,
        None,
        now,
    )
    return NewVisit(booked, schedule, token)
