"""What the protocol's handlers, filters and loaders may know of a request, as a protocol.

The request pipeline (``web.context.RequestContext``) satisfies it; declaring it here keeps
``jsonapi`` free of the tenancy, settings and database packages (tests/web/test_layering.py).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from inquicker.memo import Memo


class TenantScope(Protocol):
    """The tenant as resource scoping and memo keys see it."""

    @property
    def health_system_pks(self) -> tuple[int, ...]: ...

    # Each health system's data version (same order): catalog-derived values key on it.
    @property
    def data_versions(self) -> tuple[int, ...]: ...


class PageSizes(Protocol):
    @property
    def page_size_default(self) -> int: ...

    @property
    def page_size_max(self) -> int: ...


class ResourceContext(Protocol):
    """One request of one tenant, in its transaction."""

    @property
    def session(self) -> Session: ...

    @property
    def tenant(self) -> TenantScope: ...

    # Absolute prefix of every link: scheme://host/api/v3/{partner_hostname}
    @property
    def base_url(self) -> str: ...

    @property
    def settings(self) -> PageSizes: ...

    # Values derived from the catalog, keyed by data version (and ``generation``).
    @property
    def memo(self) -> Memo: ...

    # The process's catalog-change generation, read before the transaction began.
    @property
    def generation(self) -> int: ...

    def url(self, *parts: str) -> str: ...
