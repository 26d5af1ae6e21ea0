"""Webhook test world: the reliability tenant, visits with events, a deliverer on a clock."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.booking.models import Visit
from inquicker.booking.phi import seal
from inquicker.db.base import utcnow
from inquicker.events.models import WebhookAttempt, WebhookDelivery
from inquicker.events.outbox import record_visit_event
from inquicker.events.subscriptions import create_subscription
from inquicker.events.worker import Deliverer, WorkerConfig
from inquicker.tenancy.models import Site
from tests.reliability.fixture import HOST, SOLO, Tenant, build

PHI_KEY = base64.b64decode("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")  # 32 bytes


class Clock:
    """Time the deliverer sees; tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class World:
    engine: Engine
    factory: sessionmaker[Session]
    tenant: Tenant
    clock: Clock

    def visit(self, first_name: str = "Ada", minute: int = 0) -> int:
        """A booked visit (patient data sealed with PHI_KEY) and its visit.booked event."""
        with self.factory() as session, session.begin():
            site_pk = session.scalar(select(Site.pk).where(Site.hostname == HOST))
            assert site_pk is not None
            visit = Visit(
                visit_id=uuid.uuid4().hex,
                health_system_pk=self.tenant.health_system_pk,
                site_pk=site_pk,
                schedule_pk=self.tenant.pks[SOLO],
                appointment_at=int(time.time()) + 86400 + minute * 60,
                confirmation_number=minute + 1,
                token_jti=str(uuid.uuid4()),
                fingerprint="0" * 64,
                patient_data=seal({"first-name": first_name, "last-name": "Lovelace"}, PHI_KEY),
            )
            session.add(visit)
            session.flush()
            record_visit_event(session.connection(), "visit.booked", visit.pk, utcnow())
            return visit.pk

    def event(self, visit_pk: int, event_type: str) -> int:
        with self.factory() as session, session.begin():
            return record_visit_event(session.connection(), event_type, visit_pk, utcnow())

    def subscribe(self, url: str, events: str | None = None, patient: bool = False) -> str:
        """A subscription; returns its secret."""
        with self.factory() as session, session.begin():
            return create_subscription(session, "reliable", url, events, patient).secret

    def deliverer(self, timeout: float = 2.0, concurrency: int = 4) -> Deliverer:
        return Deliverer(
            self.engine,
            PHI_KEY,
            WorkerConfig(timeout=timeout, concurrency=concurrency),
            clock=self.clock,
            jitter=lambda delay: delay,  # exact delays, so tests can assert them
        )

    def deliveries(self) -> list[WebhookDelivery]:
        with self.factory() as session:
            return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.pk)))

    def attempts(self) -> list[WebhookAttempt]:
        with self.factory() as session:
            return list(session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.pk)))


@pytest.fixture
def world(engine: Engine, session_factory: sessionmaker[Session]) -> Iterator[World]:
    with session_factory() as session, session.begin():
        tenant = build(session, hold_minutes=0)
    yield World(engine, session_factory, tenant, Clock())
