"""Slots from the availability engine: never stored, never computed a second way.

A start is ``free`` exactly when the engine offers it (what /available-appointment-times
answers); it is ``busy`` when the engine would offer it on an empty calendar (within hours,
lead time and horizon) but booked visits or live holds fill it. Free seats (the SMART
capacity extension) are the fewest left over the cells the appointment covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from inquicker.availability.engine import covered_cells, format_times, offered_times
from inquicker.availability.repository import BookableSchedule, OfferedType, seats_taken

DAY = 86_400


@dataclass(frozen=True)
class SlotTime:
    start: int  # UTC epoch seconds
    end: int
    free: bool
    seats: int  # free seats at this start (0 when busy)


def duration_of(schedule: BookableSchedule, offered: OfferedType | None) -> int:
    return offered.duration_minutes if offered else schedule.rules.slot_minutes


def slot_times(
    session: Session,
    wanted: Sequence[tuple[BookableSchedule, OfferedType | None]],
    window_start: datetime,
    window_end: datetime,
    now: datetime,
) -> dict[int, list[SlotTime]]:
    """Per schedule pk, its slots in [window_start, window_end), ascending."""
    first = int(window_start.timestamp()) - DAY
    last = int(window_end.timestamp()) + DAY
    taken = seats_taken(session, [s.pk for s, _ in wanted], first, last, int(now.timestamp()))
    out: dict[int, list[SlotTime]] = {}
    for schedule, offered in wanted:
        rules = schedule.rules
        minutes = duration_of(schedule, offered)
        here = taken.get(schedule.pk, {})
        free = set(offered_times(rules, minutes, here, window_start, window_end, now))
        slots = []
        for start in offered_times(rules, minutes, {}, window_start, window_end, now):
            seats = 0
            if start in free:
                cells = covered_cells(rules, start, minutes) or [start]
                seats = min(rules.capacity - here.get(cell, 0) for cell in cells)
            slots.append(SlotTime(start, start + minutes * 60, start in free, seats))
        out[schedule.pk] = slots
    return out


def local_pair(schedule: BookableSchedule, start: int, end: int) -> tuple[str, str]:
    """Start and end in the schedule's zone, with their offsets (as section 5 shows times)."""
    first, second = format_times([start, end], schedule.rules.time_zone)
    return first, second
