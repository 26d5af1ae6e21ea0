"""The one cache primitive: bounded, least-recently-used, optionally expiring and
generation-checked. The catalog memo, the tenant/key directory and the response cache are
instances of it; their freshness rules are written down in docs/operations.md ("Caches and
freshness").

- **Bound**: every entry has a cost (1 by default: a bound on entries; the body's size for
  the response cache: a bound on bytes); past ``max_cost`` the least recently used go first.
- **TTL** (optional): an entry older than ``ttl`` seconds is gone.
- **Generation** (optional): an entry stored under another process generation
  (``tenancy.changes``: bumped when this process changes tenants, keys or data) is gone.
- **Early refresh** (optional): in the last ``refresh_share`` of an entry's life, the first
  caller that can read the database is told to (``get`` answers None to it alone) while the
  others keep the live value, so one request per entry refreshes it instead of every request
  in flight when it would have expired.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(slots=True)
class _Entry(Generic[V]):
    value: V
    expires: float
    generation: int
    cost: int
    refresh_sent: bool = False


def _unit_cost(_: object) -> int:
    return 1


class BoundedCache(Generic[K, V]):
    """Thread-safe; shared by one app's request threads and its event loop."""

    def __init__(
        self,
        max_cost: int,
        *,
        cost: Callable[[V], int] = _unit_cost,
        ttl: float | None = None,
        refresh_share: float = 0.0,
        generation: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_cost = max_cost
        self._cost = cost
        self._ttl = ttl
        self._refresh_share = refresh_share
        self._generation = generation
        self._clock = clock
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_cost(self) -> int:
        return self._total

    def get(self, key: K, *, reading: bool = False) -> V | None:
        """The live value, or None.

        ``reading``: the caller can read the database now, so it is the one sent to refresh
        an entry near the end of its life (the event loop's fast path passes False).
        """
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if not self._live(entry, now):
                self._drop(key)
                return None
            if self._near_end(entry, now) and (reading or not entry.refresh_sent):
                entry.refresh_sent = True
                return None
            self._entries.move_to_end(key)
            return entry.value

    def peek(self, key: K) -> V | None:
        """The live value, even near the end of its life (for callers that are not the one
        refreshing it)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not self._live(entry, self._clock()):
                return None
            return entry.value

    def put(self, key: K, value: V, *, generation: int | None = None) -> None:
        """Store ``value``; ``generation`` is the one read *before* reading the value, so a
        change committed meanwhile makes it stale at once."""
        cost = self._cost(value)
        if generation is None:
            generation = self._generation() if self._generation else 0
        expires = self._clock() + self._ttl if self._ttl is not None else float("inf")
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = _Entry(value, expires, generation, cost)
            self._total += cost
            while self._total > self.max_cost and self._entries:
                self._drop(next(iter(self._entries)))

    def update(self, key: K, value: V) -> None:
        """Replace a live value, keeping when it expires (no reason to trust it longer)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not self._live(entry, self._clock()):
                return
            entry.value = value

    def _live(self, entry: _Entry[V], now: float) -> bool:
        if entry.expires <= now:
            return False
        return self._generation is None or entry.generation == self._generation()

    def _near_end(self, entry: _Entry[V], now: float) -> bool:
        if not self._refresh_share or self._ttl is None:
            return False
        return entry.expires - now < self._ttl * self._refresh_share

    def _drop(self, key: K) -> None:
        self._total -= self._entries.pop(key).cost
