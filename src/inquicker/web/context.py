"""Per-request context handed to handlers, filters and loaders.

It satisfies ``jsonapi.context.ResourceContext``, the protocol's view of a request, and adds
what domains need (the tenant with its hostname and switches, settings, the clock, the key
directory)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn, cast

from sqlalchemy.orm import Session

from inquicker.availability.kept_times import KeptTimes
from inquicker.memo import Memo, NeedsDatabase
from inquicker.settings import Settings
from inquicker.tenancy import changes
from inquicker.tenancy.directory import Directory
from inquicker.tenancy.resolve import Tenant


@dataclass(frozen=True)
class RequestContext:
    session: Session
    tenant: Tenant
    # Absolute prefix of every link: scheme://host/api/v3/{partner_hostname}
    base_url: str
    settings: Settings
    now: datetime
    # Per-app memo for values derived from the catalog (keyed by data version).
    memo: Memo = field(default_factory=Memo)
    # Tenants and keys as read at most a second ago (shared by the app's requests).
    directory: Directory = field(default_factory=Directory)
    # This process's catalog-change generation (tenancy.changes) read before the request's
    # transaction began: memo keys that include it (with the data version) never serve
    # what a change committed here has replaced, as the response cache does not.
    generation: int = field(default_factory=changes.generation)
    # Offered times per schedule-week and seat-claims version (availability.kept_times).
    kept_times: KeptTimes = field(default_factory=KeptTimes)

    def url(self, *parts: str) -> str:
        return "/".join((self.base_url, *parts))


class _NoDatabase:
    """The session of a memory-only run (``web.pipeline.Api.answer_from_memory``): any use
    of it means the answer needs the database."""

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("_"):  # introspection (pytest, copy, debuggers), not a query
            raise AttributeError(name)
        raise NeedsDatabase(name)


NO_DATABASE = cast(Session, _NoDatabase())
