"""Alembic migrations; run them with `inquicker migrate`."""
