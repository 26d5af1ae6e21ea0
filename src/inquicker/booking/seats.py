"""Claiming seats: the database, through the unique (schedule, cell, seat) key, decides.

A writer reads the claims of the cells it needs, frees expired holds there, and inserts a
claim on the lowest free seat of each cell. If another writer got there first, the insert
violates the unique key and the whole request is retried (WriteConflictError); on SQLite,
writers take the write lock at BEGIN and never collide at all.

These run on every booking: the statements are built once, as Core (no ORM unit of work),
with expanding parameters for the cell lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, join, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inquicker.availability.models import SeatClaim
from inquicker.booking.models import VisitToken
from inquicker.catalog.schedule_models import Schedule
from inquicker.db.engine import WriteConflictError

CLAIMS: Table = SeatClaim.__table__  # type: ignore[assignment]
TOKENS: Table = VisitToken.__table__  # type: ignore[assignment]
SCHEDULES: Table = Schedule.__table__  # type: ignore[assignment]

# NO KEY UPDATE is compatible with the KEY SHARE locks that inserting rows referencing the
# schedule takes, so it cannot deadlock with them. Not rendered on SQLite (BEGIN IMMEDIATE).
_LOCK_SCHEDULE = (
    select(SCHEDULES.c.pk)
    .where(SCHEDULES.c.pk == bindparam("schedule_pk"))
    .with_for_update(key_share=True)
)
# The booking's lock: the schedule (claimers queue) and the token row. Locking the token
# row too is what makes its used_at fresh: a booking that waited here for another one using
# the same token reads the row that one committed (PostgreSQL re-reads a locked row that
# changed while it waited; the statement's snapshot alone would predate that commit).
# It also counts the token's hold, so a booking without one skips converting it.
_LOCK_FOR_BOOKING = (
    select(
        TOKENS.c.used_at,
        select(func.count())
        .select_from(CLAIMS)
        .where(CLAIMS.c.hold_jti == bindparam("jti"))
        .scalar_subquery()
        .label("held"),
    )
    .select_from(join(SCHEDULES, TOKENS, TOKENS.c.jti == bindparam("jti")))
    .where(SCHEDULES.c.pk == bindparam("schedule_pk"))
    .with_for_update(of=(SCHEDULES, TOKENS), key_share=True)
)
_CLAIMS_IN_CELLS = select(CLAIMS.c.cell_start, CLAIMS.c.seat, CLAIMS.c.expires_at).where(
    CLAIMS.c.schedule_pk == bindparam("schedule_pk"),
    CLAIMS.c.cell_start.in_(bindparam("cells", expanding=True)),
)
_FREE_EXPIRED_HOLDS = delete(CLAIMS).where(
    CLAIMS.c.schedule_pk == bindparam("schedule_pk"),
    CLAIMS.c.cell_start.in_(bindparam("cells", expanding=True)),
    CLAIMS.c.expires_at.is_not(None),
    CLAIMS.c.expires_at <= bindparam("now"),
)
_INSERT_CLAIMS = insert(CLAIMS)
# The hold's claims in the cells the visit needs become the visit's, in one statement.
# (An UPDATE's parameters may not be named like its table's columns.)
_CONVERT_HOLD = (
    update(CLAIMS)
    .where(
        CLAIMS.c.hold_jti == bindparam("jti"),
        CLAIMS.c.schedule_pk == bindparam("in_schedule"),
        CLAIMS.c.cell_start.in_(bindparam("cells", expanding=True)),
        CLAIMS.c.expires_at > bindparam("now"),
    )
    .values(expires_at=None, hold_jti=None, visit_pk=bindparam("new_visit_pk"))
    .returning(CLAIMS.c.cell_start)
)
_DROP_HOLD = delete(CLAIMS).where(CLAIMS.c.hold_jti == bindparam("jti"))
_FREE_VISIT = delete(CLAIMS).where(CLAIMS.c.visit_pk == bindparam("visit_pk"))
_HELD = (
    select(CLAIMS.c.hold_jti)
    .where(CLAIMS.c.visit_pk.is_(None), CLAIMS.c.expires_at > bindparam("now"))
    .distinct()
    .subquery()
)
_LIVE_HOLDS = (
    select(func.count())
    .select_from(TOKENS)
    .join(_HELD, _HELD.c.hold_jti == TOKENS.c.jti)
    .where(TOKENS.c.api_key_pk == bindparam("api_key_pk"), TOKENS.c.used_at.is_(None))
)


@dataclass(frozen=True, slots=True)
class BookingLock:
    """What a booking learns when it takes its locks."""

    used_at: int | None  # the token's, as last committed
    held: int  # claims of the token's hold (live or expired)


def lock_schedule(conn: Connection, schedule_pk: int) -> None:
    """Queue this transaction behind other seat claimers of the schedule (PostgreSQL).

    Claimers then never race for the same lowest free seat and retry; SQLite writers are
    already serialised by BEGIN IMMEDIATE. The unique key stays the guarantee.
    """
    conn.execute(_LOCK_SCHEDULE, {"schedule_pk": schedule_pk})


def lock_for_booking(conn: Connection, schedule_pk: int, jti: str) -> BookingLock | None:
    """Lock the schedule and the token (see _LOCK_FOR_BOOKING); None if either is gone."""
    rows = conn.execute(_LOCK_FOR_BOOKING, {"schedule_pk": schedule_pk, "jti": jti}).all()
    if not rows:
        return None
    used_at, held = rows[0]
    return BookingLock(used_at, held)


def claim(
    conn: Connection,
    schedule_pk: int,
    cells: Sequence[int],
    capacity: int,
    now: int,
    *,
    visit_pk: int | None = None,
    hold_jti: str | None = None,
    expires_at: int | None = None,
) -> bool:
    """Claim one seat in every cell, or nothing (False) when a cell is full.

    The caller holds the schedule's lock (``lock_schedule`` or ``lock_for_booking``).
    Expired holds count as free; they are deleted only when there are some.
    """
    if not cells:
        return True
    used: dict[int, set[int]] = {cell: set() for cell in cells}
    expired = False
    params = {"schedule_pk": schedule_pk, "cells": list(cells)}
    for cell, seat, until in conn.execute(_CLAIMS_IN_CELLS, params).all():
        if until is not None and until <= now:
            expired = True
        else:
            used[cell].add(seat)
    rows: list[dict[str, Any]] = []
    for cell in cells:
        taken = used[cell]
        free = next((s for s in range(capacity) if s not in taken), None)
        if free is None:
            return False
        rows.append(
            {
                "schedule_pk": schedule_pk,
                "cell_start": cell,
                "seat": free,
                "visit_pk": visit_pk,
                "hold_jti": hold_jti,
                "expires_at": expires_at,
            }
        )
    if expired:
        conn.execute(_FREE_EXPIRED_HOLDS, {**params, "now": now})
    try:
        conn.execute(_INSERT_CLAIMS, rows[0] if len(rows) == 1 else rows)
    except IntegrityError as exc:  # the request's transaction is rolled back and retried
        raise WriteConflictError("a seat was claimed concurrently") from exc
    return True


def convert_hold(
    conn: Connection,
    jti: str,
    schedule_pk: int,
    cells: Sequence[int],
    now: int,
    *,
    visit_pk: int,
    held: int,
) -> list[int]:
    """Make this token's live hold on ``cells`` the visit's claims; the cells converted.

    ``held`` is the number of claims the hold has (from ``lock_for_booking``): whatever is
    left of it (expired, or cells a shorter type does not need) is deleted, if anything.
    """
    converted = [
        cell
        for (cell,) in conn.execute(
            _CONVERT_HOLD,
            {
                "jti": jti,
                "in_schedule": schedule_pk,
                "cells": list(cells),
                "now": now,
                "new_visit_pk": visit_pk,
            },
        ).all()
    ]
    if len(converted) < held:
        conn.execute(_DROP_HOLD, {"jti": jti})
    return converted


def free_visit(conn: Connection, visit_pk: int) -> int:
    """Release every seat the visit occupies (cancel, or the old time of a reschedule)."""
    return conn.execute(_FREE_VISIT, {"visit_pk": visit_pk}).rowcount or 0


def live_holds(session: Session, api_key_pk: int, now: int) -> int:
    """Tokens of this key whose hold is still live (unused, unexpired)."""
    count: int = (
        session.connection()
        .execute(_LIVE_HOLDS, {"api_key_pk": api_key_pk, "now": now})
        .scalar_one()
    )
    return count
