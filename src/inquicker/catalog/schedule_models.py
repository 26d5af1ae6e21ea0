"""Schedules: one provider offering one service at one location, with its booking rules."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column

from inquicker.catalog.models import TenantOwned, tenant_table_args
from inquicker.db.base import Base, UTCDateTime


class Schedule(TenantOwned, Base):
    __tablename__ = "schedules"
    # Every read of schedules is of the tenant's active ones (scoping.active_schedules).
    __table_args__ = tenant_table_args(
        "schedules",
        ("active", "sort_order", "name"),
        ("active", "name"),
        ("active", "context"),
        ("active", "accepting_new_patients", "provider_pk"),
    )

    name: Mapped[str] = mapped_column(String(200))
    provider_pk: Mapped[int] = mapped_column(
        ForeignKey("providers.pk", ondelete="CASCADE"), index=True
    )
    location_pk: Mapped[int] = mapped_column(
        ForeignKey("locations.pk", ondelete="CASCADE"), index=True
    )
    service_pk: Mapped[int] = mapped_column(
        ForeignKey("services.pk", ondelete="CASCADE"), index=True
    )
    schedule_type: Mapped[str] = mapped_column(String(30), default="online")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    time_zone_name: Mapped[str] = mapped_column(String(64))
    age_limit_direction: Mapped[str | None] = mapped_column(String(10))  # older / younger
    age_limit_threshold: Mapped[int | None] = mapped_column(Integer)
    accepting_new_patients: Mapped[bool] = mapped_column(Boolean, default=True)
    context: Mapped[str] = mapped_column(String(20), default="Patient")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=15)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    lead_minutes: Mapped[int] = mapped_column(Integer, default=0)
    horizon_days: Mapped[int] = mapped_column(Integer, default=90)
    # Overrides of the health system's visit-settings defaults.
    visit_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ScheduleAppointmentType(Base):
    __tablename__ = "schedule_appointment_types"

    schedule_pk: Mapped[int] = mapped_column(
        ForeignKey("schedules.pk", ondelete="CASCADE"), primary_key=True
    )
    appointment_type_pk: Mapped[int] = mapped_column(
        ForeignKey("appointment_types.pk", ondelete="CASCADE"), primary_key=True, index=True
    )
    # Overrides the appointment type's own duration on this schedule.
    duration_minutes: Mapped[int | None] = mapped_column(Integer)


class ScheduleHours(Base):
    """A weekly open range; a weekday may have several (e.g. around lunch)."""

    __tablename__ = "schedule_hours"
    # The hours-availability filter: ranges closing after a band starts (covering).
    __table_args__ = (
        Index("ix_schedule_hours_closes_opens_schedule_pk", "closes", "opens", "schedule_pk"),
    )

    pk: Mapped[int] = mapped_column(primary_key=True)
    schedule_pk: Mapped[int] = mapped_column(
        ForeignKey("schedules.pk", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday .. 6 = Sunday
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class ScheduleException(Base):
    """A dated exception: closed all day (no times), or replacement hours for that date."""

    __tablename__ = "schedule_exceptions"

    pk: Mapped[int] = mapped_column(primary_key=True)
    schedule_pk: Mapped[int] = mapped_column(
        ForeignKey("schedules.pk", ondelete="CASCADE"), index=True
    )
    on_date: Mapped[date] = mapped_column(Date)
    opens: Mapped[time | None] = mapped_column(Time)
    closes: Mapped[time | None] = mapped_column(Time)


class ScheduleBlock(Base):
    """Time taken out of a schedule's open hours (a meeting, an absence), in UTC instants.

    Instants, not wall-clock times: staff block "this afternoon", and an instant range needs
    no DST reading (availability.rules.BlockedRange). Kept by operators, not by imports.
    """

    __tablename__ = "schedule_blocks"
    # The loader reads a schedule's blocks in start order.
    __table_args__ = (
        Index("ix_schedule_blocks_schedule_pk_starts_at", "schedule_pk", "starts_at"),
    )

    pk: Mapped[int] = mapped_column(primary_key=True)
    schedule_pk: Mapped[int] = mapped_column(ForeignKey("schedules.pk", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(200))


class SchedulePlan(Base):
    """Effective insurance plans of a schedule, derived from the acceptance hierarchy on import.

    Kept materialized so filters and includes are plain joins.
    """

    __tablename__ = "schedule_plans"

    schedule_pk: Mapped[int] = mapped_column(
        ForeignKey("schedules.pk", ondelete="CASCADE"), primary_key=True
    )
    plan_pk: Mapped[int] = mapped_column(
        ForeignKey("insurance_plans.pk", ondelete="CASCADE"), primary_key=True, index=True
    )
