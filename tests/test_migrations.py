"""The migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from inquicker.db.models import Base


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    # Tables, columns, types, constraints and indexes: a model change without its migration
    # (or a migration the models do not reflect) shows up here as an autogenerate diff.
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
