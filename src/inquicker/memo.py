"""The catalog memo: values derived from catalog data, shared by one app's request threads.

An instance of the one cache primitive (inquicker.cache) bounded by entries, with a TTL.
Keys must include whatever makes a value stale (a tenant's data version); the TTL only
bounds how long a change made outside the importer can go unseen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

from inquicker.cache import BoundedCache

# Per-schedule values are the bulk (rules ~2.8 KiB, booking facts ~2.6 KiB each, measured
# with tracemalloc on the bench data set), so this bounds a worker's memo to ~25 MB; with
# the 10 s TTL it still holds every schedule a worker can touch in that time.
MAX_ENTRIES = 4_000
TTL_SECONDS = 10.0


class Memo(BoundedCache[Hashable, Any]):
    """Least recently used out first; each entry also expires after ``ttl`` seconds."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(max_entries, ttl=ttl, clock=clock)
