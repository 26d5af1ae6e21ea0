"""Stored blocked ranges reach the one engine: availability, explain and visit tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from inquicker.catalog.schedule_models import Schedule, ScheduleBlock
from inquicker.tenancy.models import HealthSystem
from tests.availability_http.test_explain import EXPLAIN
from tests.booking_http.helpers import path, request_token, times
from tests.booking_http.world import CHEN_PC, World
from tests.conftest import ApiClient


def _block(factory: sessionmaker[Session], starts: datetime, ends: datetime) -> None:
    with factory() as session, session.begin():
        pk = session.scalar(select(Schedule.pk).where(Schedule.slug == CHEN_PC))
        assert pk is not None
        session.add(ScheduleBlock(schedule_pk=pk, starts_at=starts, ends_at=ends, reason="x"))
        # By hand, as docs/operations.md says: bump the data version so caches see it.
        session.execute(
            update(HealthSystem)
            .where(HealthSystem.slug == "winter-health")
            .values(data_version=HealthSystem.data_version + 1)
        )


def test_a_stored_block_hides_times_and_explain_says_blocked(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    before = times(api, world.book, CHEN_PC)
    assert "2026-12-03T14:00:00-05:00" in before
    # 14:00-15:05 New York: the 15:00 cell overlaps the last five minutes, so it goes too.
    _block(
        session_factory,
        datetime(2026, 12, 3, 19, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 20, 5, tzinfo=UTC),
    )
    after = times(api, world.book, CHEN_PC)
    gone = sorted(set(before) - set(after))
    assert gone[0] == "2026-12-03T14:00:00-05:00"
    assert "2026-12-03T15:00:00-05:00" in gone
    assert "2026-12-03T15:15:00-05:00" not in gone
    assert "2026-12-03T13:45:00-05:00" not in gone
    response = api.get(
        path(EXPLAIN), params={"schedule_id": CHEN_PC, "date": "2026-12-03", "api_key": world.book}
    )
    assert response.status_code == 200, response.text
    by_time = {e["time"]: e["reason"] for e in response.json()}
    assert by_time["2026-12-03T14:00:00-05:00"] == "blocked"
    assert by_time["2026-12-03T15:00:00-05:00"] == "blocked"
    assert by_time["2026-12-03T15:15:00-05:00"] is None
    token = request_token(api, world.book, CHEN_PC, "2026-12-03T14:30:00-05:00")
    assert token.status_code == 422, token.text
