"""The availability engine: pure functions from a schedule's rules to offered start times.

No I/O and no database: the caller loads the rules and the seats taken, then calls

- ``ScheduleRules(time_zone, slot_minutes, capacity=1, lead_minutes=0, horizon_days=90,
  weekly=(OpenRange(weekday, opens, closes), ...),
  exceptions=(DateException(on_date, ranges=((opens, closes), ...)), ...))`` -- validated
  on construction (ValueError / ZoneInfoNotFoundError). Weekday 0 is Monday. An exception
  with no ranges closes its date; otherwise its ranges replace that date's weekly ranges
  (if a date has both kinds, closed wins). Several ranges per day may be given; each lays
  out its own cells. ``blocked=(BlockedRange(starts, ends), ...)`` (aware instants) takes
  every cell overlapping a range out of the open hours.
- ``offered_times(rules, duration_minutes, taken, window_start, window_end, now) -> list[int]``
  -- UTC epoch seconds, ascending, of the starts offered for an appointment type, where
  ``taken`` maps a cell's UTC start (epoch seconds) to the seats booked or held in it. A
  start t is offered iff window_start <= t < window_end, now + lead <= t < now + horizon
  days, and t, t + slot, ... (``cells_needed`` cells, elapsed time) are all cells with
  taken < capacity. The datetimes must be timezone-aware.
- ``covered_cells(rules, start, duration_minutes) -> list[int] | None`` -- the cells a
  booking at ``start`` claims, or None if the rules (ignoring seats, lead, horizon and
  window) do not allow that start.
- ``cells_needed(rules, duration_minutes) -> int`` -- ceil(duration / slot).
- ``explain_day(rules, duration_minutes, on, Seats(booked, held), now) -> list[GridTime]``
  (``availability.explain``) -- every grid time of a local date with the reason it is not
  offered (None when offered_times offers it); see that module for the reasons.
- ``format_times(times, time_zone) -> list[str]`` -- ISO 8601 local times with the UTC
  offset in force at each instant, seconds always present: "2026-03-09T09:00:00-04:00".

Cells are laid out in the schedule's wall clock per local date (a 09:00 opening stays 09:00
across DST): a wall time in a spring-forward gap has no cell, a wall time repeated by a
fall-back has two (one per offset).
"""

from inquicker.availability.engine import (
    BlockedRange,
    DateException,
    OpenRange,
    ScheduleRules,
    cells_needed,
    covered_cells,
    format_times,
    offered_times,
)

__all__ = [
    "BlockedRange",
    "DateException",
    "OpenRange",
    "ScheduleRules",
    "cells_needed",
    "covered_cells",
    "format_times",
    "offered_times",
]
