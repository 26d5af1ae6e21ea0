"""A small thread-safe, bounded, expiring memo shared by one app's request threads."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

# Per-schedule values are the bulk (rules ~2.8 KiB, booking facts ~2.6 KiB each, measured
# with tracemalloc on the bench data set), so this bounds a worker's memo to ~25 MB; with
# the 10 s TTL it still holds every schedule a worker can touch in that time.
MAX_ENTRIES = 4_000


class Memo:
    """Least-recently-used entries out first; each entry also expires after ``ttl`` seconds.

    Keys must include whatever makes a value stale (e.g. a tenant's data version); the TTL
    only bounds how long a change made outside the importer can go unseen.
    """

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        ttl: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._ttl = ttl
        self._clock = clock

    def get(self, key: Hashable) -> Any | None:
        """The live value under ``key``, or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] < self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + self._ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
