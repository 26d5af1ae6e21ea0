"""Which start times a schedule offers: cells from the rules, then seats, duration and window.

Instants are integer UTC epoch seconds throughout. A cell is one slot of an open range,
laid out in wall-clock time on each local date (opens, opens + slot, ... while the cell
ends by closes), then converted to UTC: a wall time skipped by a spring-forward gap yields
no cell, a repeated fall-back wall time yields two; a cell overlapping a blocked range is
no cell. A start is offered when it and the
following cells, stepping one slot of elapsed time at a time, are all cells with a free seat.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from datetime import datetime

from inquicker.availability.rules import BlockedRange, DateException, OpenRange, ScheduleRules
from inquicker.availability.zones import (
    DAY,
    epoch_ceil,
    format_times,
    local_day_segments,
    offset_bounds,
)

__all__ = [
    "BlockedRange",
    "DateException",
    "OpenRange",
    "ScheduleRules",
    "bookable_bounds",
    "bookable_bounds_at",
    "cell_starts",
    "cells_needed",
    "covered_cells",
    "cut_window",
    "format_times",
    "free_starts",
    "offer_bounds",
    "offered_times",
]


def cells_needed(rules: ScheduleRules, duration_minutes: int) -> int:
    """How many consecutive cells an appointment of this duration occupies."""
    if duration_minutes < 1:
        raise ValueError(f"duration_minutes must be positive, not {duration_minutes}")
    return -(-duration_minutes // rules.slot_minutes)


def bookable_bounds(rules: ScheduleRules, now: datetime) -> tuple[int, int]:
    """[earliest, latest) bookable start by lead time and horizon, as UTC epoch seconds.

    Explain and offered_times both read lead and horizon here, so they cannot disagree.
    """
    # Integer starts t satisfy t >= x iff t >= ceil(x), and t < x iff t < ceil(x).
    return bookable_bounds_at(rules, epoch_ceil(now))


def bookable_bounds_at(rules: ScheduleRules, now: int) -> tuple[int, int]:
    """``bookable_bounds`` for ``now`` in whole UTC epoch seconds (rounded up)."""
    return now + rules.lead_minutes * 60, now + rules.horizon_days * DAY


def cell_starts(
    rules: ScheduleRules, low: int, high: int, *, honour_blocked: bool = True
) -> list[int]:
    """All cell starts in [low, high), ascending and unique.

    ``honour_blocked=False`` gives the cells of the open hours alone, so explain can tell
    "blocked" from "closed".
    """
    cells = _open_cells(rules, low, high)
    if honour_blocked and rules.blocked_seconds:
        cells = _unblocked(cells, rules.blocked_seconds, rules.slot_seconds)
    return cells


def _unblocked(cells: list[int], blocked: tuple[tuple[int, int], ...], slot: int) -> list[int]:
    """The cells that overlap no blocked range: a cell [c, c + slot) overlaps [s, e) iff
    s - slot < c < e."""
    dropped: set[int] = set()
    for starts, ends in blocked:
        dropped.update(cells[bisect_right(cells, starts - slot) : bisect_left(cells, ends)])
    return [cell for cell in cells if cell not in dropped] if dropped else cells


def _open_cells(rules: ScheduleRules, low: int, high: int) -> list[int]:
    """Cell starts of the open hours (ignoring blocked ranges) in [low, high)."""
    if high <= low:
        return []
    name = rules.time_zone
    slot = rules.slot_seconds
    # Local days whose wall clock any instant in [low, high) can show; using the extreme
    # offsets keeps this right even where a fall-back moves the clock to the previous date.
    min_offset, max_offset = offset_bounds(name, low, high - 1)
    cells: list[int] = []
    extend = cells.extend
    # Cells come out ascending unless ranges overlap or a fall-back repeats wall times;
    # only then do we pay for sorting and de-duplicating.
    ordered = True
    for day in range((low + min_offset) // DAY, (high - 1 + max_offset) // DAY + 1):
        ranges = rules.ranges_on(day)
        if not ranges:
            continue
        midnight = day * DAY
        segments = local_day_segments(name, day)
        for opens, closes in ranges:
            count = (closes - opens) // slot
            if count <= 0:
                continue
            first_wall = midnight + opens
            if len(segments) == 1:
                # No offset change near this date (the usual case): plain arithmetic.
                start = first_wall - segments[0][2]
                if cells and start <= cells[-1]:
                    ordered = False
                extend(range(start, start + count * slot, slot))
                continue
            # A wall time exists once per segment whose UTC span contains wall - offset:
            # never inside a gap, twice in a fall-back overlap.
            for seg_start, seg_end, offset in segments:
                base = first_wall - offset
                first = max(0, -(-(seg_start - base) // slot))
                stop = min(count, -(-(seg_end - base) // slot))
                if first < stop:
                    start = base + first * slot
                    if cells and start <= cells[-1]:
                        ordered = False
                    extend(range(start, base + stop * slot, slot))
    if not ordered:
        cells = sorted(set(cells))
    return cells[bisect_left(cells, low) : bisect_left(cells, high)]


def offer_bounds(
    rules: ScheduleRules, window_start: datetime, window_end: datetime, now: datetime
) -> tuple[int, int]:
    """[low, high): the window cut by lead time and horizon, as UTC epoch seconds (empty when
    high <= low)."""
    # Integer starts t satisfy t >= x iff t >= ceil(x), and t < x iff t < ceil(x).
    return cut_window(rules, epoch_ceil(window_start), epoch_ceil(window_end), epoch_ceil(now))


def cut_window(rules: ScheduleRules, low: int, high: int, now: int) -> tuple[int, int]:
    """``offer_bounds`` in whole UTC epoch seconds (each rounded up)."""
    earliest, latest = bookable_bounds_at(rules, now)
    return max(low, earliest), min(high, latest)


def offered_times(
    rules: ScheduleRules,
    duration_minutes: int,
    taken: Mapping[int, int],
    window_start: datetime,
    window_end: datetime,
    now: datetime,
) -> list[int]:
    """Start instants (UTC epoch seconds, ascending) offered for an appointment duration."""
    needed = cells_needed(rules, duration_minutes)
    low, high = offer_bounds(rules, window_start, window_end, now)
    return free_starts(rules, needed, taken, low, high)


def free_starts(
    rules: ScheduleRules, needed: int, taken: Mapping[int, int], low: int, high: int
) -> list[int]:
    """Starts in [low, high) whose ``needed`` cells all exist and have a free seat.

    Lead time and horizon are the caller's (``offer_bounds``): what is free in a span does
    not depend on when one asks, so availability/kept_times.py keeps it per day.
    """
    if high <= low or rules.capacity < 1:
        return []
    slot = rules.slot_seconds
    # A start just before `high` still needs its later cells to be free.
    cells = cell_starts(rules, low, high + (needed - 1) * slot)
    capacity = rules.capacity
    if len(taken) <= 2 * len(cells):
        full = {cell for cell, seats in taken.items() if seats >= capacity}
        free = [cell for cell in cells if cell not in full] if full else cells
    else:  # a caller passing far more than the window: look up only what we need
        seats_in = taken.get
        free = [cell for cell in cells if seats_in(cell, 0) < capacity]
    starts = free[: bisect_left(free, high)]
    if needed > 1:
        free_set = set(free)
        # One cheap pass per extra cell rather than a generator per start.
        for step in range(slot, needed * slot, slot):
            starts = [start for start in starts if start + step in free_set]
    return starts


def covered_cells(rules: ScheduleRules, start: int, duration_minutes: int) -> list[int] | None:
    """The cells a booking at `start` occupies, or None if the rules do not allow that start.

    Seats, lead time, horizon and window are not considered: this is what a booking claims.
    """
    needed = cells_needed(rules, duration_minutes)
    slot = rules.slot_seconds
    wanted = list(range(start, start + needed * slot, slot))
    cells = set(cell_starts(rules, start, wanted[-1] + 1))
    return wanted if cells.issuperset(wanted) else None
