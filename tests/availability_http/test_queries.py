"""Bulk loading: the statement count does not grow with the number of schedules."""

from __future__ import annotations

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from inquicker.availability.kept_times import KeptTimes
from inquicker.memo import Memo
from inquicker.tenancy.directory import FRESH_SECONDS, Directory
from inquicker.tenancy.models import HealthSystem
from tests.availability_http.fixture import (
    EXTRA_IDS,
    KOLKATA,
    NOW_EPOCH,
    NY_CLINIC,
    NY_GROUP,
    Avail,
    claim,
)
from tests.availability_http.helpers import get, ids, ok
from tests.conftest import ApiClient
from tests.support.statements import counting

TEN = [NY_CLINIC, NY_GROUP, KOLKATA, *EXTRA_IDS]


def _seed_claims(session_factory: sessionmaker[Session], avail: Avail) -> None:
    with session_factory() as session, session.begin():
        for n, schedule_id in enumerate(TEN):
            claim(session, avail.pks[schedule_id], f"2026-12-0{2 + n % 3}T14:00:00+00:00")
            claim(
                session,
                avail.pks[schedule_id],
                "2026-12-07T15:00:00+00:00",
                expires_at=NOW_EPOCH + 600,
            )


def _cold(api: ApiClient) -> None:
    """Forget memoised schedule rules, tenants, keys and kept availability, so both measured
    requests load them (however long the test takes: the tenant/key memo lapses by itself
    after a second)."""
    api.app.state.api.memo = Memo()  # type: ignore[attr-defined]
    api.app.state.api.kept_times = KeptTimes()  # type: ignore[attr-defined]
    api.app.state.api.directory = Directory()  # type: ignore[attr-defined]


def test_statement_count_is_independent_of_schedule_count(
    api: ApiClient, avail: Avail, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    assert len(TEN) == 10
    _seed_claims(session_factory, avail)
    ok(get(api, ids(NY_CLINIC), avail.key))  # warm up: the key's first use is recorded

    _cold(api)
    with counting(engine) as one:
        assert len(ok(get(api, ids(NY_CLINIC), avail.key))) == 1
    _cold(api)
    with counting(engine) as ten:
        body = ok(get(api, ids(*TEN), avail.key))
    assert [e["schedule-id"] for e in body] == TEN
    assert all(e["times"] for e in body)
    assert len(ten) == len(one), (one, ten)
    assert len(one) <= 12, one


def test_statement_count_with_type_and_window(
    api: ApiClient, avail: Avail, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    _seed_claims(session_factory, avail)
    params = [("appointment_type", "quick-check"), ("from", "2026-12-02"), ("to", "2026-12-20")]
    ok(get(api, [*ids(NY_CLINIC), *params], avail.key))

    _cold(api)
    with counting(engine) as one:
        ok(get(api, [*ids(NY_CLINIC), *params], avail.key))
    _cold(api)
    with counting(engine) as ten:
        ok(get(api, [*ids(*TEN), *params], avail.key))
    assert len(ten) == len(one), (one, ten)


def test_schedule_rules_are_memoised_until_the_data_version_changes(
    api: ApiClient, avail: Avail, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    seconds = [0.0]
    api.app.state.api.directory = Directory(clock=lambda: seconds[0])  # type: ignore[attr-defined]
    ok(get(api, ids(*TEN), avail.key))
    with counting(engine) as warm:
        ok(get(api, ids(*TEN), avail.key))
    # BEGIN (SQLite only), claim versions, COMMIT: no rule tables read (site and key
    # memoised too), and no claims either: none changed, so every day is kept
    # (availability/kept_times.py).
    assert not [s for s in warm if "schedule_hours" in s or "schedule_exceptions" in s]
    assert [s for s in warm if "seat_claim_versions" in s]
    assert not [s for s in warm if "seat_claims" in s]
    # Another process's import: bumps the data version without this process knowing.
    with session_factory() as session, session.begin():
        session.execute(update(HealthSystem).values(data_version=HealthSystem.data_version + 1))
    seconds[0] += FRESH_SECONDS + 0.01  # the tenant's data version is read again
    with counting(engine) as bumped:
        ok(get(api, ids(*TEN), avail.key))
    assert [s for s in bumped if "schedule_hours" in s]
