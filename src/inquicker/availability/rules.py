"""A schedule's booking rules as plain, validated, immutable data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from inquicker.availability.zones import EPOCH_ORDINAL, epoch_ceil, epoch_floor, zone

# Seconds of a local day: a wall-clock range as (opens, closes) seconds after midnight.
SecondsRange = tuple[int, int]


def _range_seconds(opens: time, closes: time) -> SecondsRange:
    """Validate a wall-clock range and return it as seconds after local midnight."""
    if opens.tzinfo is not None or closes.tzinfo is not None:
        raise ValueError("open ranges are local wall-clock times without tzinfo")
    # A cell starts exactly at `opens`, and cells are whole seconds.
    if opens.microsecond:
        raise ValueError(f"opening time {opens} must be a whole second")
    if closes <= opens:
        raise ValueError(f"closing time {closes} must be after opening time {opens}")
    # Flooring is exact: an integer cell end is <= closes iff it is <= floor(closes), so
    # time(23, 59, 59, 999999) works as "end of day".
    return (
        opens.hour * 3600 + opens.minute * 60 + opens.second,
        closes.hour * 3600 + closes.minute * 60 + closes.second,
    )


@dataclass(frozen=True, slots=True)
class OpenRange:
    """Weekly open hours: on `weekday` (0 = Monday .. 6 = Sunday) from `opens` to `closes`."""

    weekday: int
    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), not {self.weekday}")
        _range_seconds(self.opens, self.closes)


@dataclass(frozen=True, slots=True)
class DateException:
    """Hours for one local date: no ranges = closed all day, else these replace the weekly ones."""

    on_date: date
    ranges: tuple[tuple[time, time], ...] = ()

    def __post_init__(self) -> None:
        for opens, closes in self.ranges:
            _range_seconds(opens, closes)


@dataclass(frozen=True, slots=True)
class BlockedRange:
    """Time taken out of open hours (a meeting, an absence), from `starts` to `ends`.

    Absolute, timezone-aware instants rather than wall-clock times: staff block "this
    afternoon", and an instant range needs no DST reading. A cell is blocked when it
    overlaps the range at all, so a block from 10:05 takes out the 10:00 cell.
    """

    starts: datetime
    ends: datetime

    def __post_init__(self) -> None:
        if self.starts.utcoffset() is None or self.ends.utcoffset() is None:
            raise ValueError("blocked ranges are timezone-aware instants")
        if self.ends <= self.starts:
            raise ValueError(f"a blocked range must end after it starts ({self.starts})")

    def seconds(self) -> tuple[int, int]:
        """[starts, ends) as UTC epoch seconds (a partial second counts as blocked)."""
        return epoch_floor(self.starts), epoch_ceil(self.ends)


@dataclass(frozen=True, slots=True)
class ScheduleRules:
    """Everything that decides a schedule's cells, in the schedule's own IANA time zone.

    `capacity` is seats per cell; a time must start at or after now + `lead_minutes` and
    before now + `horizon_days` days (elapsed time).
    """

    time_zone: str
    slot_minutes: int
    capacity: int = 1
    lead_minutes: int = 0
    horizon_days: int = 90
    weekly: tuple[OpenRange, ...] = ()
    exceptions: tuple[DateException, ...] = ()
    # Stored in schedule_blocks; operators add and remove them (operators/schedules.py).
    blocked: tuple[BlockedRange, ...] = ()
    # Derived once at construction so each availability call only does arithmetic.
    _weekly_seconds: tuple[tuple[SecondsRange, ...], ...] = field(
        init=False, repr=False, compare=False
    )
    _exception_seconds: dict[int, tuple[SecondsRange, ...]] = field(
        init=False, repr=False, compare=False
    )
    _blocked_seconds: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        zone(self.time_zone)  # fail fast on an unknown zone name
        if not 1 <= self.slot_minutes <= 1440:
            raise ValueError(f"slot_minutes must be 1 .. 1440, not {self.slot_minutes}")
        if self.capacity < 0 or self.lead_minutes < 0 or self.horizon_days < 0:
            raise ValueError("capacity, lead_minutes and horizon_days must not be negative")

        by_weekday: list[list[SecondsRange]] = [[] for _ in range(7)]
        for weekly in self.weekly:
            by_weekday[weekly.weekday].append(_range_seconds(weekly.opens, weekly.closes))
        object.__setattr__(
            self, "_weekly_seconds", tuple(tuple(sorted(set(r))) for r in by_weekday)
        )

        replaced: dict[int, list[SecondsRange]] = {}
        closed: set[int] = set()
        for exception in self.exceptions:
            day = exception.on_date.toordinal() - EPOCH_ORDINAL
            if not exception.ranges:
                closed.add(day)
            for opens, closes in exception.ranges:
                replaced.setdefault(day, []).append(_range_seconds(opens, closes))
        # "Closed" wins over replacement hours on the same date: offering nothing is the
        # safe reading of contradictory data.
        by_day = {day: tuple(sorted(set(r))) for day, r in replaced.items()}
        by_day.update(dict.fromkeys(closed, ()))
        object.__setattr__(self, "_exception_seconds", by_day)
        object.__setattr__(
            self, "_blocked_seconds", tuple(sorted(b.seconds() for b in self.blocked))
        )

    @property
    def slot_seconds(self) -> int:
        """Length of one cell in seconds."""
        return self.slot_minutes * 60

    @property
    def blocked_seconds(self) -> tuple[tuple[int, int], ...]:
        """Blocked ranges as [start, end) UTC epoch seconds, sorted by start."""
        return self._blocked_seconds

    def weekly_ranges_on(self, day: int) -> tuple[SecondsRange, ...]:
        """The weekly open ranges of local day `day`'s weekday, whatever its exceptions."""
        # 1970-01-01 was a Thursday (weekday 3).
        return self._weekly_seconds[(day + 3) % 7]

    def has_exception_on(self, day: int) -> bool:
        """Whether local day `day` (days since 1970-01-01) has a date exception."""
        return day in self._exception_seconds

    def ranges_on(self, day: int) -> tuple[SecondsRange, ...]:
        """Open ranges (seconds after local midnight) of local day `day` (days since 1970-01-01)."""
        ranges = self._exception_seconds.get(day)
        if ranges is not None:
            return ranges
        return self.weekly_ranges_on(day)
