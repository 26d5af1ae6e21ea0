"""Claiming seats: the database, through the unique (schedule, cell, seat) key, decides.

A writer reads the live claims of the cells it needs, frees expired holds there, and
inserts a claim on the lowest free seat of each cell. If another writer got there first,
the insert violates the unique key and the whole request is retried (WriteConflictError);
on SQLite, writers take the write lock at BEGIN and never collide at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inquicker.availability.models import SeatClaim
from inquicker.booking.models import VisitToken
from inquicker.catalog.schedule_models import Schedule
from inquicker.db.engine import WriteConflictError


def _free_expired_holds(session: Session, schedule_pk: int, cells: Sequence[int], now: int) -> None:
    session.execute(
        delete(SeatClaim).where(
            SeatClaim.schedule_pk == schedule_pk,
            SeatClaim.cell_start.in_(cells),
            SeatClaim.expires_at.is_not(None),
            SeatClaim.expires_at <= now,
        )
    )


def lock_schedule(session: Session, schedule_pk: int) -> None:
    """Queue this transaction behind other seat claimers of the schedule (PostgreSQL).

    Claimers then never race for the same lowest free seat and retry; SQLite writers are
    already serialised by BEGIN IMMEDIATE (FOR UPDATE is not rendered there). NO KEY UPDATE
    is compatible with the KEY SHARE locks that inserting rows referencing the schedule
    takes, so it cannot deadlock with them. The unique key stays the guarantee.
    """
    session.execute(
        select(Schedule.pk).where(Schedule.pk == schedule_pk).with_for_update(key_share=True)
    )


def claim(
    session: Session,
    schedule_pk: int,
    cells: Sequence[int],
    capacity: int,
    now: int,
    *,
    visit_pk: int | None = None,
    hold_jti: str | None = None,
    expires_at: int | None = None,
) -> bool:
    """Claim one seat in every cell, or nothing (False) when a cell is full."""
    if not cells:
        return True
    lock_schedule(session, schedule_pk)
    _free_expired_holds(session, schedule_pk, cells, now)
    used: dict[int, set[int]] = {cell: set() for cell in cells}
    for cell, seat in session.execute(
        select(SeatClaim.cell_start, SeatClaim.seat).where(
            SeatClaim.schedule_pk == schedule_pk, SeatClaim.cell_start.in_(cells)
        )
    ):
        used[cell].add(seat)
    rows = []
    for cell in cells:
        free = next((s for s in range(capacity) if s not in used[cell]), None)
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
    try:
        session.execute(insert(SeatClaim), rows)
    except IntegrityError as exc:  # the request's transaction is rolled back and retried
        raise WriteConflictError("a seat was claimed concurrently") from exc
    return True


def convert_hold(
    session: Session, jti: str, schedule_pk: int, cells: Sequence[int], now: int
) -> list[int]:
    """Make this token's live hold on ``cells`` permanent; the cells converted.

    The claims stay marked with the token's jti until ``attach_visit`` names the visit.
    """
    converted = (
        session.execute(
            update(SeatClaim)
            .where(
                SeatClaim.hold_jti == jti,
                SeatClaim.schedule_pk == schedule_pk,
                SeatClaim.cell_start.in_(cells),
                SeatClaim.expires_at > now,
            )
            .values(expires_at=None)
            .returning(SeatClaim.cell_start)
        )
        .scalars()
        .all()
    )
    # Whatever is left of the hold (expired, or cells a shorter type does not need) goes.
    session.execute(
        delete(SeatClaim).where(SeatClaim.hold_jti == jti, SeatClaim.expires_at.is_not(None))
    )
    return list(converted)


def attach_visit(session: Session, jti: str, visit_pk: int) -> None:
    """Name the visit on the seats its token claimed."""
    session.execute(
        update(SeatClaim).where(SeatClaim.hold_jti == jti).values(visit_pk=visit_pk, hold_jti=None)
    )


def live_holds(session: Session, api_key_pk: int, now: int) -> int:
    """Tokens of this key whose hold is still live (unused, unexpired)."""
    held = (
        select(SeatClaim.hold_jti)
        .where(SeatClaim.visit_pk.is_(None), SeatClaim.expires_at > now)
        .distinct()
        .subquery()
    )
    return session.execute(
        select(func.count())
        .select_from(VisitToken)
        .join(held, held.c.hold_jti == VisitToken.jti)
        .where(VisitToken.api_key_pk == api_key_pk, VisitToken.used_at.is_(None))
    ).scalar_one()
