"""hardening: per-key rate limits, the visit creation switch, maintenance mode

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from inquicker.db.base import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("rate_limit", sa.String(length=40), nullable=True))
    with op.batch_alter_table("health_systems") as batch:
        batch.add_column(
            sa.Column("booking_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "service_flags",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("retry_after", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_flags")),
    )


def downgrade() -> None:
    op.drop_table("service_flags")
    with op.batch_alter_table("health_systems") as batch:
        batch.drop_column("booking_enabled")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("rate_limit")
