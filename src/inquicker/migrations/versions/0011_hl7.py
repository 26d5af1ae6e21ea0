"""HL7v2: MLLP destinations per health system; deliveries serve webhooks and HL7 alike

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from inquicker.db.base import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hl7_destinations",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.String(length=40), nullable=False),
        sa.Column("health_system_pk", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("fanned_position", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["health_system_pk"],
            ["health_systems.pk"],
            name=op.f("fk_hl7_destinations_health_system_pk_health_systems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_hl7_destinations")),
        sa.UniqueConstraint("destination_id", name=op.f("uq_hl7_destinations_destination_id")),
    )
    with op.batch_alter_table("hl7_destinations") as batch:
        batch.create_index(
            batch.f("ix_hl7_destinations_health_system_pk"), ["health_system_pk"], unique=False
        )
    # A delivery now goes to a webhook subscription or to an HL7 destination: the same
    # lease, retry and per-visit-order machinery serves both (events/delivery.py).
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.alter_column("subscription_pk", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("destination_pk", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_webhook_deliveries_destination_pk_hl7_destinations"),
            "hl7_destinations",
            ["destination_pk"],
            ["pk"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            batch.f("uq_webhook_deliveries_destination_pk_event_pk"),
            ["destination_pk", "event_pk"],
        )
        batch.create_index(
            "ix_webhook_deliveries_destination_pk_visit_pk",
            ["destination_pk", "visit_pk"],
            unique=False,
        )


def downgrade() -> None:
    op.execute("DELETE FROM webhook_deliveries WHERE subscription_pk IS NULL")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index("ix_webhook_deliveries_destination_pk_visit_pk")
        batch.drop_constraint(
            batch.f("uq_webhook_deliveries_destination_pk_event_pk"), type_="unique"
        )
        batch.drop_constraint(
            batch.f("fk_webhook_deliveries_destination_pk_hl7_destinations"), type_="foreignkey"
        )
        batch.drop_column("destination_pk")
        batch.alter_column("subscription_pk", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("hl7_destinations") as batch:
        batch.drop_index(batch.f("ix_hl7_destinations_health_system_pk"))
    op.drop_table("hl7_destinations")
