"""Operator accounts, their API tokens and console sessions, and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from inquicker.db.base import Base, utcnow

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigPk = BigInteger().with_variant(Integer(), "sqlite")


class Operator(Base):
    """A member of a health system's staff (or of every health system, as superuser)."""

    __tablename__ = "operators"

    pk: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # None only for superusers, who see every health system.
    health_system_pk: Mapped[int | None] = mapped_column(
        ForeignKey("health_systems.pk", ondelete="CASCADE"), index=True
    )
    superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    role: Mapped[str] = mapped_column(String(16))  # admin, scheduler, viewer, auditor
    password_hash: Mapped[str] = mapped_column(String(200))  # Argon2id, PHC string
    # Base32 TOTP secret when the operator enrolled a second factor.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    disabled_at: Mapped[datetime | None] = mapped_column()
    # Lockout bookkeeping: failures counted from the first failure of the current window.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorToken(Base):
    """An operator API token (for machines); stored only as a SHA-256 hash, revocable."""

    __tablename__ = "operator_tokens"

    pk: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    operator_pk: Mapped[int] = mapped_column(
        ForeignKey("operators.pk", ondelete="CASCADE"), index=True
    )
    # Tokens are 256-bit random, so a fast hash cannot be brute-forced.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class OperatorSession(Base):
    """A console login, kept server-side so it can be ended at once (logout, disable)."""

    __tablename__ = "operator_sessions"

    pk: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the cookie's value: a database dump does not let anyone log in.
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    operator_pk: Mapped[int] = mapped_column(
        ForeignKey("operators.pk", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()


class AuditEntry(Base):
    """One audited act. Append-only: no code path updates or deletes a row.

    No foreign keys on purpose: deleting an operator, a visit or a health system must not
    erase (cascade) or block on the record of what was done.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_health_system_pk_at", "health_system_pk", "at"),)

    pk: Mapped[int] = mapped_column(BigPk, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Operator e-mail, "api-key:<id>" or "cli".
    actor: Mapped[str] = mapped_column(String(320))
    health_system_pk: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    visit_id: Mapped[str | None] = mapped_column(String(32), index=True)
    patient_data: Mapped[bool] = mapped_column(Boolean, default=False)
    client: Mapped[str | None] = mapped_column(String(64))
    # What changed (ids, statuses, names of fields), never patient data.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
