"""Operational switches shared by every worker process, hence stored in the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from inquicker.db.base import Base, utcnow


class ServiceFlag(Base):
    """A named switch (today only ``maintenance``); one row per name, absent means off."""

    __tablename__ = "service_flags"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Seconds clients are told to wait (Retry-After) while the switch is on.
    retry_after: Mapped[int] = mapped_column(Integer, default=300)
    detail: Mapped[str | None] = mapped_column(String(500))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
