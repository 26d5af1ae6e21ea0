"""publishing: SMART Scheduling Links switch per health system, booking link template per site

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
# The lead re-chains migrations at merge (0006 is another branch's).
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("health_systems") as batch:
        batch.add_column(
            sa.Column("publish_slots", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("booking_url_template", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("booking_url_template")
    with op.batch_alter_table("health_systems") as batch:
        batch.drop_column("publish_slots")
