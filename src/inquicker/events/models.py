"""The event outbox, its feed order, webhook subscriptions, deliveries and their attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from inquicker.db.base import Base, utcnow

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigPk = BigInteger().with_variant(Integer(), "sqlite")


class Event(Base):
    """One change of a visit, written in the same transaction as the change (outbox).

    ``pk`` is assigned at insert, so a transaction that inserts first may commit last: the
    feed and the deliverer therefore follow ``position``, assigned after commit by the
    sequencer (events/sequencer.py) in the order events become visible.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_health_system_pk_position", "health_system_pk", "position"),)

    pk: Mapped[int] = mapped_column(BigPk, primary_key=True, autoincrement=True)
    health_system_pk: Mapped[int] = mapped_column(
        ForeignKey("health_systems.pk", ondelete="CASCADE")
    )
    visit_pk: Mapped[int | None] = mapped_column(
        ForeignKey("visits.pk", ondelete="SET NULL"), index=True
    )
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The event's data (SPEC section 11) without patient data.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    position: Mapped[int | None] = mapped_column(BigInteger, unique=True)


class EventFeed(Base):
    """One row: the last position handed out. Locking it serialises the sequencer."""

    __tablename__ = "event_feed"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_position: Mapped[int] = mapped_column(BigInteger, default=0)


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    pk: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(40), unique=True)
    health_system_pk: Mapped[int] = mapped_column(
        ForeignKey("health_systems.pk", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    # Event types delivered; empty means every type.
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The signing secret must be usable to sign, so it is kept (whsec_...), never shown
    # again after creation.
    secret: Mapped[str] = mapped_column(String(200))
    include_patient_data: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Events up to this feed position have been fanned out into deliveries.
    fanned_position: Mapped[int] = mapped_column(BigInteger, default=0)


class Hl7Destination(Base):
    """An MLLP endpoint of a health system's EHR: it receives SIU messages (SPEC section 13).

    Deliveries to it are rows of ``webhook_deliveries`` (``destination_pk`` set instead of
    ``subscription_pk``): one retry/lease/order machinery serves both channels.
    """

    __tablename__ = "hl7_destinations"

    pk: Mapped[int] = mapped_column(primary_key=True)
    destination_id: Mapped[str] = mapped_column(String(40), unique=True)
    health_system_pk: Mapped[int] = mapped_column(
        ForeignKey("health_systems.pk", ondelete="CASCADE"), index=True
    )
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Events up to this feed position have been fanned out into deliveries.
    fanned_position: Mapped[int] = mapped_column(BigInteger, default=0)


class WebhookDelivery(Base):
    """One event for one endpoint — a webhook subscription or an HL7 destination (exactly
    one of the two is set): pending until accepted (a 2xx, an ``AA``), dead after 24 h."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_pk", "event_pk"),
        UniqueConstraint("destination_pk", "event_pk"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription_pk_visit_pk", "subscription_pk", "visit_pk"),
        Index("ix_webhook_deliveries_destination_pk_visit_pk", "destination_pk", "visit_pk"),
    )

    pk: Mapped[int] = mapped_column(BigPk, primary_key=True, autoincrement=True)
    subscription_pk: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscriptions.pk", ondelete="CASCADE")
    )
    destination_pk: Mapped[int | None] = mapped_column(
        ForeignKey("hl7_destinations.pk", ondelete="CASCADE")
    )
    event_pk: Mapped[int] = mapped_column(ForeignKey("events.pk", ondelete="CASCADE"))
    # The event's feed position and visit: per-visit order is by position.
    position: Mapped[int] = mapped_column(BigInteger)
    visit_pk: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # delivered, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[int] = mapped_column(BigInteger)  # UTC epoch seconds
    lease_until: Mapped[int | None] = mapped_column(BigInteger)
    # UTC epoch seconds of the first attempt (since the last replay): retries stop 24 h
    # after it. Kept on the row so deciding "dead" needs no scan of the attempts.
    first_attempt_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()


class WebhookAttempt(Base):
    """Every attempt, for operators: when, how long, what came back."""

    __tablename__ = "webhook_attempts"

    pk: Mapped[int] = mapped_column(BigPk, primary_key=True, autoincrement=True)
    delivery_pk: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.pk", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    # success, http-error, timeout, connection-error, redirect, refused-address;
    # HL7: success (AA), rejected (AE/AR), bad-ack, timeout, connection-error
    outcome: Mapped[str] = mapped_column(String(20))
    # The first 1 KiB of the answer (or the error), for diagnosis.
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
