"""Feed positions: the order in which events became visible (committed).

Event pks are handed out at insert, so a transaction holding pk 7 can commit after one
holding pk 8. A reader that had already moved its cursor past 8 would never see 7 — the
classic outbox trap. Instead, readers follow ``position``, which the sequencer assigns
only to committed events, under a lock on the single ``event_feed`` row: positions are
handed out in one serial order, each to events that were already visible when it ran, so
an event committed later always gets a higher position than every event any reader could
have seen before it. A cursor on ``position`` therefore never skips and never repeats.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from inquicker.events.models import Event, EventFeed

EVENTS: Table = Event.__table__  # type: ignore[assignment]
FEED: Table = EventFeed.__table__  # type: ignore[assignment]

# A batch keeps one sequencer run short; the next run continues.
BATCH = 5000

_LOCK = select(FEED.c.last_position).where(FEED.c.pk == 1).with_for_update()
_UNPOSITIONED = (
    select(EVENTS.c.pk).where(EVENTS.c.position.is_(None)).order_by(EVENTS.c.pk).limit(BATCH)
)
_SET_POSITION = (
    update(EVENTS).where(EVENTS.c.pk == bindparam("event_pk")).values(position=bindparam("pos"))
)
_SET_LAST = update(FEED).where(FEED.c.pk == 1).values(last_position=bindparam("last"))


def assign_positions(conn: Connection) -> int:
    """Give every committed, unpositioned event its position; how many were given.

    Run in its own short transaction (commit right after), so the lock is held briefly.
    """
    last = conn.execute(_LOCK).scalar_one_or_none()
    if last is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(FEED).values(pk=1, last_position=0))
        except IntegrityError:
            pass  # another sequencer created it first
        last = conn.execute(_LOCK).scalar_one()
    pks = conn.execute(_UNPOSITIONED).scalars().all()
    if not pks:
        return 0
    conn.execute(_SET_POSITION, [{"event_pk": pk, "pos": last + i} for i, pk in enumerate(pks, 1)])
    conn.execute(_SET_LAST, {"last": last + len(pks)})
    return len(pks)


def current_position(conn: Connection) -> int:
    """The last position handed out: a new subscriber hears of events after it."""
    return conn.execute(select(FEED.c.last_position).where(FEED.c.pk == 1)).scalar() or 0
