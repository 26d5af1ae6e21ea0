"""Catalog reads on PostgreSQL streaming replicas, never staler than the primary would serve.

A deployment lists its replicas in ``INQUICKER_DATABASE_REPLICA_URLS``; the request
pipeline hands a catalog read to :meth:`Replicas.run` together with the tenant it read from
the primary (through the directory's one-second memo) and a way to answer on the primary.

Two rules keep a replica from changing any answer the primary would give:

- **Caught up or skipped.** Every catalog change bumps its health system's
  ``data_version`` in the same transaction, and memos and the response cache key on the
  versions read with the tenant. A replica is used only once it has replayed at least those
  versions: serving older rows under a newer version would keep them in those caches for
  good, and would stretch the one-second window an import has to reach every process. What
  a replica has shown is remembered per health system (replay only moves forward, so a
  version seen stays true until the replica fails); a replica found behind is asked again
  at most every ``lag_recheck`` seconds, and the primary answers meanwhile.
- **A failing replica costs no error.** Any database error on a replica (refused or lost
  connection, timeout, a query cancelled by replay) answers the request on the primary; a
  replica that failed for any reason but a replay conflict is left alone for a back-off
  that doubles up to ``retry_max`` seconds, then one request tries it again.

Reads that decide a booking never come here: availability, visit tokens, visits, operator
pages, the console and the FHIR face read the primary (docs/operations.md, "Read replicas").
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from sqlalchemy import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from inquicker.db.engine import DbTimeouts, make_engine, make_sessionmaker, normalize_url
from inquicker.tenancy.resolve import data_versions

log = logging.getLogger("inquicker.replicas")

T = TypeVar("T")

# The first back-off after a failure, and its cap (it doubles with each failed retry).
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
# How often a replica found behind a tenant's data version is asked again: replay usually
# takes milliseconds, and the primary answers meanwhile.
LAG_RECHECK_SECONDS = 0.1
# A replica that does not answer must not hold a request longer than this (libpq, seconds).
CONNECT_TIMEOUT_SECONDS = 2
# Waiting for a pooled replica connection: past this the primary answers instead.
POOL_WAIT_SECONDS = 1.0
# PostgreSQL cancels a standby query that conflicts with replay with this SQLSTATE: that
# query's bad luck, not the replica's health.
RECOVERY_CONFLICT = "40001"


@dataclass(frozen=True, slots=True)
class ReplicaStats:
    """What one replica has done in this process (``Replicas.stats``)."""

    url: str  # without its password
    served: int  # reads it answered
    behind: int  # reads it could not take: behind the tenant's data version
    failures: int  # reads it failed (each answered by the primary)
    down: bool  # in back-off now


@dataclass(slots=True)
class _Served(Generic[T]):
    value: T


class _Replica:
    """One replica's engine and what this process knows of it (guarded by Replicas._lock)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_sessionmaker(engine)
        self.url = engine.url.render_as_string(hide_password=True)
        self.seen: dict[int, int] = {}  # health system pk -> highest data version replayed
        self.checked: dict[int, float] = {}  # health system pk -> when found behind
        self.backoff = 0.0  # 0: healthy
        self.retry_at = 0.0
        self.stats = ReplicaStats(self.url, 0, 0, 0, False)


