"""The console's own reads: pick lists, sites and their keys, webhook subscriptions and
their deliveries, within the operator's scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inquicker.catalog.models import Location, Provider
from inquicker.events.models import Event, WebhookDelivery, WebhookSubscription
from inquicker.tenancy.models import ApiKey, HealthSystem, Site, SiteHealthSystem


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


def health_systems(session: Session, hs_pks: Sequence[int]) -> list[Any]:
    return list(
        session.execute(
            select(HealthSystem.pk, HealthSystem.slug, HealthSystem.name)
            .where(HealthSystem.pk.in_(list(hs_pks)))
            .order_by(HealthSystem.name, HealthSystem.pk)
        ).all()
    )


def subscriptions(session: Session, hs_pks: Sequence[int]) -> list[Any]:
    """The health systems' webhook subscriptions with delivery counts by status (never the
    secret), oldest first."""
    counts = (
        select(
            WebhookDelivery.subscription_pk.label("sub_pk"),
            func.count().label("total"),
            func.count().filter(WebhookDelivery.status == "pending").label("pending"),
            func.count().filter(WebhookDelivery.status == "dead").label("dead"),
        )
        .group_by(WebhookDelivery.subscription_pk)
        .subquery()
    )
    return list(
        session.execute(
            select(
                WebhookSubscription.subscription_id,
                WebhookSubscription.url,
                WebhookSubscription.event_types,
                WebhookSubscription.include_patient_data,
                WebhookSubscription.active,
                WebhookSubscription.created_at,
                HealthSystem.name.label("health_system_name"),
                func.coalesce(counts.c.total, 0).label("total"),
                func.coalesce(counts.c.pending, 0).label("pending"),
                func.coalesce(counts.c.dead, 0).label("dead"),
            )
            .join(HealthSystem, HealthSystem.pk == WebhookSubscription.health_system_pk)
            .outerjoin(counts, counts.c.sub_pk == WebhookSubscription.pk)
            .where(WebhookSubscription.health_system_pk.in_(list(hs_pks)))
            .order_by(WebhookSubscription.pk)
        ).all()
    )


def subscription(session: Session, hs_pks: Sequence[int], subscription_id: str) -> Any | None:
    """One subscription of these health systems (None for another's: it looks unknown)."""
    return session.execute(
        select(
            WebhookSubscription.pk,
            WebhookSubscription.subscription_id,
            WebhookSubscription.health_system_pk,
            WebhookSubscription.url,
            WebhookSubscription.event_types,
            WebhookSubscription.include_patient_data,
            WebhookSubscription.active,
            WebhookSubscription.created_at,
        ).where(
            WebhookSubscription.subscription_id == subscription_id,
            WebhookSubscription.health_system_pk.in_(list(hs_pks)),
        )
    ).one_or_none()


def delivery_of(session: Session, subscription_pk: int, delivery_pk: int) -> bool:
    """Whether the delivery belongs to this subscription."""
    found = session.scalar(
        select(WebhookDelivery.pk).where(
            WebhookDelivery.pk == delivery_pk, WebhookDelivery.subscription_pk == subscription_pk
        )
    )
    return found is not None


def event_visits(session: Session, event_pks: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Event pk -> the visit part of its payload (id, confirmation number), in one query."""
    if not event_pks:
        return {}
    rows = session.execute(
        select(Event.pk, Event.occurred_at, Event.payload).where(Event.pk.in_(list(event_pks)))
    ).all()
    found: dict[int, dict[str, Any]] = {}
    for pk, occurred_at, payload in rows:
        visit = (payload or {}).get("visit") or {}
        found[pk] = {
            "occurred_at": occurred_at,
            "visit_id": visit.get("id"),
            "confirmation_number": visit.get("confirmation-number"),
            "appointment_at": visit.get("appointment-at"),
        }
    return found


def health_systems_by_slug(session: Session, slugs: Sequence[str]) -> list[Any]:
    return list(
        session.execute(
            select(HealthSystem.pk, HealthSystem.slug).where(HealthSystem.slug.in_(list(slugs)))
        ).all()
    )
