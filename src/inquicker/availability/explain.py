"""Why each grid time of a local date is, or is not, offered (SPEC section 12b). Pure.

``explain_day`` classifies every grid time of one local date of a schedule: the slot grid
from local midnight (00:00, 00:00 + slot, ... before 24:00) together with every cell start
of that date's open ranges (a range opening off the midnight grid, e.g. at 09:10, adds its
own starts), so every time ``offered_times`` can offer on that date is listed. A wall time
repeated by a fall-back is listed once per offset; one skipped by a spring-forward is
listed once with reason ``nonexistent-local-time``.

It reads the rules through the engine's own functions (``cell_starts``, ``bookable_bounds``,
``cells_needed``), and a start gets no reason exactly when ``offered_times`` offers it (a
hypothesis property in tests/availability/test_explain_properties.py holds the two
together). Reasons, first match wins, so a staff member sees the most structural cause:

1. ``nonexistent-local-time`` -- the wall time falls in a DST gap.
2. ``closed`` / ``exception`` -- the start is not in the open hours. ``exception`` when the
   date has a date exception and the weekly hours would have had this start; ``closed``
   otherwise (a time the weekly hours never open is "closed" even on an exception date).
3. ``blocked`` -- the start, or a later cell the duration needs, is in a blocked range.
4. ``duration-overruns-hours`` -- the start is a cell, but the appointment would run past
   the end of its open range (into a break, past closing, or into a DST gap).
5. ``before-lead-time`` / ``after-horizon`` -- too soon (or past) / too far ahead.
6. ``full`` -- a cell it needs has every seat taken by booked visits (or capacity 0).
7. ``held`` -- seats remain only under live visit-token holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any, Literal, get_args

from inquicker.availability.engine import bookable_bounds, cell_starts, cells_needed
from inquicker.availability.rules import ScheduleRules
from inquicker.availability.zones import (
    DAY,
    EPOCH_ORDINAL,
    format_times,
    local_day_segments,
    offset_suffix,
)

Reason = Literal[
    "closed",
    "exception",
    "blocked",
    "before-lead-time",
    "after-horizon",
    "full",
    "held",
    "duration-overruns-hours",
    "nonexistent-local-time",
]
REASONS: tuple[Reason, ...] = get_args(Reason)


@dataclass(frozen=True, slots=True)
class Seats:
    """Seats taken per cell start (UTC epoch seconds): by visits, and by live holds."""

    booked: Mapping[int, int]
    held: Mapping[int, int]

    def taken(self) -> dict[int, int]:
        """Both together, as ``offered_times`` counts them."""
        out = dict(self.booked)
        for cell, seats in self.held.items():
            out[cell] = out.get(cell, 0) + seats
        return out


@dataclass(frozen=True, slots=True)
class GridTime:
    """One grid time of the date and its verdict.

    ``instant`` is None for a wall time in a DST gap; ``offset`` is the UTC offset in force
    (for a gap, the one in force just before it, as RFC 5545 reads a nonexistent time).
    """

    wall: int  # seconds after local midnight
    instant: int | None
    offset: int
    reason: Reason | None

    @property
    def offered(self) -> bool:
        return self.reason is None


def local_day(on: date) -> int:
    """A local date as days since 1970-01-01 (the engine's day numbers)."""
    return on.toordinal() - EPOCH_ORDINAL


def explain_day(
    rules: ScheduleRules, duration_minutes: int, on: date, seats: Seats, now: datetime
) -> list[GridTime]:
    """Every grid time of local date ``on``, ascending in elapsed time, with its reason."""
    needed = cells_needed(rules, duration_minutes)
    slot = rules.slot_seconds
    day = local_day(on)
    grid = _grid(rules, day)
    instants = [g.instant for g in grid if g.instant is not None]
    if not instants:  # a whole day can vanish (Samoa skipped 2011-12-30)
        return grid
    low, high = min(instants), max(instants) + needed * slot
    cells = set(cell_starts(rules, low, high))
    open_cells = (
        set(cell_starts(rules, low, high, honour_blocked=False)) if rules.blocked_seconds else cells
    )
    earliest, latest = bookable_bounds(rules, now)
    # Wall times the weekly hours would open on this date: outside them, "closed" explains
    # better than "exception", even on an exception date.
    weekly_walls = _walls(rules.weekly_ranges_on(day), slot) if rules.has_exception_on(day) else ()
    capacity = rules.capacity
    booked, held = seats.booked, seats.held

    def reason(start: int, wall: int) -> Reason | None:
        steps = range(start, start + needed * slot, slot)
        if start not in open_cells:
            return "exception" if wall in weekly_walls else "closed"
        missing = next((cell for cell in steps if cell not in cells), None)
        if missing is not None:
            return "blocked" if missing in open_cells else "duration-overruns-hours"
        if start < earliest:
            return "before-lead-time"
        if start >= latest:
            return "after-horizon"
        if capacity < 1 or any(booked.get(cell, 0) >= capacity for cell in steps):
            return "full"
        if any(booked.get(cell, 0) + held.get(cell, 0) >= capacity for cell in steps):
            return "held"
        return None

    return [
        g if g.instant is None else GridTime(g.wall, g.instant, g.offset, reason(g.instant, g.wall))
        for g in grid
    ]


def render(grid: list[GridTime], on: date, time_zone: str) -> list[dict[str, Any]]:
    """The explain endpoint's array: ``{"time", "offered", "reason"}`` per grid time.

    A real instant is written as section 5 writes it (local time and offset); a wall time
    in a DST gap as that wall time with the offset in force just before the gap, e.g.
    ``2026-03-08T02:30:00-05:00`` (RFC 5545's reading of a nonexistent local time). Such a
    text names the same instant as a later, existing time, so clients must go by
    ``reason``, never compare it as an instant.
    """
    real = iter(format_times([g.instant for g in grid if g.instant is not None], time_zone))
    prefix = on.isoformat() + "T"
    out: list[dict[str, Any]] = []
    for g in grid:
        text = next(real) if g.instant is not None else prefix + _clock(g.wall, g.offset)
        out.append({"time": text, "offered": g.reason is None, "reason": g.reason})
    return out


# --- the grid ------------------------------------------------------------------------------


def _walls(ranges: tuple[tuple[int, int], ...], slot: int) -> frozenset[int]:
    """Cell starts (seconds after local midnight) that open ranges lay out."""
    return frozenset(
        wall
        for opens, closes in ranges
        for wall in range(opens, opens + (closes - opens) // slot * slot, slot)
    )


def _grid(rules: ScheduleRules, day: int) -> list[GridTime]:
    """The date's grid times, unclassified (gap times already carry their reason)."""
    slot = rules.slot_seconds
    walls = sorted(set(range(0, DAY, slot)) | _walls(rules.ranges_on(day), slot))
    segments = local_day_segments(rules.time_zone, day)
    midnight = day * DAY
    keyed: list[tuple[tuple[int, int, int], GridTime]] = []
    for wall in walls:
        local = midnight + wall
        found = False
        # A wall time exists once per segment whose UTC span holds local - offset.
        for seg_start, seg_end, offset in segments:
            instant = local - offset
            if seg_start <= instant < seg_end:
                found = True
                keyed.append(((instant, 1, wall), GridTime(wall, instant, offset, None)))
        if not found:
            # In a gap: between segments whose clocks jump over `local`. Listed at the
            # transition, before the first time that exists after it.
            for (_, end, before), (_, _, after) in pairwise(segments):
                if end + before <= local < end + after:
                    gap = GridTime(wall, None, before, "nonexistent-local-time")
                    keyed.append(((end, 0, wall), gap))
                    break
    keyed.sort(key=lambda pair: pair[0])
    return [g for _, g in keyed]


def _clock(wall: int, offset: int) -> str:
    hours, rest = divmod(wall, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{offset_suffix(offset)}"
