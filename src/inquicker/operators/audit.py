"""The audit log: written in the transaction of what it records; never updated or deleted.

Entries say who did what to which visit and whether patient data was shown, never the
patient data itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Table, insert, select, text

from inquicker.operators.models import AuditEntry

AUDIT: Table = AuditEntry.__table__  # type: ignore[assignment]
_INSERT = insert(AUDIT)
_UNNEST = text(
    "INSERT INTO audit_entries"
    " (at, actor, health_system_pk, action, visit_id, patient_data, client, details)"
    " SELECT * FROM unnest(CAST(:at AS timestamp[]), CAST(:actor AS text[]),"
    " CAST(:health_system_pk AS integer[]), CAST(:action AS text[]),"
    " CAST(:visit_id AS text[]), CAST(:patient_data AS boolean[]), CAST(:client AS text[]),"
    " CAST(:details AS json[]))"
)


@dataclass(frozen=True)
class Record:
    """One entry to write."""

    actor: str
    action: str
    health_system_pk: int | None = None
    visit_id: str | None = None
    patient_data: bool = False
    client: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def write(conn: Connection, now: datetime, *records: Record) -> None:
    """Append ``records`` in the caller's transaction (one statement for many)."""
    if not records:
        return
    rows = [
        {
            "at": now,
            "actor": r.actor[:320],
            "health_system_pk": r.health_system_pk,
            "action": r.action,
            "visit_id": r.visit_id,
            "patient_data": r.patient_data,
            "client": r.client[:64] if r.client else None,
            "details": r.details,
        }
        for r in records
    ]
    if len(rows) > 1 and conn.dialect.name == "postgresql":
        # One statement of constant text (prepared once) with one array per column: a
        # page of 50 reads costs one round trip, where executemany sends 50 statements.
        conn.execute(
            _UNNEST,
            {
                "at": [now.astimezone(UTC).replace(tzinfo=None)] * len(rows),
                **{
                    name: [row[name] for row in rows]
                    for name in (
                        "actor",
                        "health_system_pk",
                        "action",
                        "visit_id",
                        "patient_data",
                        "client",
                    )
                },
                "details": [orjson.dumps(row["details"]).decode() for row in rows],
            },
        )
        return
    conn.execute(_INSERT, rows)


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    action: str | None = None
    visit_id: str | None = None
    health_system_pks: Sequence[int] | None = None  # None: every health system


def entries(conn: Connection, filters: Filters, limit: int | None = None) -> list[dict[str, Any]]:
    """Entries matching ``filters``, newest first when limited (console), else oldest first."""
    stmt = select(AUDIT)
    if filters.since is not None:
        stmt = stmt.where(AUDIT.c.at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(AUDIT.c.at < filters.until)
    if filters.actor:
        stmt = stmt.where(AUDIT.c.actor == filters.actor)
    if filters.action:
        stmt = stmt.where(AUDIT.c.action == filters.action)
    if filters.visit_id:
        stmt = stmt.where(AUDIT.c.visit_id == filters.visit_id)
    if filters.health_system_pks is not None:
        stmt = stmt.where(AUDIT.c.health_system_pk.in_(list(filters.health_system_pks)))
    if limit is not None:
        stmt = stmt.order_by(AUDIT.c.pk.desc()).limit(limit)
    else:
        stmt = stmt.order_by(AUDIT.c.pk)
    return [exported(row._mapping) for row in conn.execute(stmt).all()]


def exported(row: Any) -> dict[str, Any]:
    """The export form of one entry (SPEC section 12 names)."""
    return {
        "at": row["at"].isoformat().replace("+00:00", "Z"),
        "actor": row["actor"],
        "action": row["action"],
        "visit": row["visit_id"],
        "patient-data": bool(row["patient_data"]),
        "client": row["client"],
        "health-system-pk": row["health_system_pk"],
        "details": row["details"] or {},
    }


def stream(conn: Connection, since: datetime | None) -> Iterator[dict[str, Any]]:
    """Every entry since ``since``, oldest first (the CLI export)."""
    yield from entries(conn, Filters(since=since))
