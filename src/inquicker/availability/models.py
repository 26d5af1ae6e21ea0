"""Claimed seats: one row per (schedule, cell, seat) that a visit or a hold occupies."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from inquicker.db.base import Base


class SeatClaim(Base):
    """A seat taken in one cell of a schedule.

    The unique (schedule, cell, seat) key is what makes double-booking impossible on every
    engine and across processes: two writers cannot both insert the same seat. Instants are
    UTC epoch seconds (the availability engine's unit), so equality is exact everywhere.
    A hold has ``expires_at``; an expired hold is ignored by readers and replaced by writers.
    """

    __tablename__ = "seat_claims"
    # The unique key's index also serves the (schedule, cell range) reads.
    __table_args__ = (UniqueConstraint("schedule_pk", "cell_start", "seat"),)

    pk: Mapped[int] = mapped_column(primary_key=True)
    schedule_pk: Mapped[int] = mapped_column(ForeignKey("schedules.pk", ondelete="CASCADE"))
    cell_start: Mapped[int] = mapped_column(BigInteger)
    seat: Mapped[int] = mapped_column(Integer)
    # The visit occupying the seat (set by booking), or the hold's token id.
    visit_pk: Mapped[int | None] = mapped_column(Integer, index=True)
    hold_jti: Mapped[str | None] = mapped_column(String(36), index=True)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)


class SeatClaimVersion(Base):
    """How many times a schedule's seat claims have changed: the availability cache's key.

    Written only by database triggers on ``seat_claims`` (migration 0014), in the
    transaction of the claim, hold, conversion or release itself, so no write path can
    forget it. No foreign key: the triggers run while a schedule's cascade deletes its
    claims, and a version outliving its schedule is harmless (versions only grow).
    """

    __tablename__ = "seat_claim_versions"

    schedule_pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
