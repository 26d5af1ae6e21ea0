"""schedule blocks: time ranges operators take out of a schedule's open hours

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 19:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from inquicker.db.base import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule_blocks",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("schedule_pk", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule_pk"],
            ["schedules.pk"],
            name=op.f("fk_schedule_blocks_schedule_pk_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_schedule_blocks")),
    )
    op.create_index(
        "ix_schedule_blocks_schedule_pk_starts_at",
        "schedule_blocks",
        ["schedule_pk", "starts_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_schedule_blocks_schedule_pk_starts_at", table_name="schedule_blocks")
    op.drop_table("schedule_blocks")
