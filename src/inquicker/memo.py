"""A small thread-safe, bounded, expiring memo shared by one app's request threads."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class Memo:
    """Least-recently-used entries out first; each entry also expires after ``ttl`` seconds.

    Keys must include whatever makes a value stale (e.g. a tenant's data version); the TTL
    only bounds how long a change made outside the importer can go unseen.
    """

    def __init__(
        self,
        max_entries: int = 20_000,
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
