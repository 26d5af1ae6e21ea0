"""The audit log: written in the transaction of what it records; never updated or deleted.

Entries say who did what to which visit and whether patient data was shown, never the
patient data itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Dialect, Table, bindparam, select, text
from sqlalchemy.types import TypeEngine

from inquicker.db.base import UTCDateTime
from inquicker.operators.models import AuditEntry

AUDIT: Table = AuditEntry.__table__  # type: ignore[assignment]
# PostgreSQL: any number of entries in one statement of constant text (prepared once by
# psycopg) with one JSON parameter, which orjson encodes in C. The arrays of the unnest
# form this replaces were dumped element by element in Python by psycopg: 8.5% of a
# loaded worker's CPU for a page of 50 reads (bench/bench_operators.py --profile).
_FROM_JSON = text(
    "INSERT INTO audit_entries"
    " (at, actor, health_system_pk, action, visit_id, patient_data, client, details)"
    " SELECT :at, r.actor, r.health_system_pk, r.action, r.visit_id, r.patient_data,"
    " r.client, r.details"
    " FROM json_to_recordset(CAST(:entries AS json)) AS r(actor text,"
    " health_system_pk integer, action text, visit_id text, patient_data boolean,"
    " client text, details json)"
).bindparams(bindparam("at", type_=UTCDateTime()))


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
    if conn.dialect.name == "postgresql":
        conn.execute(_FROM_JSON, {"at": now, "entries": orjson.dumps(rows).decode()})
        return
    # SQLite: one executemany at the driver, each value converted once by its column type's
    # own bind processor (the stored text is what SQLAlchemy would write). Through
    # SQLAlchemy's executemany, converting 50 rows' eight parameters took ~3x the insert.
    dialect = conn.dialect
    at = _processor(AUDIT.c.at.type, dialect)(now)
    details = _processor(AUDIT.c.details.type, dialect)
    conn.exec_driver_sql(
        _SQLITE_INSERT,
        [
            (
                at,
                row["actor"],
                row["health_system_pk"],
                row["action"],
                row["visit_id"],
                row["patient_data"],
                row["client"],
                details(row["details"]),
            )
            for row in rows
        ],
    )


_SQLITE_INSERT = (
    "INSERT INTO audit_entries"
    " (at, actor, health_system_pk, action, visit_id, patient_data, client, details)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any]:
    process = type_.bind_processor(dialect)
    return process if process is not None else (lambda value: value)


def write_reads(
    conn: Connection,
    now: datetime,
    actor: str,
    client: str | None,
    visits: Sequence[tuple[int, str]],
) -> None:
    """One ``visit.read`` entry with patient data for each (health system pk, visit id)
    shown: a page of visits."""
    if conn.dialect.name != "postgresql" or not visits:
        records = (Record(actor, "visit.read", hs, visit, True, client) for hs, visit in visits)
        write(conn, now, *records)
        return
    # The same rows as write() sends, without a Record per visit on the way.
    actor, client = actor[:320], client[:64] if client else None
    entries: list[dict[str, Any]] = [
        {
            "actor": actor,
            "health_system_pk": hs_pk,
            "action": "visit.read",
            "visit_id": visit_id,
            "patient_data": True,
            "client": client,
            "details": {},
        }
        for hs_pk, visit_id in visits
    ]
    conn.execute(_FROM_JSON, {"at": now, "entries": orjson.dumps(entries).decode()})


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
