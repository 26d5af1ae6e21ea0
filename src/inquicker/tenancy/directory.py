"""Tenants and API keys as this process last read them, for at most one second.

Every request needs its site, its health systems' data versions and its key. Reading them
is two queries; remembering them for a second makes a cached catalog read free of the
database, and bounds how stale a process can be: an import (which bumps the data version),
a new site or a revoked key reaches every process within ``FRESH_SECONDS``, and the
process that made the change at once (``tenancy.changes``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from inquicker.tenancy import changes
from inquicker.tenancy.keys import hash_key
from inquicker.tenancy.resolve import Principal, Tenant, authenticate, resolve_tenant

FRESH_SECONDS = 1.0
# The share of an entry's life at its end in which one caller is sent to read it again.
REFRESH_SHARE = 0.2
# Far more than the sites and live keys of any deployment; bounds a flood of bad hostnames.
MAX_ENTRIES = 10_000

V = TypeVar("V")


class _Fresh(Generic[V]):
    """Values read at most ``ttl`` seconds ago, in this generation; oldest out first.

    In the last ``REFRESH_SHARE`` of an entry's life, the first caller is told to read it
    again (``get`` answers None to that caller only) while every other caller keeps the
    live value: under load one request per entry and second reads the database, instead of
    every request in flight at the moment the entry would have expired.
    """

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        # key -> (expires, generation, value, a caller was sent to refresh it)
        self._entries: OrderedDict[Hashable, tuple[float, int, V, bool]] = OrderedDict()
        self._lock = threading.Lock()
        self._ttl = ttl
        self._clock = clock

    def get(self, key: Hashable, *, reading: bool = False) -> V | None:
        """The live value, or None: then the caller reads it from the database.

        ``reading``: the caller can read the database now, so it refreshes an entry that is
        near its end (a thread's request; the event loop's fast path passes False).
        """
        now = self._clock()
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            expires, generation, value, sent = found
            if expires <= now or generation != changes.generation():
                return None
            if expires - now < self._ttl * REFRESH_SHARE and (reading or not sent):
                self._entries[key] = (expires, generation, value, True)
                return None
            return value

    def update(self, key: Hashable, value: V) -> None:
        """Replace a live value, keeping when it was read (so when it expires)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return
            expires, generation, _, sent = found
            if expires <= self._clock() or generation != changes.generation():
                return
            self._entries[key] = (expires, generation, value, sent)

    def put(self, key: Hashable, value: V, generation: int) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + self._ttl, generation, value, False)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)


class Directory:
    """Tenant and key lookups shared by one app's requests (threads and the event loop)."""

    def __init__(
        self, ttl: float = FRESH_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._tenants: _Fresh[Tenant] = _Fresh(ttl, clock)
        self._keys: _Fresh[Principal] = _Fresh(ttl, clock)

    # Lookups that never touch the database (the event loop's fast path).

    def known_tenant(self, hostname: str) -> Tenant | None:
        return self._tenants.get(hostname.lower())

    def known_principal(self, tenant: Tenant, raw_key: str) -> Principal | None:
        return self._keys.get((tenant.site_pk, hash_key(raw_key)))

    # Lookups that read the database when the memo is missing or stale.

    def tenant(self, session: Session, hostname: str) -> Tenant | None:
        known = self._tenants.get(hostname.lower(), reading=True)
        if known is not None:
            return known
        # Read the generation first: a change committed meanwhile must not be masked.
        generation = changes.generation_read_by(session)
        tenant = resolve_tenant(session, hostname)
        if tenant is not None:
            self._tenants.put(hostname.lower(), tenant, generation)
        return tenant

    def principal(
        self, session: Session, tenant: Tenant, raw_key: str, now: datetime
    ) -> Principal | None:
        key = (tenant.site_pk, hash_key(raw_key))
        known = self._keys.get(key, reading=True)
        if known is not None:
            return known
        generation = changes.generation_read_by(session)
        principal = authenticate(session, tenant, raw_key, now)
        if principal is not None:
            self._keys.put(key, principal, generation)
        return principal

    def touched(self, tenant: Tenant, raw_key: str, principal: Principal) -> None:
        """The key's last use was just recorded: no need to record it again this minute."""
        # Within the window of the read that found the key: recording a use is no reason
        # to trust the key for longer.
        self._keys.update((tenant.site_pk, hash_key(raw_key)), replace(principal, touch=False))
