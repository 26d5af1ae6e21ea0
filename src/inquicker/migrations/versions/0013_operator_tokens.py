"""operator tokens: a visit token an operator's reschedule issues has no API key

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 22:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # An operator (console, or PATCH /admin/api/visits/{id} without meta.visit-token) moves a
    # visit through the same hold-and-convert path as a partner, with a token recorded for
    # the new time that no API key asked for. Such tokens never count against a key's
    # max-holds cap (NULL equals no key).
    with op.batch_alter_table("visit_tokens") as batch:
        batch.alter_column("api_key_pk", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Keyless tokens are used (or rolled back) in the transaction that recorded them: by now
    # they are history only, and the older schema has no place for them.
    op.execute(sa.text("DELETE FROM visit_tokens WHERE api_key_pk IS NULL"))
    with op.batch_alter_table("visit_tokens") as batch:
        batch.alter_column("api_key_pk", existing_type=sa.Integer(), nullable=False)
