"""Visit tokens (with their holds) and visits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from inquicker.db.base import Base, utcnow


class VisitToken(Base):
    """An issued visit token: authorises one visit for one schedule and instant on one site.

    ``jti`` is unique, so a token can be recorded, and used, once.
    """

    __tablename__ = "visit_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_pk: Mapped[int] = mapped_column(ForeignKey("sites.pk", ondelete="CASCADE"))
    # None for a token an operator's reschedule issued (no partner asked for it).
    api_key_pk: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.pk", ondelete="CASCADE"), index=True
    )
    schedule_pk: Mapped[int] = mapped_column(ForeignKey("schedules.pk", ondelete="CASCADE"))
    appointment_at: Mapped[int] = mapped_column(BigInteger)  # UTC epoch seconds
    appointment_type_pk: Mapped[int | None] = mapped_column(
        ForeignKey("appointment_types.pk", ondelete="SET NULL")
    )
    issued_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
    visit_pk: Mapped[int | None] = mapped_column(ForeignKey("visits.pk", ondelete="SET NULL"))


class Visit(Base):
    """A booked visit. Patient data lives only in ``patient_data`` (encrypted when a key is
    configured) and is never returned by the API."""

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("health_system_pk", "confirmation_number"),
        UniqueConstraint("site_pk", "idempotency_key"),
        # Operators' day views and visit lists: one health system's visits in time order.
        Index("ix_visits_health_system_pk_appointment_at", "health_system_pk", "appointment_at"),
    )

    pk: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[str] = mapped_column(String(32), unique=True)
    health_system_pk: Mapped[int] = mapped_column(
        ForeignKey("health_systems.pk", ondelete="CASCADE")
    )
    site_pk: Mapped[int] = mapped_column(ForeignKey("sites.pk", ondelete="CASCADE"))
    # RESTRICT: a schedule with bookings can be retired (active=false), never deleted.
    schedule_pk: Mapped[int] = mapped_column(
        ForeignKey("schedules.pk", ondelete="RESTRICT"), index=True
    )
    appointment_at: Mapped[int] = mapped_column(BigInteger)  # UTC epoch seconds
    appointment_type_pk: Mapped[int | None] = mapped_column(
        ForeignKey("appointment_types.pk", ondelete="SET NULL")
    )
    confirmation_number: Mapped[int] = mapped_column(Integer)
    token_jti: Mapped[str] = mapped_column(String(36), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 of the canonical request body: recognises an identical retry.
    fingerprint: Mapped[str] = mapped_column(String(64))
    patient_data: Mapped[str] = mapped_column(Text)
    remote_visit_ids: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The lifecycle (SPEC section 10): booked, cancelled, checked-in, no-show, completed.
    status: Mapped[str] = mapped_column(String(20), default="booked", server_default="booked")
    # SHA-256 of the management token; the token itself is re-derivable only with the
    # server's secret and ``management_salt`` (so an idempotent retry can be answered with
    # it), never from the database alone.
    management_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    management_salt: Mapped[str | None] = mapped_column(String(32))
    previous_appointment_at: Mapped[int | None] = mapped_column(BigInteger)
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))
    # RFC 5545 SEQUENCE: bumped by every change the patient's calendar must pick up.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime | None] = mapped_column()
