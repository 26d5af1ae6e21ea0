"""Rendered catalog documents, per tenant and canonical request, bounded in bytes.

A key holds everything the document depends on: the site, its health systems' data
versions (bumped by every import, so a change makes new keys and old entries age out), the
link base (scheme, host, prefix), the URL and the query string as sent (links repeat
them). Only catalog reads are cached: nothing that depends on bookings or holds ever is.

The bound counts the body, its key and a fixed overhead per entry, so a client varying
query strings evicts the least recently used entries instead of growing the worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inquicker.cache import BoundedCache
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
    """Least recently used out first once ``max_bytes`` is reached; 0 disables it.

    The one cache primitive (inquicker.cache), bounded by bytes and checked against the
    process generation.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._cache: BoundedCache[CacheKey, CachedDocument] = BoundedCache(
            max_bytes, cost=lambda doc: doc.size, generation=changes.generation
        )

    @property
    def size_bytes(self) -> int:
        return self._cache.total_cost

    def __len__(self) -> int:
        return len(self._cache)

    def get(self, key: CacheKey) -> CachedDocument | None:
        return self._cache.get(key)

    def put(self, key: CacheKey, body: bytes, etag: str, generation: int) -> CachedDocument:
        """The document, stored unless it is too large for the bound."""
        size = len(body) + _key_bytes(key) + ENTRY_OVERHEAD
        document = CachedDocument(body, etag, generation, size)
        if size <= self.max_bytes // 8:  # one huge page must not flush everything else
            self._cache.put(key, document, generation=generation)
        return document
