"""seat claim versions: a counter per schedule, bumped by triggers on every claim change

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 23:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The availability cache (availability/kept_times.py) keeps each schedule's offered times
# per (schedule, claims version): the version must change in the same transaction as every
# claim, hold, hold conversion and release, whichever code path writes it. Triggers make
# that a property of the table, not of each caller. A batch_alter_table of seat_claims on
# SQLite recreates the table and drops these triggers: a later migration doing that must
# create them again.
_SQLITE_TRIGGERS = {
    name: f"""
CREATE TRIGGER {name} AFTER {event} ON seat_claims BEGIN
    INSERT INTO seat_claim_versions (schedule_pk, version) VALUES ({row}.schedule_pk, 1)
    ON CONFLICT (schedule_pk) DO UPDATE SET version = seat_claim_versions.version + 1;
END
"""  # noqa: S608 (constants only)
    for name, event, row in (
        ("seat_claims_version_insert", "INSERT", "NEW"),
        ("seat_claims_version_update", "UPDATE", "NEW"),
        ("seat_claims_version_delete", "DELETE", "OLD"),
    )
}

# PostgreSQL: one bump per statement and schedule (a booking inserts one claim per cell),
# from the statement's transition tables; schedules in pk order, so two statements bumping
# the same schedules lock their rows in one order.
_PG_FUNCTION = """
CREATE FUNCTION bump_seat_claim_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO seat_claim_versions (schedule_pk, version)
        SELECT DISTINCT schedule_pk, 1 FROM new_claims ORDER BY 1
        ON CONFLICT (schedule_pk) DO UPDATE SET version = seat_claim_versions.version + 1;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO seat_claim_versions (schedule_pk, version)
        SELECT DISTINCT schedule_pk, 1 FROM old_claims ORDER BY 1
        ON CONFLICT (schedule_pk) DO UPDATE SET version = seat_claim_versions.version + 1;
    ELSE
        INSERT INTO seat_claim_versions (schedule_pk, version)
        SELECT schedule_pk, 1 FROM new_claims UNION SELECT schedule_pk, 1 FROM old_claims
        ORDER BY 1
        ON CONFLICT (schedule_pk) DO UPDATE SET version = seat_claim_versions.version + 1;
    END IF;
    RETURN NULL;
END
$$
"""
_PG_TRIGGERS = {
    "seat_claims_version_insert": ("INSERT", "NEW TABLE AS new_claims"),
    "seat_claims_version_update": ("UPDATE", "OLD TABLE AS old_claims NEW TABLE AS new_claims"),
    "seat_claims_version_delete": ("DELETE", "OLD TABLE AS old_claims"),
}


def upgrade() -> None:
    op.create_table(
        "seat_claim_versions",
        sa.Column("schedule_pk", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("schedule_pk", name=op.f("pk_seat_claim_versions")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for name, (event, transition) in _PG_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON seat_claims "
                f"REFERENCING {transition} FOR EACH STATEMENT "
                "EXECUTE FUNCTION bump_seat_claim_versions()"
            )
    else:
        for create in _SQLITE_TRIGGERS.values():
            op.execute(create)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON seat_claims" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS bump_seat_claim_versions()")
    op.drop_table("seat_claim_versions")
