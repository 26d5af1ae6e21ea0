"""Tenants and API keys as this process last read them, for at most one second.

Every request needs its site, its health systems' data versions and its key. Reading them
is two queries; remembering them for a second makes a cached catalog read free of the
database, and bounds how stale a process can be: an import (which bumps the data version),
a new site or a revoked key reaches every process within ``FRESH_SECONDS``, and the
process that made the change at once (``tenancy.changes``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from inquicker.cache import BoundedCache
from inquicker.tenancy import changes
from inquicker.tenancy.keys import hash_key
from inquicker.tenancy.resolve import Principal, Tenant, authenticate, resolve_tenant

FRESH_SECONDS = 1.0
# The share of an entry's life at its end in which one caller is sent to read it again.
REFRESH_SHARE = 0.2
# Far more than the sites and live keys of any deployment; bounds a flood of bad hostnames.
MAX_ENTRIES = 10_000


class Directory:
    """Tenant and key lookups shared by one app's requests (threads and the event loop)."""

    def __init__(
        self, ttl: float = FRESH_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        # The one cache primitive (inquicker.cache): entries, TTL, generation, early refresh.
        self._tenants: BoundedCache[str, Tenant] = BoundedCache(
            MAX_ENTRIES,
            ttl=ttl,
            refresh_share=REFRESH_SHARE,
            generation=changes.generation,
            clock=clock,
        )
        self._keys: BoundedCache[tuple[int, str], Principal] = BoundedCache(
            MAX_ENTRIES,
            ttl=ttl,
            refresh_share=REFRESH_SHARE,
            generation=changes.generation,
            clock=clock,
        )

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
            self._tenants.put(hostname.lower(), tenant, generation=generation)
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
            self._keys.put(key, principal, generation=generation)
        return principal

    def touched(self, tenant: Tenant, raw_key: str, principal: Principal) -> None:
        """The key's last use was just recorded: no need to record it again this minute."""
        # Within the window of the read that found the key: recording a use is no reason
        # to trust the key for longer.
        self._keys.update((tenant.site_pk, hash_key(raw_key)), replace(principal, touch=False))