class Replicas:
    """Read routing over one engine per replica; shared by one app's request threads."""

    def __init__(
        self,
        engines: Sequence[Engine],
        *,
        clock: Callable[[], float] = time.monotonic,
        retry_first: float = RETRY_FIRST_SECONDS,
        retry_max: float = RETRY_MAX_SECONDS,
        lag_recheck: float = LAG_RECHECK_SECONDS,
    ) -> None:
        if not engines:
            raise ValueError("Replicas needs at least one replica engine")
        self._replicas = [_Replica(engine) for engine in engines]
        self._clock = clock
        self._retry_first = retry_first
        self._retry_max = retry_max
        self._lag_recheck = lag_recheck
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self.primary_reads = 0  # reads handed to run() that the primary answered

    @classmethod
    def from_urls(
        cls,
        urls: Iterable[str],
        timeouts: DbTimeouts | None = None,
        *,
        retry_first: float = RETRY_FIRST_SECONDS,
        retry_max: float = RETRY_MAX_SECONDS,
        lag_recheck: float = LAG_RECHECK_SECONDS,
    ) -> Replicas | None:
        """One engine per URL (None when there are none), bounded as the primary's are, with
        a short connect and pool wait: a replica that is slow to answer is not worth it."""
        limits = replace(
            timeouts or DbTimeouts(),
            pool_seconds=min((timeouts or DbTimeouts()).pool_seconds, POOL_WAIT_SECONDS),
        )
        engines = [
            make_engine(
                url,
                limits,
                connect_args={
                    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                    "application_name": "inquicker-replica-reads",
                },
            )
            for url in urls
        ]
        if not engines:
            return None
        return cls(engines, retry_first=retry_first, retry_max=retry_max, lag_recheck=lag_recheck)

    def run(
        self,
        health_system_pks: Sequence[int],
        versions: Sequence[int],
        read: Callable[[Session], T],
        primary: Callable[[], T],
    ) -> T:
        """``read`` on a healthy replica that has replayed ``versions`` of the tenant's health
        systems, else ``primary()``. ``read`` must only read: it may run twice (on a replica
        that fails half-way, then on the primary)."""
        wanted = dict(zip(health_system_pks, versions, strict=True))
        start = next(self._turn)
        count = len(self._replicas)
        for i in range(count):
            replica = self._replicas[(start + i) % count]
            served = self._try(replica, wanted, read)
            if served is not None:
                return served.value
        with self._lock:
            self.primary_reads += 1
        return primary()

    def stats(self) -> list[ReplicaStats]:
        with self._lock:
            now = self._clock()
            return [replace(r.stats, down=r.retry_at > now) for r in self._replicas]

    def dispose(self) -> None:
        for replica in self._replicas:
            replica.engine.dispose()

    def _try(
        self, replica: _Replica, wanted: dict[int, int], read: Callable[[Session], T]
    ) -> _Served[T] | None:
        missing = self._claim(replica, wanted)
        if missing is None:
            return None
        served: _Served[T] | None = None
        try:
            with replica.sessions() as session, session.begin():
                # Checked in the transaction that reads: on a standby each statement's snapshot
                # is at least as new as the one before, so the reads see what the check saw.
                if not missing or self._caught_up(replica, wanted, missing, session):
                    served = _Served(read(session))
        except (DBAPIError, PoolTimeoutError) as exc:
            self._failed(replica, exc)
            return None
        with self._lock:
            if replica.backoff:  # it answered (served, or told us it is behind): healthy
                log.info("replica is back", extra={"replica": replica.url})
                replica.backoff = replica.retry_at = 0.0
            if served is not None:
                replica.stats = replace(replica.stats, served=replica.stats.served + 1)
        return served

    def _claim(self, replica: _Replica, wanted: dict[int, int]) -> list[int] | None:
        """The health systems to check on the replica first ([]: known caught up), or None
        when the replica is not to be used now (in back-off, or recently found behind)."""
        now = self._clock()
        with self._lock:
            if replica.retry_at > now:
                return None
            if replica.backoff:
                # This request retries the replica; the others keep away until it has.
                replica.retry_at = now + replica.backoff
            missing = [pk for pk, v in wanted.items() if replica.seen.get(pk, 0) < v]
            if any(
                now - replica.checked.get(pk, -self._lag_recheck) < self._lag_recheck
                for pk in missing
            ):
                replica.stats = replace(replica.stats, behind=replica.stats.behind + 1)
                return None
            return missing

    def _caught_up(
        self, replica: _Replica, wanted: dict[int, int], missing: list[int], session: Session
    ) -> bool:
        found = data_versions(session.connection(), missing)
        now = self._clock()
        with self._lock:
            for pk in missing:
                version = found.get(pk, 0)
                if version > replica.seen.get(pk, 0):
                    replica.seen[pk] = version
                if version < wanted[pk]:
                    replica.checked[pk] = now
                else:
                    replica.checked.pop(pk, None)
            behind = any(found.get(pk, 0) < wanted[pk] for pk in missing)
            if behind:
                replica.stats = replace(replica.stats, behind=replica.stats.behind + 1)
        return not behind

    def _failed(self, replica: _Replica, exc: Exception) -> None:
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
        # Only the class and SQLSTATE are logged: a driver's message can quote parameters.
        log.warning(
            "replica read failed; answered by the primary",
            extra={
                "replica": replica.url,
                "error": type(getattr(exc, "orig", None) or exc).__name__,
                "sqlstate": sqlstate,
            },
        )
        with self._lock:
            replica.stats = replace(replica.stats, failures=replica.stats.failures + 1)
            if sqlstate == RECOVERY_CONFLICT:
                return
            replica.backoff = min(max(replica.backoff * 2, self._retry_first), self._retry_max)
            replica.retry_at = self._clock() + replica.backoff
            # A replica that failed may come back rebuilt from an older backup: what it had
            # replayed must be read again, not assumed.
            replica.seen.clear()
            replica.checked.clear()
        # Its pooled connections are likely dead (a restart): the retry starts afresh.
        replica.engine.dispose()


def replica_urls(value: str) -> tuple[str, ...]:
    """The comma-separated URLs of ``INQUICKER_DATABASE_REPLICA_URLS`` (blanks dropped)."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def is_postgres_url(url: str) -> bool:
    try:
        return make_url(normalize_url(url)).get_backend_name() == "postgresql"
    except Exception:  # an unparsable URL is simply not one
        return False
