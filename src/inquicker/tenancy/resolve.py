"""Partner hostname -> tenant, and API key authentication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from inquicker.tenancy.keys import hash_key
from inquicker.tenancy.models import ApiKey, HealthSystem, Site, SiteHealthSystem

# last_used_at is only rewritten when older than this: a write per read request would
# serialize every reader on SQLite and bloat PostgreSQL for no operational gain.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Tenant:
    site_pk: int
    hostname: str
    health_system_pks: tuple[int, ...]
    # Each health system's data version (same order): bumped by every import, so anything
    # derived from the catalog can be cached under it.
    data_versions: tuple[int, ...] = ()
    # Health systems whose visit creation is switched off (an import changes it, and bumps
    # the data version, so this is as fresh as the rest of the tenant).
    booking_disabled: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated API key of a request."""

    key_pk: int
    key_id: str
    scopes: frozenset[str]
    # The key's own rate limit ("120/minute"), or None for the server's default.
    rate_limit: str | None = None
    # last_used_at is due for an update, done after the request in its own transaction: a
    # read that turned into a write would collide with writers on SQLite.
    touch: bool = False


# Built once: every request runs both.
_SITE = (
    select(
        Site.pk,
        SiteHealthSystem.health_system_pk,
        HealthSystem.data_version,
        HealthSystem.booking_enabled,
    )
    .outerjoin(SiteHealthSystem, SiteHealthSystem.site_pk == Site.pk)
    .outerjoin(HealthSystem, HealthSystem.pk == SiteHealthSystem.health_system_pk)
    .where(Site.hostname == bindparam("hostname"))
    .order_by(SiteHealthSystem.health_system_pk)
)
_KEY = select(
    ApiKey.pk, ApiKey.key_id, ApiKey.scopes, ApiKey.last_used_at, ApiKey.rate_limit
).where(
    ApiKey.key_hash == bindparam("key_hash"),
    ApiKey.site_pk == bindparam("site_pk"),
    ApiKey.revoked_at.is_(None),
)


_VERSIONS = select(HealthSystem.pk, HealthSystem.data_version).where(
    HealthSystem.pk.in_(bindparam("pks", expanding=True))
)


def data_versions(conn: Connection, health_system_pks: list[int]) -> dict[int, int]:
    """The data version of each health system found (how far a read replica has replayed)."""
    rows = conn.execute(_VERSIONS, {"pks": health_system_pks}).all()
    return {row.pk: row.data_version for row in rows}


def resolve_tenant(session: Session, hostname: str) -> Tenant | None:
    """The site answering to ``hostname`` and its health systems, or None."""
    rows = session.connection().execute(_SITE, {"hostname": hostname.lower()}).all()
    if not rows:
        return None
    linked = [r for r in rows if r.health_system_pk is not None]
    return Tenant(
        site_pk=rows[0].pk,
        hostname=hostname.lower(),
        health_system_pks=tuple(r.health_system_pk for r in linked),
        data_versions=tuple(r.data_version for r in linked),
        booking_disabled=frozenset(r.health_system_pk for r in linked if not r.booking_enabled),
    )


def authenticate(session: Session, tenant: Tenant, raw_key: str, now: datetime) -> Principal | None:
    """The live key of this site matching ``raw_key``; None for unknown, revoked or other-site."""
    params = {"key_hash": hash_key(raw_key), "site_pk": tenant.site_pk}
    row = session.connection().execute(_KEY, params).one_or_none()
    if row is None:
        return None
    scopes = frozenset(s for s in row.scopes.split(",") if s)
    stale = row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY
    return Principal(
        key_pk=row.pk, key_id=row.key_id, scopes=scopes, rate_limit=row.rate_limit, touch=stale
    )


def touch_key(session: Session, key_pk: int, now: datetime) -> None:
    """Record that a key was used (at most once a minute; see LAST_USED_GRANULARITY)."""
    session.execute(update(ApiKey).where(ApiKey.pk == key_pk).values(last_used_at=now))


def health_system_pk(session: Session, slug: str) -> int | None:
    """The health system's primary key from its id (slug), as CLI commands name it."""
    return session.scalar(select(HealthSystem.pk).where(HealthSystem.slug == slug))
