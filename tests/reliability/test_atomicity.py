"""A booking is all or nothing: a failure after the seats were claimed leaves no trace.

The request owns the transaction (ARCHITECTURE convention 4): a crash anywhere between
the seat claim and the commit must roll back the seat claims, the visit and the token's
"used" mark, and answer a 500 with an error id; the same token must then still book. (On
SQLite the confirmation counter rolls back too; on PostgreSQL a sequence number taken by the
failed attempt is a gap, which the contract allows: unique and increasing per health system.)
And the same token posted twice at once never makes two visits.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from inquicker.app import create_app
from inquicker.availability.models import SeatClaim
from inquicker.booking import repository, seats, visit_service, visits_endpoint
from inquicker.booking.models import Visit, VisitToken
from inquicker.settings import Settings
from tests.conftest import ApiClient
from tests.reliability.fixture import (
    CELLS_PER_VISIT,
    SECRET,
    SOLO,
    ZONE,
    Tenant,
    build,
    days_ahead,
    visit_body,
)
from tests.reliability.helpers import fire_together, mint, post_visit

SLOT = datetime.combine(days_ahead(3), time(10), ZoneInfo(ZONE)).isoformat()


def _tenant(session_factory: sessionmaker[Session], hold_minutes: int) -> Tenant:
    with session_factory() as session, session.begin():
        return build(session, hold_minutes=hold_minutes)


@pytest.fixture
def client(engine: Engine) -> Iterator[ApiClient]:
    settings = Settings(env="test", access_log=False, secret_key=SECRET)
    app = create_app(settings, engine=engine)
    with ApiClient(app, base_url="http://testserver", raise_server_exceptions=False) as c:
        yield c


def _state(session_factory: sessionmaker[Session], jti: str) -> dict[str, Any]:
    with session_factory() as session:
        token = session.get_one(VisitToken, jti)
        return {
            "visits": session.scalar(select(func.count()).select_from(Visit)),
            # (seat, taken by a visit, live hold): a converted hold keeps its hold_jti.
            "claims": sorted(
                (c.seat, c.visit_pk is not None, c.expires_at is not None)
                for c in session.scalars(select(SeatClaim))
            ),
            "token_used": token.used_at is not None,
            "token_visit": token.visit_pk,
            "confirmation_numbers": sorted(session.scalars(select(Visit.confirmation_number))),
        }


def _after_real(target: Callable[..., Any], ran: list[Any]) -> Callable[..., Any]:
    """``target`` wrapped: the real call runs (and is recorded), then the process "crashes"."""

    def crash(*args: Any, **kwargs: Any) -> Any:
        ran.append(target(*args, **kwargs))
        raise RuntimeError("injected failure after the real call")

    return crash


# (what to break, hold minutes): with holds on, the token's hold is converted to the
# visit's claims (convert_hold); with holds off, the visit claims free seats (claim).
INJECTIONS = {
    "after-seat-claim": (seats, "claim", 0),
    "after-hold-conversion": (seats, "convert_hold", 30),
    "after-booking-before-commit": (visits_endpoint, "visit_document", 0),
    "after-booking-with-hold": (visits_endpoint, "visit_document", 30),
}


@pytest.mark.parametrize("injection", list(INJECTIONS))
def test_a_failure_after_the_claim_rolls_everything_back(
    injection: str,
    engine: Engine,
    client: ApiClient,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module, name, hold_minutes = INJECTIONS[injection]
    tenant = _tenant(session_factory, hold_minutes)
    token = mint(client, tenant.key, SOLO, SLOT)
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    body = visit_body(SOLO, SLOT, "Atomic")
    before = _state(session_factory, jti)
    held = [(0, False, True)] * CELLS_PER_VISIT if hold_minutes else []
    assert before == {
        "visits": 0,
        "claims": held,
        "token_used": False,
        "token_visit": None,
        "confirmation_numbers": [],
    }

    ran: list[Any] = []
    monkeypatch.setattr(module, name, _after_real(getattr(module, name), ran))
    failed = post_visit(client, token, body)
    monkeypatch.undo()

    assert len(ran) == 1, "the failure must come after the real step ran"
    if name == "claim":
        assert ran == [True]  # the seats really were claimed in the transaction
    if name == "convert_hold":
        assert len(ran[0]) == CELLS_PER_VISIT  # the hold really became the visit's claims
    assert failed.status_code == 500, failed.text
    [error] = failed.json()["errors"]
    assert error["code"] == "internal-error"
    assert len(error["meta"]["error-id"]) == 32
    assert error["meta"]["error-id"] in error["detail"]
    assert "injected" not in failed.text  # internals never leak
    assert _state(session_factory, jti) == before

    booked = post_visit(client, token, body)
    assert booked.status_code == 201, booked.text
    number = booked.json()["data"]["attributes"]["confirmation-number"]
    # SQLite's counter rolled back with the failure; a PostgreSQL sequence leaves a gap.
    assert number == 1 if engine.dialect.name == "sqlite" else number >= 1
    after = _state(session_factory, jti)
    assert after["confirmation_numbers"] == [number]
    assert after["visits"] == 1
    assert after["claims"] == [(0, True, False)] * CELLS_PER_VISIT
    assert after["token_used"] is True
    assert after["token_visit"] is not None


@pytest.mark.parametrize("same_body", [True, False], ids=["same-body", "different-body"])
def test_the_same_token_twice_at_once_never_books_twice(
    same_body: bool,
    engine: Engine,
    client: ApiClient,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both requests get past the "token already used?" check before either commits
    (where the database allows it: SQLite's BEGIN IMMEDIATE serialises them instead)."""
    tenant = _tenant(session_factory, 30)
    if engine.dialect.name == "postgresql":  # else the first booking creates it, and retries
        repository.create_confirmation_sequence(engine, tenant.health_system_pk)
    token = mint(client, tenant.key, SOLO, SLOT)
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    bodies = [visit_body(SOLO, SLOT, "Twin"), visit_body(SOLO, SLOT, "Twin" if same_body else "X")]

    # Hold both requests after their token check until both are there (or 1 s passed: on
    # SQLite the second is still waiting for the write lock the first one holds).
    meeting = threading.Barrier(2)
    real_facts = repository.cached_booking_facts  # what visit_service imported by name
    arrivals: list[int] = []

    def rendezvous(*args: Any, **kwargs: Any) -> Any:
        arrivals.append(1)
        if len(arrivals) <= 2:
            with contextlib.suppress(threading.BrokenBarrierError):
                meeting.wait(timeout=1.0)
        return real_facts(*args, **kwargs)

    monkeypatch.setattr(visit_service, "cached_booking_facts", rendezvous)
    outcomes = fire_together([lambda b=b: post_visit(client, token, b) for b in bodies])  # type: ignore[misc]

    # PostgreSQL: both really were past the token check at once (the loser then hit the
    # unique token key, was retried, and found the token used). SQLite: the write lock
    # taken at BEGIN kept the second out until the first had committed.
    assert len(arrivals) == (2 if engine.dialect.name == "postgresql" else 1)
    statuses = sorted(o.status for o in outcomes)
    if same_body:
        assert statuses == [200, 201], outcomes
        first, second = outcomes
        assert first.body == second.body
    else:
        assert statuses == [201, 401], outcomes
        [refused] = [o for o in outcomes if o.status == 401]
        assert refused.codes == ["token-used"]
    state = _state(session_factory, jti)
    assert state["visits"] == 1
    assert state["claims"] == [(0, True, False)] * CELLS_PER_VISIT
    assert state["confirmation_numbers"] == [1]
    assert state["token_used"] is True
