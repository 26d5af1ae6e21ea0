"""The console's own reads: pick lists, sites and their keys, within the operator's scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inquicker.catalog.models import Location, Provider
from inquicker.tenancy.models import ApiKey, Site, SiteHealthSystem


def locations(session: Session, hs_pks: Sequence[int]) -> list[Any]:
    return list(
        session.execute(
            select(Location.slug, Location.name)
            .where(Location.health_system_pk.in_(list(hs_pks)))
            .order_by(Location.name)
        ).all()
    )


def providers(session: Session, hs_pks: Sequence[int]) -> list[Any]:
    return list(
        session.execute(
            select(Provider.slug, Provider.name)
            .where(Provider.health_system_pk.in_(list(hs_pks)))
            .order_by(Provider.name)
        ).all()
    )


def sites(session: Session, hs_pks: Sequence[int]) -> list[Any]:
    return list(
        session.execute(
            select(Site.pk, Site.hostname, SiteHealthSystem.health_system_pk)
            .join(SiteHealthSystem, SiteHealthSystem.site_pk == Site.pk)
            .where(SiteHealthSystem.health_system_pk.in_(list(hs_pks)))
            .order_by(Site.hostname)
        ).all()
    )


def keys(session: Session, site_pks: Sequence[int]) -> list[Any]:
    return list(
        session.execute(
            select(
                ApiKey.key_id,
                ApiKey.name,
                ApiKey.scopes,
                ApiKey.created_at,
                ApiKey.last_used_at,
                ApiKey.revoked_at,
                Site.hostname,
            )
            .join(Site, Site.pk == ApiKey.site_pk)
            .where(ApiKey.site_pk.in_(list(site_pks)))
            .order_by(Site.hostname, ApiKey.created_at, ApiKey.pk)
        ).all()
    )


def key_site(session: Session, key_id: str) -> int | None:
    pk: int | None = session.scalars(
        select(ApiKey.site_pk).where(ApiKey.key_id == key_id)
    ).one_or_none()
    return pk
