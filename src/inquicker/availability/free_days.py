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
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from inquicker.availability.engine import free_starts
from inquicker.availability.models import SeatClaimVersion
from inquicker.availability.repository import seats_with_expiry
from inquicker.availability.rules import ScheduleRules
from inquicker.availability.zones import DAY, format_times
from inquicker.cache import BoundedCache

# About 2,700 schedule-days of a 15-minute grid (~1.5 KB each); INQUICKER_AVAILABILITY_CACHE_BYTES.
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
NEVER = 2**62
_DAY_OVERHEAD = 300  # the FreeDay, its arrays' and bytes' headers, its dict slot, roughly
_SCHEDULE_OVERHEAD = 400  # the key, the cache entry, the KeptSchedule and its dict

_VERSIONS = select(SeatClaimVersion.schedule_pk, SeatClaimVersion.version).where(
    SeatClaimVersion.schedule_pk.in_(bindparam("pks", expanding=True))
)


@dataclass(frozen=True, slots=True)
class FreeDay:
    """The offered starts of one UTC day, with their JSON texts."""

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

    @property
    def cost(self) -> int:
        return len(self.texts) + 16 * len(self.starts) + _DAY_OVERHEAD


@dataclass(frozen=True, slots=True)
class KeptSchedule:
    """The days kept for one schedule and appointment length, under one version of its
    rules and claims. Never changed once stored: new days make a new one (copy on write),
    so request threads share it without a lock."""

    rules: ScheduleRules
    version: int
    days: dict[int, FreeDay]
    cost: int


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

    @property
    def key(self) -> tuple[int, int]:
        return self.schedule_pk, self.needed


def _kept_cost(kept: KeptSchedule) -> int:
    return kept.cost


class FreeDays:
    """One app's kept schedules, bounded in bytes; thread-safe (request threads share it)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._kept: BoundedCache[tuple[int, int], KeptSchedule] = BoundedCache(
            max_bytes, cost=_kept_cost
        )

    def __len__(self) -> int:
        return len(self._kept)

    def offered_json(self, session: Session, wanted: Sequence[Wanted], now: int) -> list[bytes]:
        """For each wanted schedule, the JSON array of the times it offers (``b'[…]'``)."""
        live = [w for w in wanted if w.offers_any()]
        versions = claim_versions(session, sorted({w.schedule_pk for w in live}))
        usable: dict[tuple[int, int], dict[int, FreeDay]] = {}
        missing: list[tuple[Wanted, list[int]]] = []
        for w in live:
            days = self._kept_days(w, versions.get(w.schedule_pk, 0))
            usable[w.key] = days
            lacking = [
                day
                for day in w.days()
                if (found := days.get(day)) is None or now >= found.valid_until
            ]
            if lacking:
                missing.append((w, lacking))
        if missing:
            self._compute(session, missing, usable, versions, now)
        out = []
        for w in wanted:
            if not w.offers_any():
                out.append(b"[]")
                continue
            days, low, high = usable[w.key], w.low, w.high
            parts = [part for day in w.days() if (part := days[day].between(low, high))]
            out.append(b"[" + b",".join(parts) + b"]")
        return out

    def _kept_days(self, w: Wanted, version: int) -> dict[int, FreeDay]:
        """The days kept for this schedule and length under these rules and claims."""
        kept = self._kept.get(w.key)
        if kept is None or kept.version != version:
            return {}
        if kept.rules is not w.rules:
            # The catalog memo reloads rules every few seconds (its TTL): equal rules keep
            # the days, and the kept entry takes the new object for the next request.
            if kept.rules != w.rules:
                return {}
            self._kept.put(w.key, KeptSchedule(w.rules, version, kept.days, kept.cost))
        return kept.days

    def _compute(
        self,
        session: Session,
        missing: list[tuple[Wanted, list[int]]],
        usable: dict[tuple[int, int], dict[int, FreeDay]],
        versions: dict[int, int],
        now: int,
    ) -> None:
        """Compute the missing days from one read of the claims of every schedule missing
        one, and keep them with the schedule's other live days."""
        first = min(lacking[0] for _, lacking in missing) * DAY
        # A day's last starts need the cells after it (a longer appointment's tail).
        last = max(
            (lacking[-1] + 1) * DAY + (w.needed - 1) * w.rules.slot_seconds
            for w, lacking in missing
        )
        taken, expiries = seats_with_expiry(
            session, sorted({w.schedule_pk for w, _ in missing}), first, last, now
        )
        today = now // DAY
        for w, lacking in missing:
            seats = taken.get(w.schedule_pk, {})
            holds = expiries.get(w.schedule_pk, {})
            # Days already past are never asked for again (lead time starts at now).
            days = {day: kept for day, kept in usable[w.key].items() if day >= today - 1}
            for day in lacking:
                days[day] = _free_day(w, day, seats, holds)
            usable[w.key] = days
            self._kept.put(
                w.key,
                KeptSchedule(
                    rules=w.rules,
                    version=versions.get(w.schedule_pk, 0),
                    days=days,
                    cost=_SCHEDULE_OVERHEAD + sum(day.cost for day in days.values()),
                ),
            )


def _free_day(w: Wanted, day: int, seats: dict[int, int], holds: dict[int, int]) -> FreeDay:
    low, high = day * DAY, (day + 1) * DAY
    tail = high + (w.needed - 1) * w.rules.slot_seconds
    starts = free_starts(w.rules, w.needed, seats, low, high)
    strings = format_times(starts, w.rules.time_zone)
    ends = array("q")
    offset = -1
    for text in strings:  # ASCII: a JSON string is its text and two quotes
        offset += len(text) + 3  # the comma before it, the text, its quotes
        ends.append(offset)
    return FreeDay(
        valid_until=min((e for cell, e in holds.items() if low <= cell < tail), default=NEVER),
        starts=array("q", starts),
        texts=orjson.dumps(strings)[1:-1],
        ends=ends,
    )


def claim_versions(session: Session, schedule_pks: Sequence[int]) -> dict[int, int]:
    """The current seat-claims version of each schedule (0: never claimed)."""
    if not schedule_pks:
        return {}
    rows = session.connection().execute(_VERSIONS, {"pks": list(schedule_pks)}).all()
    return {pk: version for pk, version in rows}
