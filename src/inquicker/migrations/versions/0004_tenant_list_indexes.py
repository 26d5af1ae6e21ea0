"""tenant-first indexes for every list order and filter

Every list is scoped to the request's health systems, so each order and filter gets an
index that starts with ``health_system_pk``: a page is then read in order from the index
(no sort of every matching row) and a count reads only the tenant's index entries. The
single-column indexes they replace spanned every tenant. docs/operations.md, "Indexes",
records the plans before and after.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 22:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, columns after health_system_pk); the index is named ix_{table}_hs_{columns}.
ADDED: list[tuple[str, tuple[str, ...]]] = [
    ("locations", ("name",)),
    ("locations", ("facility_name",)),
    ("locations", ("city",)),
    ("locations", ("state",)),
    ("locations", ("zip",)),
    ("services", ("name",)),
    ("medical_groups", ("name",)),
    ("appointment_types", ("priority", "name")),
    ("appointment_types", ("name",)),
    ("insurance_plans", ("company", "name")),
    ("insurance_plans", ("name",)),
    ("providers", ("name",)),
    ("providers", ("gender",)),
    ("providers", ("affiliation",)),
    ("providers", ("provider_type",)),
    ("schedules", ("active", "sort_order", "name")),
    ("schedules", ("active", "name")),
    ("schedules", ("active", "context")),
    ("schedules", ("active", "accepting_new_patients", "provider_pk")),
]
# Superseded by the tenant-first indexes above: (table, column).
REPLACED: list[tuple[str, str]] = [
    ("providers", "name"),
    ("providers", "gender"),
    ("providers", "affiliation"),
    ("providers", "provider_type"),
    ("schedules", "active"),
    ("schedules", "context"),
]


def _name(table: str, columns: tuple[str, ...]) -> str:
    return f"ix_{table}_hs_{'_'.join(columns)}"


# Ranges open in an hours-availability band (schedule_hours has no tenant column).
HOURS_INDEX = ("ix_schedule_hours_closes_opens_schedule_pk", ["closes", "opens", "schedule_pk"])


def upgrade() -> None:
    for table, columns in ADDED:
        op.create_index(_name(table, columns), table, ["health_system_pk", *columns])
    op.create_index(HOURS_INDEX[0], "schedule_hours", HOURS_INDEX[1])
    for table, column in REPLACED:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite plans from sqlite_stat1; without rows for the new indexes it guesses.
        op.execute("ANALYZE")


def downgrade() -> None:
    op.drop_index(HOURS_INDEX[0], table_name="schedule_hours")
    for table, column in REPLACED:
        op.create_index(f"ix_{table}_{column}", table, [column])
    for table, columns in reversed(ADDED):
        op.drop_index(_name(table, columns), table_name=table)
