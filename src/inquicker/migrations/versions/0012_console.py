"""console: visits by health system and appointment time (day views, the operator list)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 21:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A day of one health system's visits is a range of this index, already in time order
    # (the console's day view and GET /admin/api/visits?filter[from]=...): without it both
    # read every visit the health system ever had.
    op.create_index(
        "ix_visits_health_system_pk_appointment_at",
        "visits",
        ["health_system_pk", "appointment_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_visits_health_system_pk_appointment_at", table_name="visits")
