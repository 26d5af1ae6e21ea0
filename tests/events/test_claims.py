"""Claims: leases, a killed worker's lease running out, and concurrent claimers."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from inquicker.events.delivery import claim
from inquicker.events.fanout import fan_out
from inquicker.events.sequencer import assign_positions
from tests.events.conftest import World


def _prepared(world: World, visits: int) -> None:
    world.subscribe("http://127.0.0.1:9/")
    for n in range(visits):
        world.visit(f"P{n}", minute=30 * n)
    with world.engine.begin() as conn:
        assign_positions(conn)
    with world.engine.begin() as conn:
        assert fan_out(conn, int(world.clock.now)) == visits


def test_a_killed_workers_lease_runs_out_within_60_seconds(world: World) -> None:
    _prepared(world, 2)
    now = int(world.clock.now)
    with world.engine.begin() as conn:
        assert len(claim(conn, now, limit=10)) == 2  # ...and the worker dies unrecorded
    for later in (1, 30, 59):
        with world.engine.begin() as conn:
            assert claim(conn, now + later, limit=10) == []
    with world.engine.begin() as conn:
        again = claim(conn, now + 60, limit=10)
    assert sorted(c.delivery_pk for c in again) == sorted(d.pk for d in world.deliveries())
    assert {d.lease_until for d in world.deliveries()} == {now + 120}


def test_claims_take_the_oldest_positions_first_up_to_the_limit(world: World) -> None:
    _prepared(world, 5)
    with world.engine.begin() as conn:
        first = claim(conn, int(world.clock.now), limit=3)
    positions = {d.pk: d.position for d in world.deliveries()}
    assert [positions[c.delivery_pk] for c in first] == sorted(positions.values())[:3]


# SKIP LOCKED claims are PostgreSQL's; SQLite runs one worker.
@pytest.mark.postgres
def test_concurrent_claimers_skip_each_others_rows(world: World, engine: Engine) -> None:
    _prepared(world, 6)
    now = int(world.clock.now)
    with engine.connect() as first, engine.connect() as second, first.begin():
        mine = claim(first, now, limit=4)
        # The first transaction still holds its row locks: the second skips them.
        with second.begin():
            theirs = claim(second, now, limit=10)
    assert len(mine) == 4
    assert len(theirs) == 2
    assert not {c.delivery_pk for c in mine} & {c.delivery_pk for c in theirs}
