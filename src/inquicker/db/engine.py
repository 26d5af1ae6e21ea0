"""Engine construction for SQLite and PostgreSQL, and the session factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from inquicker.geo import SQLITE_FUNCTION, haversine_miles


def normalize_url(url: str) -> str:
    """Select psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class DbTimeouts:
    """Bounds on how long a request waits for the database (the server's; commands such as
    imports and migrations keep the generous defaults)."""

    sqlite_busy_ms: int = 30_000  # waiting for SQLite's write lock
    lock_ms: int = 0  # PostgreSQL lock_timeout (0: none)
    statement_ms: int = 0  # PostgreSQL statement_timeout (0: none)
    pool_seconds: float = 30.0  # waiting for a pooled connection


def make_engine(url: str, timeouts: DbTimeouts | None = None, **kwargs: Any) -> Engine:
    """An engine tuned for its backend (SQLite: WAL, foreign keys, busy timeout)."""
    url = normalize_url(url)
    limits = timeouts or DbTimeouts()
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": limits.sqlite_busy_ms / 1000},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    options = []
    if limits.lock_ms:
        options.append(f"-c lock_timeout={limits.lock_ms}")
    if limits.statement_ms:
        options.append(f"-c statement_timeout={limits.statement_ms}")
    if options:
        kwargs.setdefault("connect_args", {})["options"] = " ".join(options)
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=limits.pool_seconds,
        **kwargs,
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (needed for
        # BEGIN IMMEDIATE on writes that claim seats).
        dbapi_conn.isolation_level = None
        dbapi_conn.create_function(SQLITE_FUNCTION, 4, haversine_miles, deterministic=True)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two seat claimers never interleave
        # between reading free seats and inserting claims (and never deadlock on upgrade).
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


_immediate: ContextVar[bool] = ContextVar("sqlite_begin_immediate", default=False)


class WriteConflictError(Exception):
    """A concurrent writer won a race (a unique key, a serialization failure): retry."""


@contextmanager
def immediate_writes() -> Iterator[None]:
    """Transactions begun inside take SQLite's write lock at BEGIN (no effect elsewhere)."""
    token = _immediate.set(True)
    try:
        yield
    finally:
        _immediate.reset(token)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    with factory() as session, session.begin():
        yield session
