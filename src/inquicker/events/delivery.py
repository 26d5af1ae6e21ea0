"""Deliveries in the database: claiming due ones under a lease, recording attempts, backoff.

The HTTP side lives in events/sender.py; the loop that joins them in events/worker.py.

Claims: a delivery is due when it is pending, its next attempt time has come, no live
lease holds it, and no earlier-position delivery of the same subscription and visit is
still pending (per-visit order: a receiver never hears ``visit.cancelled`` before the
``visit.booked`` it cancels, even while that one is being retried). On PostgreSQL the claim
is ``FOR UPDATE SKIP LOCKED`` plus a lease written in the same transaction, so concurrent
workers take disjoint deliveries, and a killed worker's lease simply runs out.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import aliased

from inquicker.booking.models import Visit
from inquicker.catalog.models import AppointmentType
from inquicker.catalog.schedule_models import Schedule
from inquicker.events.models import (
    Event,
    Hl7Destination,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[assignment]
ATTEMPTS: Table = WebhookAttempt.__table__  # type: ignore[assignment]

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
# A lease outlives the longest batch (two rounds of 10 s timeouts, see worker.py) and a
# dead worker's deliveries are due again within it: SPEC section 11 asks for 60 s.
LEASE_SECONDS = 60
RETRY_WINDOW_SECONDS = 24 * 3600
# 5 s, 15 s, 45 s (the first three retries within about a minute), then x3 up to an hour.
FIRST_DELAYS = (5.0, 15.0, 45.0)
GROWTH = 3.0
MAX_DELAY = 3600.0

Jitter = Callable[[float], float]


def default_jitter(delay: float) -> float:
    # +-10 %: receivers that failed together (an outage) are not retried in lockstep.
    return delay * random.uniform(0.9, 1.1)


def retry_delay(failures: int) -> float:
    """Seconds before the next attempt after ``failures`` failed attempts (1, 2, ...)."""
    if failures <= len(FIRST_DELAYS):
        return FIRST_DELAYS[max(failures, 1) - 1]
    return min(FIRST_DELAYS[-1] * GROWTH ** (failures - len(FIRST_DELAYS)), MAX_DELAY)


@dataclass(frozen=True)
class Claimed:
    """A leased delivery with everything needed to send it."""

    delivery_pk: int
    event_pk: int
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any]
    url: str
    secret: str
    include_patient_data: bool
    patient_data: str | None  # stored (sealed) form; only for include-patient-data
    attempts: int
    first_attempt_at: int | None
    # "webhook" or "hl7"; for HL7, ``url`` is mllp://host:port and the visit's length is
    # carried for the SCH/AIL/AIP segments.
    channel: str = "webhook"
    duration_minutes: int = 0


@dataclass(frozen=True)
class AttemptResult:
    delivery_pk: int
    outcome: str  # success, http-error, timeout, connection-error, redirect, ...
    status_code: int | None
    duration_ms: int
    excerpt: str  # first 1 KiB of the answer or the error

    @property
    def succeeded(self) -> bool:
        return self.outcome == "success"


def _due(key: str) -> Select[Any]:
    """Due deliveries of one endpoint kind (``key``: subscription_pk or destination_pk)."""
    earlier = aliased(WebhookDelivery)
    mine = getattr(WebhookDelivery, key)
    return (
        select(WebhookDelivery.pk)
        .where(
            mine.is_not(None),
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= bindparam("now"),
            (WebhookDelivery.lease_until.is_(None))
            | (WebhookDelivery.lease_until <= bindparam("now")),
            ~exists().where(
                and_(
                    getattr(earlier, key) == mine,
                    earlier.visit_pk == WebhookDelivery.visit_pk,
                    earlier.status == PENDING,
                    earlier.position < WebhookDelivery.position,
                )
            ),
        )
        .order_by(WebhookDelivery.position)
        .limit(bindparam("limit"))
    )


_DUE = _due("subscription_pk")
_DUE_HL7 = _due("destination_pk")
_LEASE = (
    update(DELIVERIES)
    .where(DELIVERIES.c.pk.in_(bindparam("pks", expanding=True)))
    .values(lease_until=bindparam("until"))
)
_DETAILS = (
    select(
        WebhookDelivery.pk,
        WebhookDelivery.attempts,
        WebhookDelivery.first_attempt_at,
        Event.pk.label("event_pk"),
        Event.type,
        Event.occurred_at,
        Event.payload,
        WebhookSubscription.url,
        WebhookSubscription.secret,
        WebhookSubscription.include_patient_data,
        Visit.patient_data,
    )
    .join(Event, Event.pk == WebhookDelivery.event_pk)
    .join(WebhookSubscription, WebhookSubscription.pk == WebhookDelivery.subscription_pk)
    .outerjoin(Visit, Visit.pk == Event.visit_pk)
    .where(WebhookDelivery.pk.in_(bindparam("pks", expanding=True)))
    .order_by(WebhookDelivery.position)
)


def _lease(conn: Connection, due: Select[Any], now: int, limit: int, lease: int) -> list[int]:
    if limit <= 0:
        return []
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=WebhookDelivery)
    pks = list(conn.execute(due, {"now": now, "limit": limit}).scalars().all())
    if pks:
        conn.execute(_LEASE, {"pks": pks, "until": now + lease})
    return pks


def claim(conn: Connection, now: int, limit: int, lease: int = LEASE_SECONDS) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries (oldest position first), HL7 ones first and at
    most half the batch (so neither channel starves the other and a batch still ends
    within the lease). Call in a transaction and commit at once: the row locks only bridge
    the moment between reading and leasing."""
    hl7_pks = _lease(conn, _DUE_HL7, now, limit // 2, lease)
    pks = _lease(conn, _DUE, now, limit - len(hl7_pks), lease)
    claimed = _hl7_details(conn, hl7_pks) if hl7_pks else []
    if not pks:
        return claimed
    return claimed + [
        Claimed(
            delivery_pk=r.pk,
            event_pk=r.event_pk,
            event_type=r.type,
            occurred_at=r.occurred_at,
            payload=r.payload,
            url=r.url,
            secret=r.secret,
            include_patient_data=r.include_patient_data,
            # Patient data is read only for the subscriptions entitled to it.
            patient_data=r.patient_data if r.include_patient_data else None,
            attempts=r.attempts,
            first_attempt_at=r.first_attempt_at,
        )
        for r in conn.execute(_DETAILS, {"pks": pks}).all()
    ]


_HL7_DETAILS = (
    select(
        WebhookDelivery.pk,
        WebhookDelivery.attempts,
        WebhookDelivery.first_attempt_at,
        Event.pk.label("event_pk"),
        Event.type,
        Event.occurred_at,
        Event.payload,
        Hl7Destination.host,
        Hl7Destination.port,
        Visit.patient_data,
        func.coalesce(AppointmentType.duration_minutes, Schedule.slot_minutes).label("minutes"),
    )
    .join(Event, Event.pk == WebhookDelivery.event_pk)
    .join(Hl7Destination, Hl7Destination.pk == WebhookDelivery.destination_pk)
    .outerjoin(Visit, Visit.pk == Event.visit_pk)
    .outerjoin(Schedule, Schedule.pk == Visit.schedule_pk)
    .outerjoin(AppointmentType, AppointmentType.pk == Visit.appointment_type_pk)
    .where(WebhookDelivery.pk.in_(bindparam("pks", expanding=True)))
    .order_by(WebhookDelivery.position)
)


def _hl7_details(conn: Connection, pks: list[int]) -> list[Claimed]:
    # An EHR needs the patient (PID): every HL7 destination receives it, sealed until the
    # moment of sending (hl7/message.py unseals it and never logs it).
    return [
        Claimed(
            delivery_pk=r.pk,
            event_pk=r.event_pk,
            event_type=r.type,
            occurred_at=r.occurred_at,
            payload=r.payload,
            # An IPv6 literal needs brackets to be read back from the URL.
            url=f"mllp://[{r.host}]:{r.port}" if ":" in r.host else f"mllp://{r.host}:{r.port}",
            secret="",
            include_patient_data=True,
            patient_data=r.patient_data,
            attempts=r.attempts,
            first_attempt_at=r.first_attempt_at,
            channel="hl7",
            duration_minutes=r.minutes or 0,
        )
        for r in conn.execute(_HL7_DETAILS, {"pks": pks}).all()
    ]


# What settling an attempt writes; one delivery by pk, or many settled alike at once.
_SETTLED_VALUES = {
    "status": bindparam("new_status"),
    "attempts": DELIVERIES.c.attempts + 1,
    "next_attempt_at": bindparam("next_at"),
    "lease_until": None,
    "first_attempt_at": bindparam("first_at"),
    "delivered_at": bindparam("delivered_at"),
}
_SETTLE = (
    update(DELIVERIES)
    .where(DELIVERIES.c.pk == bindparam("d_pk"), DELIVERIES.c.status == PENDING)
    .values(_SETTLED_VALUES)
)
_SETTLE_MANY = (
    update(DELIVERIES)
    .where(DELIVERIES.c.pk.in_(bindparam("d_pks", expanding=True)), DELIVERIES.c.status == PENDING)
    .values(_SETTLED_VALUES)
)


def record(
    conn: Connection,
    claimed: Sequence[Claimed],
    results: Sequence[AttemptResult],
    now: int,
    jitter: Jitter = default_jitter,
    retry_window: int = RETRY_WINDOW_SECONDS,
) -> None:
    """Write every attempt and settle its delivery: delivered, retried later, or dead."""
    if not results:
        return
    by_pk = {c.delivery_pk: c for c in claimed}
    at = datetime.fromtimestamp(now, UTC)
    conn.execute(
        insert(ATTEMPTS),
        [
            {
                "delivery_pk": r.delivery_pk,
                "attempted_at": at,
                "duration_ms": r.duration_ms,
                "status_code": r.status_code,
                "outcome": r.outcome,
                "response_excerpt": r.excerpt,
            }
            for r in results
        ],
    )
    groups: dict[tuple[str, int, int, datetime | None], list[int]] = {}
    for r in results:
        c = by_pk[r.delivery_pk]
        first = c.first_attempt_at if c.first_attempt_at is not None else now
        if r.succeeded:
            status, next_at, delivered_at = DELIVERED, now, at
        elif now - first >= retry_window:
            status, next_at, delivered_at = DEAD, now, None
        else:
            delay = jitter(retry_delay(c.attempts + 1))
            status, next_at, delivered_at = PENDING, now + max(1, round(delay)), None
        groups.setdefault((status, next_at, first, delivered_at), []).append(r.delivery_pk)
    # A batch that went well settles alike (delivered now, first tried now): one UPDATE per
    # set of equal values instead of one per delivery; the rest (retries with their own
    # jittered times) go together as one executemany.
    singles = []
    for (status, next_at, first, delivered_at), pks in groups.items():
        values = {
            "new_status": status,
            "next_at": next_at,
            "first_at": first,
            "delivered_at": delivered_at,
        }
        if len(pks) == 1:
            singles.append({"d_pk": pks[0], **values})
        else:
            conn.execute(_SETTLE_MANY, {"d_pks": pks, **values})
    if singles:
        conn.execute(_SETTLE, singles)
