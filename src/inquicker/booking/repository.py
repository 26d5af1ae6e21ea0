"""Booking queries: what the visit rules need, tokens, visits and confirmation numbers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    cast,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import REGCLASS
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from inquicker.booking.models import Visit, VisitToken
from inquicker.booking.rules import effective_settings
from inquicker.booking.visit_settings import VisitSettings
from inquicker.catalog.models import AppointmentType, InsurancePlan, Location, Provider
from inquicker.catalog.schedule_models import Schedule, SchedulePlan
from inquicker.db.engine import WriteConflictError
from inquicker.events.outbox import ScheduleFacts
from inquicker.memo import Memo
from inquicker.tenancy.models import HealthSystem
from inquicker.tenancy.resolve import Tenant


@dataclass(frozen=True)
class BookingFacts:
    """What the built-in and configured rules need to know about a schedule."""

    schedule_pk: int
    schedule_id: str
    health_system_pk: int
    active: bool
    age_limit_direction: str | None
    age_limit_threshold: int | None
    features: frozenset[str]
    # The configured settings in force (the schedule's over its health system's), validated
    # once per load rather than once per booking: the facts are memoised per data version.
    settings: VisitSettings
    accepted_plan_ids: frozenset[str]
    # The catalog ids its events name, read with the rest (no statement of their own).
    event_facts: ScheduleFacts


# Built once, like the booking path's statements below (loaded per schedule when the memo
# has expired).
_FACTS = (
    select(
        Schedule.pk,
        Schedule.slug,
        Schedule.health_system_pk,
        Schedule.active,
        Schedule.age_limit_direction,
        Schedule.age_limit_threshold,
        Schedule.visit_settings,
        HealthSystem.features,
        HealthSystem.visit_settings.label("hs_settings"),
        HealthSystem.slug.label("health_system"),
        Schedule.time_zone_name,
        Location.slug.label("location"),
        Provider.slug.label("provider"),
    )
    .join(HealthSystem, HealthSystem.pk == Schedule.health_system_pk)
    .join(Location, Location.pk == Schedule.location_pk)
    .join(Provider, Provider.pk == Schedule.provider_pk)
    .where(
        Schedule.slug == bindparam("schedule_id"),
        Schedule.health_system_pk.in_(bindparam("hs_pks", expanding=True)),
    )
)
_ACCEPTED_PLANS = (
    select(InsurancePlan.slug)
    .join(SchedulePlan, SchedulePlan.plan_pk == InsurancePlan.pk)
    .where(SchedulePlan.schedule_pk == bindparam("schedule_pk"))
)


def booking_facts(
    session: Session, schedule_id: str, hs_pks: tuple[int, ...]
) -> BookingFacts | None:
    """The schedule (active or not) of this tenant with its health system's settings."""
    conn = session.connection()
    row = conn.execute(_FACTS, {"schedule_id": schedule_id, "hs_pks": list(hs_pks)}).one_or_none()
    if row is None:
        return None
    plans = conn.execute(_ACCEPTED_PLANS, {"schedule_pk": row.pk}).scalars()
    return BookingFacts(
        schedule_pk=row.pk,
        schedule_id=row.slug,
        health_system_pk=row.health_system_pk,
        active=row.active,
        age_limit_direction=row.age_limit_direction,
        age_limit_threshold=row.age_limit_threshold,
        features=frozenset(row.features or ()),
        settings=effective_settings(
            VisitSettings.model_validate(row.hs_settings or {}),
            VisitSettings.model_validate(row.visit_settings or {}),
        ),
        accepted_plan_ids=frozenset(plans),
        event_facts=ScheduleFacts(
            row.health_system_pk,
            row.health_system,
            row.slug,
            row.location,
            row.provider,
            row.time_zone_name,
        ),
    )


log = logging.getLogger("inquicker.booking")

VISITS: Table = Visit.__table__  # type: ignore[assignment]
TOKENS: Table = VisitToken.__table__  # type: ignore[assignment]
HEALTH_SYSTEMS: Table = HealthSystem.__table__  # type: ignore[assignment]

