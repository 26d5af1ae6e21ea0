"""The catalog memo: values derived from catalog data, shared by one app's request threads.

An instance of the one cache primitive (inquicker.cache) bounded by entries, with a TTL.
Keys must include whatever makes a value stale (a tenant's data version); the TTL only
bounds how long a change made outside the importer can go unseen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from inquicker.cache import BoundedCache

# Per-schedule values are the bulk (rules ~2.8 KiB, booking facts ~2.6 KiB each, measured
# with tracemalloc on the bench data set), so this bounds a worker's memo to ~25 MB; with
# the 10 s TTL it still holds every schedule a worker can touch in that time.
MAX_ENTRIES = 4_000
TTL_SECONDS = 10.0
# In the last 3 s of an entry's life one caller rebuilds it while the others keep the live
# value: without this, every request needing an expensive value (the provider search's
# table of recorded pages) queued behind its rebuild each time it lapsed, and their wait was
# the near search's p99 (700-900 ms at 64 connections, issue 15).
REFRESH_SHARE = 0.3

T = TypeVar("T")


class NeedsDatabase(BaseException):
    """Raised in a memory-only run (``memory_only``) by whatever would read the database or
    wait for another request building a memo value. A BaseException, so that no handler's
    ``except Exception`` can turn it into an answer: it must reach the run's caller."""


_MEMORY_ONLY: ContextVar[bool] = ContextVar("inquicker.memory_only", default=False)


def require_database() -> None:
    """Say that what follows reads the database: in a memory-only run, give up now rather
    than compute what the database's answer would be needed for (a request that missed
    the recorded pages must not rank a provider search on the event loop first)."""
    if _MEMORY_ONLY.get():
        raise NeedsDatabase


@contextmanager
def memory_only() -> Iterator[None]:
    """Within: ``Memo.once`` answers from the memo or raises ``NeedsDatabase``, never builds
    or waits (the event loop answers warm catalog reads this way: web.pipeline)."""
    token = _MEMORY_ONLY.set(True)
    try:
        yield
    finally:
        _MEMORY_ONLY.reset(token)


class Memo(BoundedCache[Hashable, Any]):
    """Least recently used out first; each entry also expires after ``ttl`` seconds."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(max_entries, ttl=ttl, refresh_share=REFRESH_SHARE, clock=clock)
        self._building: dict[Hashable, threading.Lock] = {}
        self._building_guard = threading.Lock()

    def once(self, key: Hashable, build: Callable[[], T]) -> T:
        """The live value under ``key``, built by one caller at a time.

        When a value that is expensive to build lapses (every TTL), the request threads
        in flight would otherwise all build it at once: the provider search's location
        index (a read of every active schedule), built by all 8 threads every 10 s, was
        69% of a loaded worker's samples (``bench/suite.py --profile providers-near``,
        issue 15). Callers for the
        same key wait for the one building it (each in its own transaction: readers do
        not block each other's reads) and take its value.
        """
        memory_only = _MEMORY_ONLY.get()
        # Near the end of an entry's life a caller that can read the database is sent to
        # rebuild it (None); one on the event loop gets the value unless it is the first.
        found: T | None = self.get(key, reading=not memory_only)
        if found is not None:
            return found
        if memory_only:
            raise NeedsDatabase(key)
        with self._building_guard:
            lock = self._building.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=False):
            # Another caller is building it: a value still live is as good as before.
            live: T | None = self.peek(key)
            if live is not None:
                return live
            lock.acquire()
        try:
            found = self.get(key, reading=True)
            if found is None:
                found = build()
                self.put(key, found)
            return found
        finally:
            lock.release()
            with self._building_guard:
                if self._building.get(key) is lock:
                    del self._building[key]
