"""Offered times kept per (schedule, seat-claims version, cells needed, UTC day).

What a schedule offers in a span depends on its rules, its claims and which holds are still
live, never on who asks or when (lead time, horizon and the window are cuts of the result,
made per request). So the free starts of each UTC day are computed once, formatted once
(as the JSON strings of the answer) and reused until one of these changes:

- the rules: the entry keeps the ``ScheduleRules`` it was computed from, and the catalog
  memo hands out a new object when the tenant's data version changes;
- the claims: ``seat_claim_versions`` (migration 0014) is bumped by database triggers in the
  transaction of every claim, hold, conversion and release, and read from the primary on
  every request, so a booking or a hold is gone from the very next answer, in any process;
- a hold lapsing, which frees its seat without any write: the entry keeps the earliest
  expiry of a live hold among its cells and is recomputed from then on.

The version is read before the claims. A booking committed between the two reads leaves
newer claims under an older version, which only means the next request recomputes; the
other order could keep a booked time as free.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from inquicker.availability.engine import free_starts
from inquicker.availability.models import SeatClaim, SeatClaimVersion
from inquicker.availability.rules import ScheduleRules
from inquicker.availability.zones import DAY, format_times
from inquicker.cache import BoundedCache

# About 5,000 schedule-days of a 15-minute grid (~1.6 KB each with their keys).
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
NEVER = 2**62
_ENTRY_OVERHEAD = 400  # the key, the entry and the arrays' headers, roughly

_VERSIONS = select(SeatClaimVersion.schedule_pk, SeatClaimVersion.version).where(
    SeatClaimVersion.schedule_pk.in_(bindparam("pks", expanding=True))
)
# Seats per cell, and the earliest expiry of a live hold there (NULL: visits only).
_SEATS = (
    select(
        SeatClaim.schedule_pk,
        SeatClaim.cell_start,
        func.count(),
        func.min(SeatClaim.expires_at),
    )
    .where(
        SeatClaim.schedule_pk.in_(bindparam("pks", expanding=True)),
        SeatClaim.cell_start >= bindparam("first"),
        SeatClaim.cell_start < bindparam("last"),
        or_(SeatClaim.expires_at.is_(None), SeatClaim.expires_at > bindparam("now")),
    )
    .group_by(SeatClaim.schedule_pk, SeatClaim.cell_start)
)


@dataclass(frozen=True, slots=True)
class FreeDay:
    """The offered starts of one UTC day, with their JSON texts."""

    rules: ScheduleRules
    version: int
    valid_until: int  # the earliest expiry of a live hold in the day's cells, or NEVER
    starts: array[int]  # ascending UTC epoch seconds
    texts: bytes  # '"2026-03-09T09:00:00-04:00","…"': the strings, comma-separated
    ends: array[int]  # ends[i]: the offset just after the i-th string in texts

    def between(self, low: int, high: int) -> bytes:
        """The texts of the starts in [low, high), comma-separated."""
        starts = self.starts
        if not starts:
            return b""
        first = 0 if low <= starts[0] else bisect_left(starts, low)
        stop = len(starts) if high > starts[-1] else bisect_left(starts, high)
        if first >= stop:
            return b""
        if first == 0 and stop == len(starts):
            return self.texts
        return self.texts[self.ends[first - 1] + 1 if first else 0 : self.ends[stop - 1]]


def _cost(day: FreeDay) -> int:
    return len(day.texts) + 12 * len(day.starts) + _ENTRY_OVERHEAD


@dataclass(frozen=True, slots=True)
class Wanted:
    """One schedule of a request: its rules, the cells an appointment needs, and the span
    [low, high) of starts asked for, already cut by lead time and horizon."""

    schedule_pk: int
    rules: ScheduleRules
    needed: int
    low: int
    high: int

    def offers_any(self) -> bool:
        return self.low < self.high and self.rules.capacity >= 1

    def days(self) -> range:
        return range(self.low // DAY, (self.high - 1) // DAY + 1)


DayKey = tuple[int, int, int]  # (schedule pk, cells needed, UTC day)


class FreeDays:
    """One app's kept days; thread-safe (request threads share it)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._days: BoundedCache[DayKey, FreeDay] = BoundedCache(max_bytes, cost=_cost)

    def __len__(self) -> int:
        return len(self._days)

    def offered_json(self, session: Session, wanted: Sequence[Wanted], now: int) -> list[bytes]:
        """For each wanted schedule, the JSON array of the times it offers (``b'[…]'``)."""
        live = [w for w in wanted if w.offers_any()]
        versions = claim_versions(session, sorted({w.schedule_pk for w in live}))
        found: dict[DayKey, FreeDay] = {}
        missing: dict[DayKey, Wanted] = {}
        for w in live:
            version = versions.get(w.schedule_pk, 0)
            for day in w.days():
                key = (w.schedule_pk, w.needed, day)
                if key in found or key in missing:
                    continue
                hit = self._days.get(key)
                if (
                    hit is not None
                    and hit.rules is w.rules
                    and hit.version == version
                    and now < hit.valid_until
                ):
                    found[key] = hit
                else:
                    missing[key] = w
        if missing:
            for key, computed in self._compute(session, missing, versions, now).items():
                self._days.put(key, computed)
                found[key] = computed
        out = []
        for w in wanted:
            if not w.offers_any():
                out.append(b"[]")
                continue
            parts = [
                part
                for day in w.days()
                if (part := found[(w.schedule_pk, w.needed, day)].between(w.low, w.high))
            ]
            out.append(b"[" + b",".join(parts) + b"]")
        return out

    def _compute(
        self,
        session: Session,
        missing: dict[DayKey, Wanted],
        versions: dict[int, int],
        now: int,
    ) -> dict[DayKey, FreeDay]:
        """The missing days, from one read of the claims of every schedule missing one."""
        first = min(day for _, _, day in missing) * DAY
        # A day's last starts need the cells after it (a longer appointment's tail).
        last = max(
            (day + 1) * DAY + (w.needed - 1) * w.rules.slot_seconds
            for (_, _, day), w in missing.items()
        )
        taken, expiries = seats_with_expiry(
            session, sorted({pk for pk, _, _ in missing}), first, last, now
        )
        out: dict[DayKey, FreeDay] = {}
        for (pk, needed, day), w in missing.items():
            seats = taken.get(pk, {})
            low, high = day * DAY, (day + 1) * DAY
            tail = high + (needed - 1) * w.rules.slot_seconds
            starts = free_starts(w.rules, needed, seats, low, high)
            strings = format_times(starts, w.rules.time_zone)
            ends = array("q")
            offset = -1
            for text in strings:  # ASCII: a JSON string is its text and two quotes
                offset += len(text) + 3  # the comma before it, the text, its quotes
                ends.append(offset)
            out[(pk, needed, day)] = FreeDay(
                rules=w.rules,
                version=versions.get(pk, 0),
                valid_until=min(
                    (e for cell, e in expiries.get(pk, {}).items() if low <= cell < tail),
                    default=NEVER,
                ),
                starts=array("q", starts),
                texts=orjson.dumps(strings)[1:-1],
                ends=ends,
            )
        return out


def claim_versions(session: Session, schedule_pks: Sequence[int]) -> dict[int, int]:
    """The current seat-claims version of each schedule (0: never claimed)."""
    if not schedule_pks:
        return {}
    rows = session.connection().execute(_VERSIONS, {"pks": list(schedule_pks)}).all()
    return {pk: version for pk, version in rows}


def seats_with_expiry(
    session: Session, schedule_pks: Sequence[int], first: int, last: int, now: int
) -> tuple[dict[int, dict[int, int]], dict[int, dict[int, int]]]:
    """Per schedule: seats taken per cell start in [first, last) by visits and live holds,
    and the earliest expiry of a live hold per cell that has one."""
    params = {"pks": list(schedule_pks), "first": first, "last": last, "now": now}
    taken: dict[int, dict[int, int]] = {}
    expiries: dict[int, dict[int, int]] = {}
    for pk, cell, count, expiry in session.connection().execute(_SEATS, params).all():
        taken.setdefault(pk, {})[cell] = count
        if expiry is not None:
            expiries.setdefault(pk, {})[cell] = expiry
    return taken, expiries
