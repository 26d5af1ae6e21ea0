"""Confirmation numbers: unique and increasing per health system (SPEC section 7).

SQLite numbers from the health system's counter row; PostgreSQL from a sequence per health
system, created by the first booking that needs it, which continues after every number
given before it existed (by the counter of an earlier release, or on visits).
"""

from __future__ import annotations

from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from inquicker.booking.repository import confirmation_sequence
from inquicker.tenancy.models import HealthSystem
from tests.booking_http.helpers import book, ny
from tests.booking_http.world import CHEN_PC, World
from tests.conftest import ApiClient


def _demo_pk(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalars(
            select(HealthSystem.pk).where(HealthSystem.slug == "winter-health")
        ).one()


def _sequence_exists(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None


def test_numbers_continue_after_the_counter_of_an_earlier_release(
    api: ApiClient, world: World, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    hs_pk = _demo_pk(session_factory)
    with session_factory() as session, session.begin():
        session.execute(
            update(HealthSystem).where(HealthSystem.pk == hs_pk).values(last_confirmation_number=41)
        )
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        assert not _sequence_exists(engine, confirmation_sequence(hs_pk))

    first = book(api, world.book, CHEN_PC, ny(1, "11:00"))
    second = book(api, world.book, CHEN_PC, ny(1, "11:15"))

    assert first["attributes"]["confirmation-number"] == 42
    assert second["attributes"]["confirmation-number"] == 43
    if postgres:
        assert _sequence_exists(engine, confirmation_sequence(hs_pk))


def test_a_missing_sequence_continues_after_the_visits(
    api: ApiClient, world: World, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    """PostgreSQL: a sequence lost (say, a partial restore) restarts after the visits' numbers,
    whatever the old counter says; the unique key would refuse a repeat anyway."""
    hs_pk = _demo_pk(session_factory)
    first = book(api, world.book, CHEN_PC, ny(1, "11:00"))
    assert first["attributes"]["confirmation-number"] == 1
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f"DROP SEQUENCE {confirmation_sequence(hs_pk)}"))

    second = book(api, world.book, CHEN_PC, ny(1, "11:15"))

    assert second["attributes"]["confirmation-number"] == 2
