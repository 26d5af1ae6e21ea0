"""Rendered catalog documents, per tenant and canonical request, bounded in bytes.

A key holds everything the document depends on: the site, its health systems' data
versions (bumped by every import, so a change makes new keys and old entries age out), the
link base (scheme, host, prefix), the URL and the query string as sent (links repeat
them). Only catalog reads are cached: nothing that depends on bookings or holds ever is.

The bound counts the body, its key and a fixed overhead per entry, so a client varying
query strings evicts the least recently used entries instead of growing the worker.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from inquicker.tenancy import changes
from inquicker.tenancy.resolve import Tenant

# Per entry beyond the body and the key's text: dict slot, key tuples and string headers,
# the entry object, the ETag. tracemalloc showed ~0.8 KiB for a three-parameter query.
ENTRY_OVERHEAD = 1024

CacheKey = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class CachedDocument:
    body: bytes
    etag: str
    generation: int
    size: int


def cache_key(
    tenant: Tenant, base_url: str, url: str, params: Sequence[tuple[str, str]]
) -> CacheKey:
    """``url`` is the request's URL as sent (without query): list links repeat it verbatim."""
    return (
        tenant.site_pk,
        tenant.health_system_pks,
        tenant.data_versions,
        base_url,
        url,
        tuple(params),
    )


def _key_bytes(key: CacheKey) -> int:
    base_url, url, params = key[3], key[4], key[5]
    assert isinstance(base_url, str) and isinstance(url, str)
    assert isinstance(params, tuple)
    return len(base_url) + len(url) + sum(len(k) + len(v) for k, v in params)


class ResponseCache:
    """Least recently used out first once ``max_bytes`` is reached; 0 disables it."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, CachedDocument] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> CachedDocument | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found.generation != changes.generation():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return found

    def put(self, key: CacheKey, body: bytes, etag: str, generation: int) -> None:
        size = len(body) + _key_bytes(key) + ENTRY_OVERHEAD
        if size > self.max_bytes // 8:  # one huge page must not flush everything else
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = CachedDocument(body, etag, generation, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                oldest = next(iter(self._entries))
                self._drop(oldest)

    def _drop(self, key: CacheKey) -> None:
        self._bytes -= self._entries.pop(key).size
