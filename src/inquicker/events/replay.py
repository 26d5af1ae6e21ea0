"""Operators' tools: replay one delivery or everything since a time; show the attempts.

A replayed delivery keeps its event's id (the receiver's de-duplication key) and its feed
position, so per-visit order still holds; its retry window and backoff start afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from inquicker.events.delivery import DELIVERIES, PENDING
from inquicker.events.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from inquicker.events.subscriptions import SubscriptionError, subscription_pk

_RESET = dict(status=PENDING, attempts=0, lease_until=None, first_attempt_at=None)


def replay_delivery(session: Session, delivery_pk: int, now: int) -> None:
    """Send this delivery again as soon as a worker runs (whatever its status)."""
    done = session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.pk == delivery_pk)
        .values(next_attempt_at=now, delivered_at=None, **_RESET)
    ).rowcount  # type: ignore[attr-defined]
    if not done:
        raise SubscriptionError(f"no webhook delivery with id {delivery_pk}")


def replay_since(session: Session, subscription_id: str, since: datetime, now: int) -> int:
    """Re-send every event the subscription wants that occurred at or after ``since`` (and
    has already been fanned out); how many deliveries were scheduled."""
    sub = session.get(WebhookSubscription, subscription_pk(session, subscription_id))
    assert sub is not None  # subscription_pk found it
    query = select(Event.pk, Event.position, Event.visit_pk).where(
        Event.health_system_pk == sub.health_system_pk,
        Event.occurred_at >= since,
        Event.position.is_not(None),
        Event.position <= sub.fanned_position,  # later ones are fanned out normally
    )
    if sub.event_types:
        query = query.where(Event.type.in_(sub.event_types))
    events = session.execute(query.order_by(Event.position)).all()
    if not events:
        return 0
    existing = set(
        session.scalars(
            select(WebhookDelivery.event_pk).where(
                WebhookDelivery.subscription_pk == sub.pk,
                WebhookDelivery.event_pk.in_([e.pk for e in events]),
            )
        ).all()
    )
    if existing:
        session.execute(
            update(DELIVERIES)
            .where(
                DELIVERIES.c.subscription_pk == sub.pk,
                DELIVERIES.c.event_pk.in_(existing),
            )
            .values(next_attempt_at=now, delivered_at=None, **_RESET)
        )
    missing = [
        {
            "subscription_pk": sub.pk,
            "event_pk": e.pk,
            "position": e.position,
            "visit_pk": e.visit_pk,
            "next_attempt_at": now,
            **_RESET,
        }
        for e in events
        if e.pk not in existing
    ]
    if missing:
        # Events from before the subscription existed (it starts at the feed's end).
        session.execute(insert(DELIVERIES), missing)
    return len(events)


@dataclass(frozen=True)
class AttemptView:
    attempted_at: datetime
    outcome: str
    duration_ms: int
    status_code: int | None
    excerpt: str


@dataclass(frozen=True)
class DeliveryView:
    delivery_pk: int
    event_pk: int
    event_type: str
    status: str
    attempts: list[AttemptView]


def delivery_history(session: Session, ident: str, limit: int = 20) -> list[DeliveryView]:
    """One delivery (by its id) or a subscription's latest ``limit`` deliveries, each with
    its attempts oldest first."""
    query = select(WebhookDelivery.pk, WebhookDelivery.event_pk, WebhookDelivery.status, Event.type)
    query = query.join(Event, Event.pk == WebhookDelivery.event_pk)
    if ident.isdigit():
        query = query.where(WebhookDelivery.pk == int(ident))
    else:
        sub_pk = subscription_pk(session, ident)
        query = query.where(WebhookDelivery.subscription_pk == sub_pk)
    rows = session.execute(query.order_by(WebhookDelivery.position.desc()).limit(limit)).all()
    if ident.isdigit() and not rows:
        raise SubscriptionError(f"no webhook delivery with id {ident}")
    attempts: dict[int, list[AttemptView]] = {r.pk: [] for r in rows}
    for a in session.execute(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_pk.in_(list(attempts)))
        .order_by(WebhookAttempt.pk)
    ).scalars():
        attempts[a.delivery_pk].append(
            AttemptView(a.attempted_at, a.outcome, a.duration_ms, a.status_code, a.response_excerpt)
        )
    return [DeliveryView(r.pk, r.event_pk, r.type, r.status, attempts[r.pk]) for r in rows]
