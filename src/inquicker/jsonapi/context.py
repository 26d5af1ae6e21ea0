"""Per-request context handed to handlers, filters and loaders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from inquicker.settings import Settings
from inquicker.tenancy.resolve import Tenant


@dataclass(frozen=True)
class RequestContext:
    session: Session
    tenant: Tenant
    # Absolute prefix of every link: scheme://host/api/v3/{partner_hostname}
    base_url: str
    settings: Settings
    now: datetime

    def url(self, *parts: str) -> str:
        return "/".join((self.base_url, *parts))