# PostgreSQL's answers when a confirmation sequence does not exist yet ("undefined table"),
# and when another process created it at the same moment.
UNDEFINED_TABLE = "42P01"
ALREADY_CREATED = frozenset({"42P07", "23505"})


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An issued visit token, as recorded."""

    jti: str
    site_pk: int
    schedule_pk: int
    appointment_at: int  # UTC epoch seconds
    used_at: int | None
    visit_pk: int | None
    appointment_type_pk: int | None = None


@dataclass(frozen=True, slots=True)
class BookedVisit:
    """What the API shows of a visit (never patient data), and what recognises a retry."""

    pk: int
    visit_id: str
    schedule_pk: int
    appointment_at: int  # UTC epoch seconds
    appointment_type_pk: int | None
    confirmation_number: int
    remote_visit_ids: str
    fingerprint: str
    health_system_pk: int
    status: str
    previous_appointment_at: int | None
    cancelled_at: datetime | None
    cancellation_reason: str | None
    sequence: int
    management_salt: str | None
    updated_at: datetime | None
    created_at: datetime


# The booking path's statements, built once (Core: no ORM unit of work on this hot path).
_TOKEN = select(
    TOKENS.c.jti,
    TOKENS.c.site_pk,
    TOKENS.c.schedule_pk,
    TOKENS.c.appointment_at,
    TOKENS.c.used_at,
    TOKENS.c.visit_pk,
    TOKENS.c.appointment_type_pk,
).where(TOKENS.c.jti == bindparam("jti"))
_USE_TOKEN = (
    update(TOKENS)
    .where(TOKENS.c.jti == bindparam("token"))
    .values(used_at=bindparam("when"), visit_pk=bindparam("new_visit_pk"))
)
# The same UPDATE as a data-modifying CTE (its parameters: use_token_params), for a
# statement that runs it along with its own work (the booking's event, PostgreSQL).
USE_TOKEN = _USE_TOKEN.cte("used_token")
_VISIT = select(
    VISITS.c.pk,
    VISITS.c.visit_id,
    VISITS.c.schedule_pk,
    VISITS.c.appointment_at,
    VISITS.c.appointment_type_pk,
    VISITS.c.confirmation_number,
    VISITS.c.remote_visit_ids,
    VISITS.c.fingerprint,
    VISITS.c.health_system_pk,
    VISITS.c.status,
    VISITS.c.previous_appointment_at,
    VISITS.c.cancelled_at,
    VISITS.c.cancellation_reason,
    VISITS.c.sequence,
    VISITS.c.management_salt,
    VISITS.c.updated_at,
    VISITS.c.created_at,
)
_VISIT_BY_PK = _VISIT.where(VISITS.c.pk == bindparam("pk"))
_VISIT_BY_ID = _VISIT.where(
    VISITS.c.visit_id == bindparam("visit_id"),
    VISITS.c.health_system_pk.in_(bindparam("hs_pks", expanding=True)),
)
_VISIT_BY_TOKEN = _VISIT.where(
    VISITS.c.visit_id == bindparam("visit_id"),
    VISITS.c.management_token_hash == bindparam("token_hash"),
    VISITS.c.health_system_pk.in_(bindparam("hs_pks", expanding=True)),
)
# Changes of one visit queue here (not rendered on SQLite: BEGIN IMMEDIATE serialises).
_LOCK_VISIT = _VISIT.where(VISITS.c.pk == bindparam("pk")).with_for_update()
_UPDATE_VISIT = update(VISITS).where(VISITS.c.pk == bindparam("visit_pk"))
_VISIT_BY_KEY = _VISIT.where(
    VISITS.c.site_pk == bindparam("site_pk"), VISITS.c.idempotency_key == bindparam("key")
)
# SQLite: the number comes from the counter row. PostgreSQL: from the health system's
# sequence, inside the insert (one round trip).
_INSERT_VISIT = insert(VISITS).returning(VISITS.c.pk)
_INSERT_NUMBERED_VISIT = (
    insert(VISITS)
    .values(confirmation_number=func.nextval(cast(bindparam("sequence_name"), REGCLASS)))
    .returning(VISITS.c.pk, VISITS.c.confirmation_number)
)
_COUNTER = (
    update(HEALTH_SYSTEMS)
    .where(HEALTH_SYSTEMS.c.pk == bindparam("hs_pk"))
    .values(last_confirmation_number=HEALTH_SYSTEMS.c.last_confirmation_number + 1)
    .returning(HEALTH_SYSTEMS.c.last_confirmation_number)
)
_LAST_NUMBER = select(
    func.greatest(
        select(HEALTH_SYSTEMS.c.last_confirmation_number)
        .where(HEALTH_SYSTEMS.c.pk == bindparam("hs_pk"))
        .scalar_subquery(),
        select(func.coalesce(func.max(VISITS.c.confirmation_number), 0))
        .where(VISITS.c.health_system_pk == bindparam("hs_pk"))
        .scalar_subquery(),
    )
)


def _booked(row: Any) -> BookedVisit:
    return BookedVisit(*row)


def token_by_jti(conn: Connection, jti: str) -> TokenRecord | None:
    row = conn.execute(_TOKEN, {"jti": jti}).first()
    return TokenRecord(*row) if row is not None else None


def use_token(conn: Connection, jti: str, when: int, visit_pk: int) -> None:
    """Mark the token used by the visit (the caller holds the token row's lock)."""
    conn.execute(_USE_TOKEN, use_token_params(jti, when, visit_pk))


def use_token_params(jti: str, when: int, visit_pk: int) -> dict[str, Any]:
    """The parameters of ``USE_TOKEN`` (for running it inside another statement)."""
    return {"token": jti, "when": when, "new_visit_pk": visit_pk}


def _sqlstate(exc: DBAPIError) -> str | None:
    state: str | None = getattr(exc.orig, "sqlstate", None)
    return state


def insert_visit(
    conn: Connection, health_system_pk: int, values: dict[str, Any]
) -> tuple[int, int]:
    """Insert the visit with the health system's next confirmation number: (pk, number).

    Numbers are unique and increasing per health system; a rolled-back booking leaves a gap
    at most. PostgreSQL: a per-health-system sequence, whose nextval never waits for other
    transactions (a counter row would serialise every booking of the health system until
    its commit), created on first use. SQLite: the health system's counter row (writers are
    serialised by BEGIN IMMEDIATE there anyway).
    """
    try:
        if conn.dialect.name != "postgresql":
            number: int = conn.execute(_COUNTER, {"hs_pk": health_system_pk}).scalar_one()
            pk: int = conn.execute(
                _INSERT_VISIT, {**values, "confirmation_number": number}
            ).scalar_one()
            return pk, number
        sequence = confirmation_sequence(health_system_pk)
        pk, number = conn.execute(
            _INSERT_NUMBERED_VISIT, {**values, "sequence_name": sequence}
        ).one()
        return pk, number
    except IntegrityError as exc:  # the same token or Idempotency-Key, concurrently
        raise WriteConflictError("visit inserted concurrently") from exc
    except DBAPIError as exc:
        if _sqlstate(exc) != UNDEFINED_TABLE:
            raise
        create_confirmation_sequence(conn.engine, health_system_pk)
        # This transaction is aborted by the error: the whole request runs again.
        raise WriteConflictError("confirmation number sequence created") from exc


def confirmation_sequence(health_system_pk: int) -> str:
    """The PostgreSQL sequence that numbers a health system's visits."""
    return f"confirmation_numbers_{int(health_system_pk)}"


def create_confirmation_sequence(engine: Engine, health_system_pk: int) -> None:
    """Create the health system's sequence, continuing after every number already given.

    Runs in its own autocommit connection (the request's transaction is aborted). Numbers
    given before the sequence existed came from ``health_systems.last_confirmation_number``
    (SQLite-era data, older releases) or are on visits: it starts after all of them.
    """
    name = confirmation_sequence(health_system_pk)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        last = conn.execute(_LAST_NUMBER, {"hs_pk": health_system_pk}).scalar_one()
        try:
            # DDL takes no bind parameters: both values are integers.
            conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {int(last) + 1}"))
        except DBAPIError as exc:  # two creators at once: one wins, which is all it takes
            if _sqlstate(exc) not in ALREADY_CREATED:
                raise
    log.info("created the confirmation number sequence %s", name)


def visit_by_pk(conn: Connection, pk: int) -> BookedVisit | None:
    row = conn.execute(_VISIT_BY_PK, {"pk": pk}).first()
    return _booked(row) if row is not None else None


def visit_by_id(conn: Connection, visit_id: str, hs_pks: tuple[int, ...]) -> BookedVisit | None:
    row = conn.execute(_VISIT_BY_ID, {"visit_id": visit_id, "hs_pks": list(hs_pks)}).first()
    return _booked(row) if row is not None else None


def visit_by_management_token(
    conn: Connection, visit_id: str, token_hash: str, hs_pks: tuple[int, ...]
) -> BookedVisit | None:
    """The visit, when the token is this visit's (on one of the tenant's health systems)."""
    row = conn.execute(
        _VISIT_BY_TOKEN, {"visit_id": visit_id, "token_hash": token_hash, "hs_pks": list(hs_pks)}
    ).first()
    return _booked(row) if row is not None else None


def lock_visit(conn: Connection, pk: int) -> BookedVisit:
    """The visit as last committed, locked until the transaction ends (PostgreSQL)."""
    return _booked(conn.execute(_LOCK_VISIT, {"pk": pk}).one())


def update_visit(conn: Connection, visit_pk: int, values: dict[str, Any]) -> None:
    conn.execute(_UPDATE_VISIT.values(**values), {"visit_pk": visit_pk})


def visit_by_idempotency_key(conn: Connection, site_pk: int, key: str) -> BookedVisit | None:
    row = conn.execute(_VISIT_BY_KEY, {"site_pk": site_pk, "key": key}).first()
    return _booked(row) if row is not None else None


def visit_related_ids(session: Session, schedule_pk: int) -> dict[str, str]:
    """API ids of a visit's schedule, location and provider."""
    row = session.execute(
        select(Schedule.slug, Location.slug.label("location"), Provider.slug.label("provider"))
        .join(Location, Location.pk == Schedule.location_pk)
        .join(Provider, Provider.pk == Schedule.provider_pk)
        .where(Schedule.pk == schedule_pk)
    ).one()
    return {"schedule": row.slug, "location": row.location, "provider": row.provider}


def cached_booking_facts(
    session: Session, memo: Memo, tenant: Tenant, schedule_id: str
) -> BookingFacts | None:
    """booking_facts, memoised under the tenant's data version (it is all catalog data)."""
    key = ("booking-facts", tenant.health_system_pks, tenant.data_versions, schedule_id)
    facts: BookingFacts | None = memo.get(key)
    if facts is None:
        facts = booking_facts(session, schedule_id, tenant.health_system_pks)
        if facts is not None:
            memo.put(key, facts)
    return facts


@dataclass(frozen=True, slots=True)
class CalendarRow:
    time_zone: str
    location_name: str
    address: str
    provider_name: str
    type_name: str | None
    duration_minutes: int


def calendar_row(conn: Connection, visit_pk: int) -> CalendarRow:
    """What a visit's calendar event shows: zone, place, provider, type and its length."""
    row = conn.execute(
        select(
            Schedule.time_zone_name,
            Schedule.slot_minutes,
            Location.name.label("location_name"),
            Location.address,
            Location.city,
            Location.state,
            Location.zip,
            Provider.name.label("provider_name"),
            AppointmentType.name.label("type_name"),
            AppointmentType.duration_minutes,
        )
        .select_from(VISITS)
        .join(Schedule, Schedule.pk == VISITS.c.schedule_pk)
        .join(Location, Location.pk == Schedule.location_pk)
        .join(Provider, Provider.pk == Schedule.provider_pk)
        .outerjoin(AppointmentType, AppointmentType.pk == VISITS.c.appointment_type_pk)
        .where(VISITS.c.pk == visit_pk)
    ).one()
    place = ", ".join(
        p for p in (row.location_name, row.address, row.city, row.state, row.zip) if p
    )
    return CalendarRow(
        row.time_zone_name,
        row.location_name,
        place,
        row.provider_name,
        row.type_name,
        row.duration_minutes or row.slot_minutes,
    )
