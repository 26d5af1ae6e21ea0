"""The read router's rules, on SQLite stand-ins for replicas and a hand-driven clock.

The real thing (a PostgreSQL hot standby) is in tests/system/test_read_replicas.py; here
each rule is shown alone and fast: which replica answers, when it is asked for its data
versions again, how long a failed one is left alone, and that the caller's own errors are
never mistaken for a replica's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, event, insert, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from inquicker.db.engine import make_engine
from inquicker.db.models import Base
from inquicker.db.replicas import Replicas, replica_urls
from inquicker.settings import Settings
from inquicker.tenancy.models import HealthSystem


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Counted:
    """Statements an engine ran, by kind."""

    def __init__(self, engine: Engine) -> None:
        self.versions = 0
        self.reads = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        statement: str = args[2]
        if statement.startswith("SELECT") and "data_version" in statement:
            self.versions += 1
        elif "replica_probe" in statement:
            self.reads += 1


def _replica(path: Path, versions: dict[int, int]) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        for pk, version in versions.items():
            conn.execute(
                insert(HealthSystem).values(
                    pk=pk,
                    slug=f"hs-{pk}",
                    name="HS",
                    features=[],
                    visit_settings={},
                    data_version=version,
                )
            )
    return engine


def _replay(engine: Engine, pk: int, version: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(HealthSystem).where(HealthSystem.pk == pk).values(data_version=version))


def _read(session: Session) -> str:
    session.execute(text("SELECT 'replica_probe'"))
    return "replica"


def _primary() -> str:
    return "primary"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def one(tmp_path: Path) -> Iterator[Engine]:
    engine = _replica(tmp_path / "one.db", {1: 5, 2: 7})
    yield engine
    engine.dispose()


def test_a_caught_up_replica_answers_and_is_not_asked_again(one: Engine, clock: Clock) -> None:
    counted = Counted(one)
    replicas = Replicas([one], clock=clock)
    assert replicas.run((1, 2), (5, 7), _read, _primary) == "replica"
    # Older versions than it has shown need no question either: replay only moves forward.
    assert replicas.run((1,), (4,), _read, _primary) == "replica"
    assert replicas.run((1, 2), (5, 7), _read, _primary) == "replica"
    assert (counted.versions, counted.reads) == (1, 3)
    [stats] = replicas.stats()
    assert (stats.served, stats.behind, stats.failures, stats.down) == (3, 0, 0, False)
    assert replicas.primary_reads == 0


def test_a_replica_behind_is_skipped_and_asked_again_after_the_recheck_interval(
    one: Engine, clock: Clock
) -> None:
    counted = Counted(one)
    replicas = Replicas([one], clock=clock, lag_recheck=0.1)
    assert replicas.run((1, 2), (6, 7), _read, _primary) == "primary"
    _replay(one, 1, 6)
    # Within the interval the replica is not asked: the primary answers at once.
    clock.now += 0.05
    assert replicas.run((1, 2), (6, 7), _read, _primary) == "primary"
    assert counted.versions == 1
    clock.now += 0.06
    assert replicas.run((1, 2), (6, 7), _read, _primary) == "replica"
    assert (counted.versions, counted.reads) == (2, 1)
    [stats] = replicas.stats()
    assert (stats.served, stats.behind) == (1, 2)
    assert replicas.primary_reads == 2


def test_a_health_system_the_replica_has_not_replayed_is_behind(one: Engine, clock: Clock) -> None:
    replicas = Replicas([one], clock=clock)
    assert replicas.run((1, 99), (5, 1), _read, _primary) == "primary"


def test_a_failing_replica_is_left_alone_for_a_doubling_back_off(
    tmp_path: Path, clock: Clock
) -> None:
    # A database in a directory that does not exist: every connection attempt fails.
    broken = make_engine(f"sqlite:///{tmp_path / 'missing' / 'gone.db'}")
    replicas = Replicas([broken], clock=clock, retry_first=1.0, retry_max=3.0)
    tries: list[int] = []
    for step in (0.0, 0.5, 0.6, 1.0, 2.1, 2.9, 0.2):
        clock.now += step
        before = replicas.stats()[0].failures
        assert replicas.run((1,), (1,), _read, _primary) == "primary"
        tries.append(replicas.stats()[0].failures - before)
    # Tried at once; then after 1 s; then after 2 s; then after 3 s (the cap), not between.
    assert tries == [1, 0, 1, 0, 1, 0, 1]
    [stats] = replicas.stats()
    assert stats.down and stats.served == 0
    assert replicas.primary_reads == 7


def test_a_replica_that_comes_back_is_used_again(one: Engine, clock: Clock) -> None:
    replicas = Replicas([one], clock=clock, retry_first=1.0)
    failing = True

    def read(session: Session) -> str:
        if failing:
            raise OperationalError("SELECT 1", {}, _DriverError("08006"))
        return _read(session)

    assert replicas.run((1,), (5,), read, _primary) == "primary"
    failing = False
    assert replicas.run((1,), (5,), read, _primary) == "primary"  # still in its back-off
    clock.now += 1.0
    assert replicas.run((1,), (5,), read, _primary) == "replica"
    assert replicas.run((1,), (5,), read, _primary) == "replica"
    [stats] = replicas.stats()
    assert (stats.served, stats.failures, stats.down) == (2, 1, False)


def test_a_replica_back_but_behind_is_healthy_and_skipped(one: Engine, clock: Clock) -> None:
    replicas = Replicas([one], clock=clock, retry_first=1.0)
    failing = iter((True,))

    def read(session: Session) -> str:
        if next(failing, False):
            raise OperationalError("SELECT 1", {}, _DriverError("57P01"))
        return _read(session)

    assert replicas.run((1,), (5,), read, _primary) == "primary"
    assert replicas.stats()[0].down
    clock.now += 1.0
    # It answers, only behind: no longer down, and asked again after the re-check interval.
    assert replicas.run((1,), (6,), read, _primary) == "primary"
    [stats] = replicas.stats()
    assert (stats.down, stats.behind, stats.failures) == (False, 1, 1)
    _replay(one, 1, 6)
    clock.now += 0.2
    assert replicas.run((1,), (6,), read, _primary) == "replica"


def test_a_query_cancelled_by_replay_costs_no_back_off(one: Engine, clock: Clock) -> None:
    replicas = Replicas([one], clock=clock)
    cancelled = iter((True, False))

    def read(session: Session) -> str:
        if next(cancelled):
            raise OperationalError("SELECT 1", {}, _DriverError("40001"))
        return _read(session)

    assert replicas.run((1,), (5,), read, _primary) == "primary"
    assert replicas.run((1,), (5,), read, _primary) == "replica"
    [stats] = replicas.stats()
    assert (stats.failures, stats.down) == (1, False)


def test_the_callers_own_errors_are_not_the_replicas(one: Engine, clock: Clock) -> None:
    replicas = Replicas([one], clock=clock)

    def not_found(_: Session) -> str:
        raise LookupError("no such resource")

    with pytest.raises(LookupError):
        replicas.run((1,), (5,), not_found, _primary)
    [stats] = replicas.stats()
    assert (stats.failures, stats.down) == (0, False)
    assert replicas.primary_reads == 0


def test_replicas_take_turns(one: Engine, tmp_path: Path, clock: Clock) -> None:
    two = _replica(tmp_path / "two.db", {1: 5})
    try:
        replicas = Replicas([one, two], clock=clock)
        for _ in range(4):
            assert replicas.run((1,), (5,), _read, _primary) == "replica"
        assert [s.served for s in replicas.stats()] == [2, 2]
        # Both behind: the primary answers; then the one that caught up takes every read.
        assert [replicas.run((1,), (6,), _read, _primary) for _ in range(2)] == ["primary"] * 2
        _replay(two, 1, 6)
        clock.now += 1.0
        assert [replicas.run((1,), (6,), _read, _primary) for _ in range(3)] == ["replica"] * 3
        assert [s.served for s in replicas.stats()] == [2, 5]
    finally:
        two.dispose()


def test_the_setting_lists_postgres_urls_and_never_echoes_them() -> None:
    urls = " postgresql://r1/db , ,postgres://u:pw@r2:5433/db,"
    primary = "postgresql://primary/db"
    settings = Settings(env="test", database_url=primary, database_replica_urls=urls)
    assert settings.replica_urls() == ("postgresql://r1/db", "postgres://u:pw@r2:5433/db")
    assert replica_urls("") == ()
    with pytest.raises(ValidationError) as refused:
        Settings(
            env="test",
            database_url=primary,
            database_replica_urls="postgresql://r1/db,sqlite:///secret-pw.db",
        )
    assert "replica 2 is not a PostgreSQL URL" in str(refused.value)
    assert "secret-pw" not in str(refused.value)
    with pytest.raises(ValidationError, match="needs a PostgreSQL INQUICKER_DATABASE_URL"):
        Settings(env="test", database_replica_urls="postgresql://r1/db")


def test_no_urls_no_router() -> None:
    assert Replicas.from_urls(()) is None


class _DriverError(Exception):
    """What psycopg raises, as far as the router looks: an error with a SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__("driver error")
        self.sqlstate = sqlstate
