"""Properties of explain_day: it offers exactly what offered_times offers, over random
rules (weekly hours, exceptions, blocked ranges), booked seats, holds, clocks and zones."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from inquicker.availability import BlockedRange, ScheduleRules, offered_times
from inquicker.availability.engine import cell_starts
from inquicker.availability.explain import REASONS, GridTime, Seats, explain_day
from tests.availability.test_engine_properties import PROPERTY_SETTINGS, cases


@dataclass(frozen=True)
class Example:
    rules: ScheduleRules
    duration: int
    on: date
    booked: dict[int, int]
    held: dict[int, int]
    now: datetime

    def explain(self, **changes: object) -> list[GridTime]:
        example = dataclasses.replace(self, **changes)  # type: ignore[arg-type]
        seats = Seats(example.booked, example.held)
        return explain_day(example.rules, example.duration, example.on, seats, example.now)

    def section_5(self) -> set[int]:
        """What section 5 offers on this local date, through a window well around it."""
        zone = ZoneInfo(self.rules.time_zone)
        start = datetime.combine(self.on - timedelta(days=2), time(), zone)
        taken = Seats(self.booked, self.held).taken()
        times = offered_times(
            self.rules, self.duration, taken, start, start + timedelta(days=5), self.now
        )
        return {t for t in times if datetime.fromtimestamp(t, zone).date() == self.on}


@st.composite
def examples(draw: st.DrawFn) -> Example:
    case = draw(cases())
    zone = ZoneInfo(case.rules.time_zone)
    on = case.window_start.astimezone(zone).date() + timedelta(days=draw(st.integers(-1, 1)))
    midnight = datetime.combine(on, time(), zone)
    blocked = tuple(
        BlockedRange(starts, starts + timedelta(minutes=draw(st.integers(1, 240))))
        for starts in (
            midnight + timedelta(minutes=m)
            for m in draw(st.lists(st.integers(-120, 26 * 60), max_size=3))
        )
    )
    rules = dataclasses.replace(case.rules, blocked=blocked)
    low = int(midnight.timestamp()) - 86_400
    cells = cell_starts(rules, low, low + 4 * 86_400, honour_blocked=False)
    capacity = rules.capacity

    def seats() -> dict[int, int]:
        chosen = draw(st.lists(st.sampled_from(cells), max_size=15)) if cells else []
        return {cell: draw(st.integers(1, capacity + 1)) for cell in chosen}

    return Example(rules, case.duration, on, seats(), seats(), case.now)


@PROPERTY_SETTINGS
@given(examples())
def test_explain_offers_exactly_what_section_5_offers(example: Example) -> None:
    grid = example.explain()
    offered = [g.instant for g in grid if g.offered]
    assert set(offered) == example.section_5()
    assert len(offered) == len(set(offered))


@PROPERTY_SETTINGS
@given(examples())
def test_every_grid_time_is_listed_once_per_existence(example: Example) -> None:
    grid = example.explain()
    rules = example.rules
    zone = ZoneInfo(rules.time_zone)
    slot = rules.slot_minutes * 60
    assert all(g.reason is None or g.reason in REASONS for g in grid)
    by_wall = Counter(g.wall for g in grid)
    for wall in range(0, 86_400, slot):
        local = datetime.combine(example.on, time()) + timedelta(seconds=wall)
        # Both folds, kept if they round-trip: 0 in a gap, 2 in a fall-back overlap.
        instants = {int(local.replace(tzinfo=zone, fold=fold).timestamp()) for fold in (0, 1)}
        real = {
            i for i in instants if datetime.fromtimestamp(i, zone).replace(tzinfo=None) == local
        }
        found = [g for g in grid if g.wall == wall]
        if real:
            assert {g.instant for g in found} == real
        else:
            assert [g.reason for g in found] == ["nonexistent-local-time"]
            assert found[0].instant is None
        assert by_wall[wall] == max(1, len(real))
    # Ascending in elapsed time (gap times sit at their transition).
    instants = [g.instant for g in grid if g.instant is not None]
    assert instants == sorted(instants)


@PROPERTY_SETTINGS
@given(examples())
def test_held_is_the_only_thing_releasing_holds_changes(example: Example) -> None:
    with_holds = example.explain()
    without = example.explain(held={})
    for before, after in zip(with_holds, without, strict=True):
        assert before.instant == after.instant
        if before.reason == "held":
            assert after.reason is None
        else:
            assert after.reason == before.reason


@PROPERTY_SETTINGS
@given(examples())
def test_blocked_is_the_only_thing_unblocking_changes(example: Example) -> None:
    blocked = example.explain()
    open_rules = dataclasses.replace(example.rules, blocked=())
    unblocked = example.explain(rules=open_rules)
    for before, after in zip(blocked, unblocked, strict=True):
        assert before.instant == after.instant
        if before.reason != "blocked":
            assert after.reason == before.reason
        else:
            assert after.reason != "blocked"


@PROPERTY_SETTINGS
@given(examples())
def test_no_offered_time_touches_a_blocked_range(example: Example) -> None:
    slot = example.rules.slot_minutes * 60
    spans = example.rules.blocked_seconds
    needed = -(-example.duration * 60 // slot)
    for g in example.explain():
        if g.offered and g.instant is not None:
            end = g.instant + needed * slot
            assert not any(g.instant < e and s < end for s, e in spans)


def test_now_must_be_aware() -> None:
    rules = ScheduleRules("UTC", 30)
    naive = datetime(2026, 1, 1)
    try:
        explain_day(rules, 30, date(2026, 1, 2), Seats({}, {}), naive)
    except ValueError as exc:
        assert "timezone-aware" in str(exc)
    else:  # pragma: no cover - the assertion above is the test
        raise AssertionError("a naive clock was accepted")
    assert explain_day(rules, 30, date(2026, 1, 2), Seats({}, {}), naive.replace(tzinfo=UTC))
