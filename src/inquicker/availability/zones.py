"""Time-zone arithmetic over integer UTC seconds, and ISO 8601 formatting.

A zone's UTC offset is piecewise constant; we find the pieces ("segments") per UTC day once
and cache them, so the engine converts whole ranges of wall-clock times with integer
arithmetic instead of one zoneinfo call per cell.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

DAY = 86_400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_SECOND = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Real zones change offset at most a few times a year, weeks apart, so between two probes
# 6 hours apart there is at most one change, which bisection then pins to the second.
_PROBE = 6 * 3600

# (start, end, offset): UTC seconds [start, end) during which the zone's offset is `offset`.
Segment = tuple[int, int, int]


@cache
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name (raises ZoneInfoNotFoundError if unknown)."""
    return ZoneInfo(name)


def epoch_ceil(moment: datetime) -> int:
    """The smallest whole UTC epoch second at or after an aware datetime."""
    if moment.utcoffset() is None:
        raise ValueError("datetimes passed to the availability engine must be timezone-aware")
    # Exact integer arithmetic; float timestamps could round a microsecond the wrong way.
    return -((_EPOCH - moment) // _ONE_SECOND)


def epoch_floor(moment: datetime) -> int:
    """The largest whole UTC epoch second at or before an aware datetime."""
    if moment.utcoffset() is None:
        raise ValueError("datetimes passed to the availability engine must be timezone-aware")
    return (moment - _EPOCH) // _ONE_SECOND


def offset_at(name: str, instant: int) -> int:
    """The zone's UTC offset in seconds at a UTC instant."""
    offset = datetime.fromtimestamp(instant, zone(name)).utcoffset()
    assert offset is not None  # always set for a ZoneInfo-aware datetime
    return offset // _ONE_SECOND


@lru_cache(maxsize=65_536)
def utc_day_segments(name: str, day: int) -> tuple[Segment, ...]:
    """The offset segments covering UTC day `day` (days since 1970-01-01), clipped to it."""
    start, end = day * DAY, (day + 1) * DAY
    probes = [*range(start, end, _PROBE), end - 1]
    offsets = [offset_at(name, p) for p in probes]
    segments: list[Segment] = []
    seg_start, seg_offset = start, offsets[0]
    for before, after, off_before, off_after in zip(
        probes, probes[1:], offsets, offsets[1:], strict=False
    ):
        if off_before == off_after:
            continue
        # Bisect for the first second with the new offset.
        low, high = before, after
        while high - low > 1:
            middle = (low + high) // 2
            if offset_at(name, middle) == off_before:
                low = middle
            else:
                high = middle
        segments.append((seg_start, high, seg_offset))
        seg_start, seg_offset = high, off_after
    segments.append((seg_start, end, seg_offset))
    return tuple(segments)


@lru_cache(maxsize=65_536)
def local_day_segments(name: str, day: int) -> tuple[Segment, ...]:
    """Offset segments covering every instant whose wall clock can fall on local day `day`."""
    # Offsets stay within +-1 day, so UTC days day-1 .. day+1 cover the local day.
    merged: list[Segment] = []
    for utc_day in (day - 1, day, day + 1):
        for segment in utc_day_segments(name, utc_day):
            if merged and merged[-1][2] == segment[2]:
                merged[-1] = (merged[-1][0], segment[1], segment[2])
            else:
                merged.append(segment)
    return tuple(merged)


def segment_at(name: str, instant: int) -> Segment:
    """The offset segment (clipped to its UTC day) containing a UTC instant."""
    segments = utc_day_segments(name, instant // DAY)
    return next(segment for segment in segments if instant < segment[1])


def offset_bounds(name: str, first: int, last: int) -> tuple[int, int]:
    """The smallest and largest UTC offset the zone uses between two UTC instants."""
    offsets = [
        offset
        for day in range(first // DAY, last // DAY + 1)
        for _, _, offset in utc_day_segments(name, day)
    ]
    return min(offsets), max(offsets)


def offset_suffix(offset: int) -> str:
    """An offset as datetime.isoformat renders it: +HH:MM, or +HH:MM:SS for odd seconds."""
    sign = "-" if offset < 0 else "+"
    hours, rest = divmod(abs(offset), 3600)
    minutes, seconds = divmod(rest, 60)
    if seconds:
        return f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{sign}{hours:02d}:{minutes:02d}"


@cache
def _clock_texts(offset: int) -> dict[int, str]:
    """Clock texts such as 09:00:00-04:00 by second of the local day, filled on demand.

    A plain dict (not one with __missing__) because subscripting a dict subclass is
    markedly slower in the formatting loop.
    """
    return {}


def _fill_clock_texts(texts: dict[int, str], offset: int, seconds: Sequence[int]) -> None:
    suffix = offset_suffix(offset)
    for second in seconds:
        if second not in texts:
            hours, rest = divmod(second, 3600)
            minutes, secs = divmod(rest, 60)
            texts[second] = f"{hours:02d}:{minutes:02d}:{secs:02d}{suffix}"


@lru_cache(maxsize=4096)
def _date_prefix(day: int) -> str:
    return date.fromordinal(day + EPOCH_ORDINAL).isoformat() + "T"


def _span(name: str, instant: int) -> tuple[int, int, int, int, str]:
    """Around an instant, the UTC span [low, high) with one local date and one offset.

    Also returns the UTC instant of that local midnight, the offset, and the date text.
    """
    seg_start, seg_end, offset = segment_at(name, instant)
    day = (instant + offset) // DAY
    midnight = day * DAY - offset
    low, high = max(seg_start, midnight), min(seg_end, midnight + DAY)
    return low, high, midnight, offset, _date_prefix(day)


def format_times(times: Sequence[int], time_zone: str) -> list[str]:
    """UTC epoch seconds as ISO 8601 local times with offset, e.g. 2026-03-09T09:00:00-04:00."""
    zone(time_zone)
    out: list[str] = []
    index, total = 0, len(times)
    while index < total:
        low, high, midnight, offset, prefix = _span(time_zone, times[index])
        # Sorted input (the usual case) is formatted a whole span per comprehension.
        stop = bisect_left(times, high, index)
        chunk = times[index:stop]
        if stop <= index or min(chunk) < low or max(chunk) >= high:
            chunk, stop = times[index : index + 1], index + 1
        clocks = _clock_texts(offset)
        try:
            out += [prefix + clocks[instant - midnight] for instant in chunk]
        except KeyError:
            _fill_clock_texts(clocks, offset, [instant - midnight for instant in chunk])
            out += [prefix + clocks[instant - midnight] for instant in chunk]
        index = stop
    return out


def clear_caches() -> None:
    """Forget cached offsets and texts, so a benchmark can measure a cold start."""
    for cached in (utc_day_segments, local_day_segments, _date_prefix, _clock_texts):
        cached.cache_clear()
