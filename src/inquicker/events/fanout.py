"""Fan-out: turn positioned events into one delivery per interested endpoint (webhook
subscription or HL7 destination).

Runs after the sequencer. Each endpoint remembers how far it has been fanned out
(``fanned_position``); everything up to the feed's last position is handed out in the same
transaction that advances it, so an event is fanned out once or, after a crash, not yet —
never twice and never skipped (positions only grow, see events/sequencer.py).
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from inquicker.events.models import (
    Event,
    EventFeed,
    Hl7Destination,
    WebhookDelivery,
    WebhookSubscription,
)

EVENTS: Table = Event.__table__  # type: ignore[assignment]
FEED: Table = EventFeed.__table__  # type: ignore[assignment]
SUBS: Table = WebhookSubscription.__table__  # type: ignore[assignment]
DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[assignment]
DESTINATIONS: Table = Hl7Destination.__table__  # type: ignore[assignment]

# What an EHR is told (SIU S12/S13/S15/S26, see hl7/message.py); other events are not sent.
HL7_EVENT_TYPES = frozenset(
    {"visit.booked", "visit.rescheduled", "visit.cancelled", "visit.no-show"}
)

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


def fan_out(conn: Connection, now: int) -> int:
    """Create the deliveries of every active endpoint (webhook subscription or HL7
    destination) that is behind; how many.

    Call inside one transaction (the caller commits): the deliveries and the advanced
    ``fanned_position`` commit together.
    """
    upto = conn.execute(_LAST).scalar_one_or_none()
    if upto is None:
        return 0
    return _fan_out(conn, now, upto, SUBS, "subscription_pk", None) + _fan_out(
        conn, now, upto, DESTINATIONS, "destination_pk", HL7_EVENT_TYPES
    )


def _fan_out(
    conn: Connection,
    now: int,
    upto: int,
    endpoints: Table,
    key: str,
    only: frozenset[str] | None,
) -> int:
    """Fan out to one kind of endpoint; ``key`` names the delivery column pointing at it,
    ``only`` the event types that kind ever receives (None: the endpoint's own list)."""
    columns = [endpoints.c.pk, endpoints.c.health_system_pk, endpoints.c.fanned_position]
    if only is None:
        columns.append(endpoints.c.event_types)
    behind = (
        select(*columns)
        .where(endpoints.c.active.is_(True), endpoints.c.fanned_position < upto)
        .order_by(endpoints.c.pk)
    )
    if conn.dialect.name == "postgresql":
        # Two workers fanning out at once take different endpoints instead of waiting.
        behind = behind.with_for_update(skip_locked=True)
    advance = (
        update(endpoints)
        .where(endpoints.c.pk == bindparam("endpoint_pk"))
        .values(fanned_position=bindparam("to"))
    )
    created = 0
    for endpoint in conn.execute(behind).all():
        events = conn.execute(
            _EVENTS,
            {"hs_pk": endpoint.health_system_pk, "after": endpoint.fanned_position, "upto": upto},
        ).all()
        wanted = only if only is not None else frozenset(endpoint.event_types or ())
        rows = [
            {
                key: endpoint.pk,
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
        conn.execute(advance, {"endpoint_pk": endpoint.pk, "to": reached})
    return created
