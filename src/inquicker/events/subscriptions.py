"""Webhook subscriptions: create (with a checked URL and a secret shown once), list, delete.

The URL rules (``check_url``, ``refused_address``) are pure so the deliverer applies the
same ones to the addresses a host name resolves to at send time.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inquicker.booking.lifecycle import EVENT_TYPE_NAMES
from inquicker.events.models import WebhookSubscription
from inquicker.events.sequencer import current_position
from inquicker.tenancy.resolve import health_system_pk

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
# Standard Webhooks asks for 24 to 64 bytes; 32 matches the HMAC-SHA256 block strength.
SECRET_BYTES = 32

# Names that lead to a cloud provider's instance metadata (credentials) whatever they
# resolve to; link-local addresses are refused separately, by range.
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
    }
)
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6 IMDS
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task credentials
    }
)


class SubscriptionError(Exception):
    """A refused subscription operation; the message is one line for the operator."""


@dataclass(frozen=True)
class CreatedSubscription:
    subscription_id: str
    secret: str  # shown once, at creation


@dataclass(frozen=True)
class SubscriptionView:
    subscription_id: str
    url: str
    event_types: tuple[str, ...]  # empty: every type
    include_patient_data: bool
    active: bool
    created_at: datetime


def refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a webhook may not be sent to ``address``, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if address.is_link_local:
        return f"{address} is a link-local address"
    if address.is_unspecified:
        return f"{address} is the unspecified address"
    if address.is_multicast:
        return f"{address} is a multicast address"
    return None


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = _literal_address(host)
    return address is not None and address.is_loopback


def check_url(url: str, *, include_patient_data: bool = False) -> str:
    """The URL if a webhook may be sent there; SubscriptionError saying why not."""
    if not url or len(url) > 2000 or any(ch.isspace() for ch in url):
        raise SubscriptionError("the URL must be a single http:// or https:// address")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise SubscriptionError(f"not a valid URL: {url!r}") from None
    if parts.scheme not in ("http", "https"):
        raise SubscriptionError("the URL must start with http:// or https://")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise SubscriptionError("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise SubscriptionError("the URL may not carry credentials; use the signing secret")
    if host in METADATA_HOSTS:
        raise SubscriptionError(f"{host} is a cloud metadata host")
    address = _literal_address(host)
    if address is not None and (reason := refused_address(address)):
        raise SubscriptionError(reason)
    if address is None and host.replace(".", "").isdigit():
        # 0x7f.1, 2130706433 and friends: numeric spellings some resolvers accept.
        raise SubscriptionError(f"{host} is not a host name or a dotted IP address")
    if include_patient_data and parts.scheme != "https" and not is_loopback_host(host):
        raise SubscriptionError(
            "--include-patient-data needs an https:// URL (or http:// to a loopback address)"
        )
    return url


def parse_event_types(events: str | None) -> list[str]:
    """The chosen event types (empty means every type); SubscriptionError naming an unknown."""
    if events is None or not events.strip():
        return []
    chosen = [name.strip() for name in events.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in EVENT_TYPE_NAMES]
    if unknown:
        raise SubscriptionError(
            f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPE_NAMES)}"
        )
    return sorted(set(chosen), key=EVENT_TYPE_NAMES.index)


def new_secret() -> str:
    # standardwebhooks signs and verifies but does not generate secrets, so `secrets` does.
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _health_system_pk(session: Session, slug: str) -> int:
    pk = health_system_pk(session, slug)
    if pk is None:
        raise SubscriptionError(f"no health system with id {slug!r}")
    return pk


def create_subscription(
    session: Session,
    health_system: str,
    url: str,
    events: str | None = None,
    include_patient_data: bool = False,
) -> CreatedSubscription:
    check_url(url, include_patient_data=include_patient_data)
    event_types = parse_event_types(events)
    hs_pk = _health_system_pk(session, health_system)
    # Start at the current feed position: a new subscriber hears of changes from now on,
    # not a flood of history (replay --since exists for that).
    position = current_position(session.connection())
    created = CreatedSubscription("whsub_" + secrets.token_hex(8), new_secret())
    session.add(
        WebhookSubscription(
            subscription_id=created.subscription_id,
            health_system_pk=hs_pk,
            url=url,
            event_types=event_types,
            secret=created.secret,
            include_patient_data=include_patient_data,
            active=True,
            fanned_position=position,
        )
    )
    session.flush()
    return created


def list_subscriptions(session: Session, health_system: str) -> list[SubscriptionView]:
    hs_pk = _health_system_pk(session, health_system)
    rows = session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.health_system_pk == hs_pk)
        .order_by(WebhookSubscription.pk)
    ).all()
    return [
        SubscriptionView(
            r.subscription_id,
            r.url,
            tuple(r.event_types),
            r.include_patient_data,
            r.active,
            r.created_at,
        )
        for r in rows
    ]


def delete_subscription(session: Session, subscription_id: str) -> None:
    """Delete the subscription with its deliveries and their attempts (cascade)."""
    deleted = session.execute(
        delete(WebhookSubscription).where(WebhookSubscription.subscription_id == subscription_id)
    ).rowcount  # type: ignore[attr-defined]
    if not deleted:
        raise SubscriptionError(f"no webhook subscription with id {subscription_id!r}")


def subscription_pk(session: Session, subscription_id: str) -> int:
    pk = session.scalar(
        select(WebhookSubscription.pk).where(WebhookSubscription.subscription_id == subscription_id)
    )
    if pk is None:
        raise SubscriptionError(f"no webhook subscription with id {subscription_id!r}")
    return pk
