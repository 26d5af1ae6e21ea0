"""API keys: generated once, stored only as a hash, named, scoped and revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from inquicker.db.base import utcnow
from inquicker.tenancy.models import ApiKey, Site

SCOPES = ("read", "book")
KEY_PREFIX = "iqk_"


class KeyOperationError(Exception):
    """A key operation refused, with a one-line reason for the operator."""


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret: str  # shown once, never stored
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    name: str | None
    scopes: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    rate_limit: str | None = None


def hash_key(raw: str) -> str:
    """SHA-256 hex of a key as presented."""
    return hashlib.sha256(raw.strip().encode()).hexdigest()


def parse_scopes(raw: str) -> tuple[str, ...]:
    scopes = tuple(dict.fromkeys(s.strip() for s in raw.split(",") if s.strip()))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise KeyOperationError(f"scopes must be a comma-separated subset of {','.join(SCOPES)}")
    return scopes


def _site(session: Session, hostname: str) -> Site:
    site = session.scalars(select(Site).where(Site.hostname == hostname.lower())).one_or_none()
    if site is None:
        raise KeyOperationError(f"no site with hostname {hostname!r} (import a bundle first)")
    return site


def parse_key_rate(raw: str | None) -> str | None:
    """A key's own rate limit, normalised ("120/minute"); None for the server's default."""
    if raw is None or not raw.strip():
        return None
    from inquicker.web.ratelimit import parse_rate

    try:
        parse_rate(raw.strip())
    except ValueError as exc:
        raise KeyOperationError(f"--rate: {exc}") from None
    return raw.strip().lower()


def create_key(
    session: Session,
    hostname: str,
    name: str | None,
    scopes: tuple[str, ...],
    rate_limit: str | None = None,
) -> IssuedKey:
    """Issue a new key for the site; the secret is returned once and only its hash is kept."""
    rate_limit = parse_key_rate(rate_limit)
    site = _site(session, hostname)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = "key_" + secrets.token_hex(6)
    session.add(
        ApiKey(
            key_id=key_id,
            site_pk=site.pk,
            name=name,
            key_hash=hash_key(secret),
            scopes=",".join(scopes),
            created_at=utcnow(),
            rate_limit=rate_limit,
        )
    )
    session.flush()
    return IssuedKey(key_id=key_id, secret=secret, scopes=scopes)


def list_keys(session: Session, hostname: str) -> list[KeyInfo]:
    site = _site(session, hostname)
    rows = session.scalars(
        select(ApiKey).where(ApiKey.site_pk == site.pk).order_by(ApiKey.created_at, ApiKey.pk)
    )
    return [
        KeyInfo(
            k.key_id, k.name, k.scopes, k.created_at, k.last_used_at, k.revoked_at, k.rate_limit
        )
        for k in rows
    ]


def revoke_key(session: Session, key_id: str) -> None:
    key = session.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).one_or_none()
    if key is None:
        raise KeyOperationError(f"no key with id {key_id!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
