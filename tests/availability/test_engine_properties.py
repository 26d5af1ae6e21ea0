"""Properties of the availability engine over random rules, seats, windows and time zones.

A straightforward datetime-based reference (one zoneinfo round trip per wall time) checks
the engine's integer arithmetic, and each promised rule is also checked on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inquicker.availability import (
    DateException,
    OpenRange,
    ScheduleRules,
    cells_needed,
    covered_cells,
    format_times,
    offered_times,
)

# Each zone with the local dates of its 2026 offset changes (Lord Howe moves by only 30
# minutes), so that windows often straddle one; zones without DST get an ordinary date.
TRANSITIONS = {
    "America/New_York": ("2026-03-08", "2026-11-01"),
    "Europe/London": ("2026-03-29", "2026-10-25"),
    "Australia/Lord_Howe": ("2026-04-05", "2026-10-04"),
    "Asia/Kolkata": ("2026-06-15",),
    "UTC": ("2026-06-15",),
}
ZONES = tuple(TRANSITIONS)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass(frozen=True)
class Case:
    rules: ScheduleRules
    duration: int
    window_start: datetime
    window_end: datetime
    now: datetime

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.rules.time_zone)

    def local_dates(self) -> list[date]:
        """Every local date a relevant cell can fall on, with a day to spare each side."""
        first = self.window_start.astimezone(self.zone).date() - timedelta(days=2)
        last = self.window_end.astimezone(self.zone).date() + timedelta(days=2)
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _minutes(value: int) -> time:
    return time(value // 60, value % 60)


@st.composite
def ranges(draw: st.DrawFn) -> tuple[time, time]:
    """A wall-clock range, often on a 5-minute grid and often over the small hours."""
    step = draw(st.sampled_from([5, 5, 5, 1]))
    latest = draw(st.sampled_from([240, 1430]))  # DST changes happen around 01:00-03:00
    opens = draw(st.integers(0, latest // step)) * step
    closes = draw(st.integers(opens + 1, min(1439, opens + 600)))
    return _minutes(opens), _minutes(closes)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from(ZONES))
    weekly = tuple(
        OpenRange(weekday, opens, closes)
        for weekday in range(7)
        for opens, closes in draw(st.lists(ranges(), min_size=1, max_size=2))
    )
    anchor = date.fromisoformat(draw(st.sampled_from(TRANSITIONS[zone])))
    anchor += timedelta(days=draw(st.integers(-2, 1)))
    exceptions = tuple(
        DateException(anchor + timedelta(days=shift), tuple(draw(st.lists(ranges(), max_size=2))))
        for shift in draw(st.lists(st.integers(-1, 3), max_size=2))
    )
    rules = ScheduleRules(
        time_zone=zone,
        slot_minutes=draw(st.sampled_from([5, 10, 15, 30])),
        capacity=draw(st.integers(1, 3)),
        lead_minutes=draw(st.sampled_from([0, 0, 30, 90, 600])),
        horizon_days=draw(st.sampled_from([1, 3, 5, 5, 0])),
        weekly=weekly,
        exceptions=exceptions,
    )
    window_start = datetime.combine(anchor, time(), ZoneInfo(zone)) + timedelta(
        minutes=draw(st.integers(0, 24 * 60))
    )
    window_end = window_start + timedelta(minutes=draw(st.integers(0, 72 * 60)))
    # Mostly a little before the window, so lead and horizon matter without emptying it.
    now = window_start - timedelta(minutes=draw(st.integers(-6 * 60, 2 * 24 * 60)))
    duration = draw(st.sampled_from([5, 15, 30, 45, 60]) | st.integers(1, 100))
    return Case(rules, duration, window_start, window_end, now.astimezone(UTC))


def open_ranges(rules: ScheduleRules, on: date) -> list[tuple[time, time]]:
    """The reference reading of the rules for one local date."""
    exceptions = [e for e in rules.exceptions if e.on_date == on]
    if exceptions:
        if any(not e.ranges for e in exceptions):
            return []
        return [r for e in exceptions for r in e.ranges]
    return [(r.opens, r.closes) for r in rules.weekly if r.weekday == on.weekday()]


def reference_cells(case: Case) -> set[int]:
    """Cells by brute force: every wall time, both folds, kept if it round-trips."""
    zone, slot = case.zone, timedelta(minutes=case.rules.slot_minutes)
    cells: set[int] = set()
    for on in case.local_dates():
        for opens, closes in open_ranges(case.rules, on):
            wall, end = datetime.combine(on, opens), datetime.combine(on, closes)
            while wall + slot <= end:
                for fold in (0, 1):
                    instant = int(wall.replace(tzinfo=zone, fold=fold).timestamp())
                    if datetime.fromtimestamp(instant, zone).replace(tzinfo=None) == wall:
                        cells.add(instant)
                wall += slot
    return cells


def reference_offered(case: Case, taken: dict[int, int]) -> list[int]:
    rules = case.rules
    cells = reference_cells(case)
    earliest = max(case.window_start, case.now + timedelta(minutes=rules.lead_minutes))
    latest = min(case.window_end, case.now + timedelta(days=rules.horizon_days))
    slot = rules.slot_minutes * 60
    needed = cells_needed(rules, case.duration)
    return [
        start
        for start in sorted(cells)
        if earliest <= datetime.fromtimestamp(start, UTC) < latest
        and all(
            start + k * slot in cells and taken.get(start + k * slot, 0) < rules.capacity
            for k in range(needed)
        )
    ]


@st.composite
def cases_with_seats(draw: st.DrawFn) -> tuple[Case, dict[int, int]]:
    case = draw(cases())
    # Seats near the window, where they can matter.
    near = (case.window_start - timedelta(hours=2), case.window_end + timedelta(hours=2))
    cells = [
        cell
        for cell in sorted(reference_cells(case))
        if near[0] <= datetime.fromtimestamp(cell, UTC) < near[1]
    ]
    chosen = draw(st.lists(st.sampled_from(cells), max_size=20)) if cells else []
    taken = {cell: draw(st.integers(0, case.rules.capacity + 1)) for cell in chosen}
    return case, taken


def run(case: Case, taken: dict[int, int]) -> list[int]:
    return offered_times(
        case.rules, case.duration, taken, case.window_start, case.window_end, case.now
    )


def within_open_hours(rules: ScheduleRules, wall: datetime, *, as_end: bool = False) -> bool:
    """Whether a naive local wall time lies in an open range of its date (end: closes allowed)."""
    moment = wall.time()
    for opens, closes in open_ranges(rules, wall.date()):
        if (opens < moment <= closes) if as_end else (opens <= moment < closes):
            return True
    return False


@PROPERTY_SETTINGS
@given(cases_with_seats())
def test_matches_the_brute_force_reference(example: tuple[Case, dict[int, int]]) -> None:
    case, taken = example
    assert run(case, taken) == reference_offered(case, taken)


@PROPERTY_SETTINGS
@given(cases_with_seats())
def test_offered_times_respect_hours_window_and_seats(
    example: tuple[Case, dict[int, int]],
) -> None:
    case, taken = example
    rules, zone = case.rules, case.zone
    slot = timedelta(minutes=rules.slot_minutes)
    times = run(case, taken)
    assert all(a < b for a, b in pairwise(times))
    for start in times:
        moment = datetime.fromtimestamp(start, UTC)
        assert case.window_start <= moment < case.window_end
        assert case.now + timedelta(minutes=rules.lead_minutes) <= moment
        assert moment < case.now + timedelta(days=rules.horizon_days)

        cells = covered_cells(rules, start, case.duration)
        assert cells is not None
        assert len(cells) == cells_needed(rules, case.duration)
        for cell in cells:
            assert taken.get(cell, 0) < rules.capacity
            wall = datetime.fromtimestamp(cell, zone).replace(tzinfo=None)
            assert within_open_hours(rules, wall)
            assert within_open_hours(rules, wall + slot, as_end=True)

        end = datetime.fromtimestamp(start + case.duration * 60, zone)
        last = datetime.fromtimestamp(cells[-1], zone)
        # A wall clock that jumps inside the last cell may show a later end; otherwise the
        # appointment ends within open hours.
        if end.utcoffset() == last.utcoffset():
            assert within_open_hours(rules, end.replace(tzinfo=None), as_end=True)


@PROPERTY_SETTINGS
@given(cases_with_seats(), st.data())
def test_taking_a_seat_never_adds_times(
    example: tuple[Case, dict[int, int]], data: st.DataObject
) -> None:
    case, taken = example
    before = run(case, taken)
    cells = sorted(reference_cells(case))
    if not cells:
        return
    cell = data.draw(st.sampled_from(cells))
    after = run(case, {**taken, cell: taken.get(cell, 0) + 1})
    assert set(after) <= set(before)
    # Exactly the starts whose cells include a now-full cell disappear.
    full = taken.get(cell, 0) + 1 >= case.rules.capacity
    lost = {
        start
        for start in before
        if full and cell in (covered_cells(case.rules, start, case.duration) or [])
    }
    assert set(before) - set(after) == lost


@PROPERTY_SETTINGS
@given(cases())
def test_every_cell_start_is_a_valid_booking_start(case: Case) -> None:
    rules = case.rules
    cells = reference_cells(case)
    for cell in sorted(cells)[:50]:
        assert covered_cells(rules, cell, rules.slot_minutes) == [cell]
        off_grid = cell + 60
        if off_grid not in cells:
            assert covered_cells(rules, off_grid, rules.slot_minutes) is None


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.lists(st.integers(-(10**9), 4 * 10**9), max_size=30),
)
def test_format_times_matches_isoformat(zone: str, instants: list[int]) -> None:
    expected = [datetime.fromtimestamp(t, ZoneInfo(zone)).isoformat() for t in instants]
    assert format_times(instants, zone) == expected
    assert format_times(sorted(instants), zone) == sorted(
        expected, key=lambda text: datetime.fromisoformat(text)
    )
