"""HL7 destinations (MLLP endpoints of a health system's EHR): create, list, delete."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inquicker.events.models import Hl7Destination
from inquicker.events.sequencer import current_position
from inquicker.events.subscriptions import _literal_address, refused_address
from inquicker.tenancy.resolve import health_system_pk


class DestinationError(Exception):
    """A refused destination operation; the message is one line for the operator."""


@dataclass(frozen=True)
class DestinationView:
    destination_id: str
    host: str
    port: int
    active: bool
    created_at: datetime


def check_address(host: str, port: int) -> None:
    """Refuse what can never be an EHR: no host, a port out of range, and the same
    addresses webhooks refuse (cloud metadata, link-local, ...)."""
    if not host or len(host) > 255 or any(c.isspace() for c in host):
        raise DestinationError("--host must be a host name or an IP address")
    if not 1 <= port <= 65535:
        raise DestinationError(f"--port must be between 1 and 65535, not {port}")
    literal = _literal_address(host)
    if literal is not None and (reason := refused_address(literal)):
        raise DestinationError(f"refused host: {reason}")


def _health_system_pk(session: Session, slug: str) -> int:
    pk = health_system_pk(session, slug)
    if pk is None:
        raise DestinationError(f"no health system with id {slug!r}")
    return pk


def create_destination(session: Session, health_system: str, host: str, port: int) -> str:
    """Add an MLLP destination; its id."""
    check_address(host, port)
    hs_pk = _health_system_pk(session, health_system)
    # Like a webhook subscription, a new destination hears of changes from now on.
    position = current_position(session.connection())
    destination_id = "hl7dst_" + secrets.token_hex(8)
    session.add(
        Hl7Destination(
            destination_id=destination_id,
            health_system_pk=hs_pk,
            host=host,
            port=port,
            active=True,
            fanned_position=position,
        )
    )
    session.flush()
    return destination_id


def list_destinations(session: Session, health_system: str) -> list[DestinationView]:
    hs_pk = _health_system_pk(session, health_system)
    rows = session.scalars(
        select(Hl7Destination)
        .where(Hl7Destination.health_system_pk == hs_pk)
        .order_by(Hl7Destination.pk)
    ).all()
    return [DestinationView(r.destination_id, r.host, r.port, r.active, r.created_at) for r in rows]


def delete_destination(session: Session, destination_id: str) -> None:
    """Delete the destination with its deliveries and their attempts (cascade)."""
    deleted = session.execute(
        delete(Hl7Destination).where(Hl7Destination.destination_id == destination_id)
    ).rowcount  # type: ignore[attr-defined]
    if not deleted:
        raise DestinationError(f"no HL7 destination with id {destination_id!r}")
