"""Tenancy tables: a health system owns the catalog; a site (partner hostname) exposes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from inquicker.db.base import Base, utcnow


class HealthSystem(Base):
    __tablename__ = "health_systems"

    pk: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    use_gtm_container: Mapped[bool] = mapped_column(Boolean, default=False)
    disable_google_indexing: Mapped[bool] = mapped_column(Boolean, default=False)
    gtm_container: Mapped[str | None] = mapped_column(String(100))
    gtag_conversion_event_id: Mapped[str | None] = mapped_column(String(100))
    gtag_id: Mapped[str | None] = mapped_column(String(100))
    # Booking features that add built-in visit rules (full-address, has-physician, ...).
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Health-system defaults for every schedule's visit settings (a schedule may override).
    visit_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # How long issuing a visit token holds the seat; 0 turns holds off.
    hold_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # Visit creation switch: off, /visit-token and POST /visits answer 403 booking-disabled.
    booking_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Bumped on every data change; caches key on it.
    data_version: Mapped[int] = mapped_column(Integer, default=1)
    last_confirmation_number: Mapped[int] = mapped_column(Integer, default=0)
    # Partners may not cancel later than this many minutes before the visit (0: any time).
    cancellation_cutoff_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # SMART Scheduling Links: $bulk-publish is public (no key) only when this is on.
    publish_slots: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Site(Base):
    __tablename__ = "sites"

    pk: Mapped[int] = mapped_column(primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # Where a published Slot's booking deep link points ({schedule}, {slot}, {start} filled in).
    booking_url_template: Mapped[str | None] = mapped_column(String(1000))


class SiteHealthSystem(Base):
    __tablename__ = "site_health_systems"

    site_pk: Mapped[int] = mapped_column(
        ForeignKey("sites.pk", ondelete="CASCADE"), primary_key=True
    )
    health_system_pk: Mapped[int] = mapped_column(
        ForeignKey("health_systems.pk", ondelete="CASCADE"), primary_key=True, index=True
    )


class ApiKey(Base):
    __tablename__ = "api_keys"

    pk: Mapped[int] = mapped_column(primary_key=True)
    # Public handle for listing and revoking; never enough to authenticate.
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    site_pk: Mapped[int] = mapped_column(ForeignKey("sites.pk", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the key: keys are 256-bit random, so a fast hash is not brute-forceable.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100), default="read")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    # Rate limit of this key ("120/minute"); None: the server's default (settings).
    rate_limit: Mapped[str | None] = mapped_column(String(40))
