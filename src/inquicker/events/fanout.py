"""Fan-out: turn positioned events into one delivery per interested subscription.

Runs after the sequencer. Each subscription remembers how far it has been fanned out
(``fanned_position``); everything up to the feed's last position is handed out in the same
transaction that advances it, so an event is fanned out once or, after a crash, not yet —
never twice and never skipped (positions only grow, see events/sequencer.py).
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from inquicker.events.models import Event, EventFeed, WebhookDelivery, WebhookSubscription

EVENTS: Table = Event.__table__  # type: ignore[assignment]
FEED: Table = EventFeed.__table__  # type: ignore[assignment]
SUBS: Table = WebhookSubscription.__table__  # type: ignore[assignment]
DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[assignment]

# Events handed to one subscription per run; the next run continues from there.
BATCH = 5000

_LAST = select(FEED.c.last_position).where(FEED.c.pk == 1)
_EVENTS = (
    select(EVENTS.c.pk, EVENTS.c.position, EVENTS.c.visit_pk, EVENTS.c.type)
    .where(
        EVENTS.c.health_system_pk == bindparam("hs_pk"),
        EVENTS.c.position > bindparam("after"),
        EVENTS.c.position <= bindparam("upto"),
    )
    .order_by(EVENTS.c.position)
    .limit(BATCH)
)
_ADVANCE = (
    update(SUBS).where(SUBS.c.pk == bindparam("sub_pk")).values(fanned_position=bindparam("to"))
)


def fan_out(conn: Connection, now: int) -> int:
    """Create the deliveries of every active subscription that is behind; how many.

    Call inside one transaction (the caller commits): the deliveries and the advanced
    ``fanned_position`` commit together.
    """
    upto = conn.execute(_LAST).scalar_one_or_none()
    if upto is None:
        return 0
    behind = (
        select(SUBS.c.pk, SUBS.c.health_system_pk, SUBS.c.event_types, SUBS.c.fanned_position)
        .where(SUBS.c.active.is_(True), SUBS.c.fanned_position < upto)
        .order_by(SUBS.c.pk)
    )
    if conn.dialect.name == "postgresql":
        # Two workers fanning out at once take different subscriptions instead of waiting.
        behind = behind.with_for_update(skip_locked=True)
    created = 0
    for sub in conn.execute(behind).all():
        events = conn.execute(
            _EVENTS, {"hs_pk": sub.health_system_pk, "after": sub.fanned_position, "upto": upto}
        ).all()
        wanted = set(sub.event_types or ())
        rows = [
            {
                "subscription_pk": sub.pk,
                "event_pk": e.pk,
                "position": e.position,
                "visit_pk": e.visit_pk,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
            }
            for e in events
            if not wanted or e.type in wanted
        ]
        if rows:
            conn.execute(insert(DELIVERIES), rows)
            created += len(rows)
        # A full batch stops at its last event; otherwise everything up to the feed's end
        # (including other health systems' positions) has been considered.
        reached = events[-1].position if len(events) == BATCH else upto
        conn.execute(_ADVANCE, {"sub_pk": sub.pk, "to": reached})
    return created
