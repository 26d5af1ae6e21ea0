"""The booking's lock statement: it queues bookers of a schedule and reads the token fresh.

On PostgreSQL a statement's snapshot is taken when it starts, before it waits for a lock; a
booking that queued behind another booking of the same token must still see that one's
commit, or it would go on to hit the unique keys (and retry) instead of answering at once.
Locking the token row as well makes PostgreSQL re-read it after the wait.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from inquicker.availability.models import SeatClaim
from inquicker.booking import seats
from inquicker.booking.models import VisitToken
from inquicker.tenancy.models import ApiKey, Site
from tests.reliability.fixture import SOLO, Tenant, build

START = 1_900_000_000  # any instant: the lock does not look at it


def _tenant_and_token(engine: Engine, holds: int = 0) -> tuple[Tenant, str]:
    """The reliability tenant and one unused token for SOLO, with ``holds`` held cells."""
    jti = str(uuid.uuid4())
    with Session(engine) as session, session.begin():
        tenant = build(session, hold_minutes=0)
        session.execute(
            insert(VisitToken).values(
                jti=jti,
                site_pk=session.scalars(select(Site.pk)).one(),
                api_key_pk=session.scalars(select(ApiKey.pk)).one(),
                schedule_pk=tenant.pks[SOLO],
                appointment_at=START,
                issued_at=1,
                expires_at=2,
            )
        )
        for n in range(holds):
            session.execute(
                insert(SeatClaim).values(
                    schedule_pk=tenant.pks[SOLO],
                    cell_start=START + 900 * n,
                    seat=0,
                    hold_jti=jti,
                    expires_at=3,
                )
            )
    return tenant, jti


@pytest.mark.parametrize("holds", [0, 2])
def test_the_lock_reports_the_token_and_its_hold(engine: Engine, holds: int) -> None:
    tenant, jti = _tenant_and_token(engine, holds)
    with engine.begin() as conn:
        lock = seats.lock_for_booking(conn, tenant.pks[SOLO], jti)
        assert lock == seats.BookingLock(used_at=None, held=holds)
        assert seats.lock_for_booking(conn, tenant.pks[SOLO], "no-such-token") is None


# PostgreSQL only: SQLite serialises writers at BEGIN IMMEDIATE, nobody waits mid-statement.
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_booking_that_waited_for_the_lock_sees_the_token_used(engine: Engine) -> None:
    tenant, jti = _tenant_and_token(engine)
    schedule_pk = tenant.pks[SOLO]
    seen: list[Any] = []

    def second_booking() -> None:
        with engine.begin() as conn:
            seen.append(seats.lock_for_booking(conn, schedule_pk, jti))

    with engine.connect() as first:
        first.begin()
        assert seats.lock_for_booking(first, schedule_pk, jti) == seats.BookingLock(None, 0)
        waiter = threading.Thread(target=second_booking)
        waiter.start()
        time.sleep(0.5)
        assert waiter.is_alive(), "the second booking must queue behind the first"
        first.execute(update(VisitToken).where(VisitToken.jti == jti).values(used_at=12345))
        first.commit()
    waiter.join(timeout=10)
    assert seen == [seats.BookingLock(used_at=12345, held=0)]
