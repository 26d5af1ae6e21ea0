"""Offered times kept per (schedule, seat-claims version, cells needed, week).

What a schedule offers in a span depends on its rules, its claims and which holds are still
live, never on who asks or when (lead time, horizon and the window are cuts of the result,
made per request). So the free starts of each span of 7 UTC days are computed once,
formatted once (as the JSON strings of the answer) and reused until one of these changes:

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
from itertools import accumulate

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from inquicker.availability.engine import free_starts
from inquicker.availability.models import SeatClaimVersion
from inquicker.availability.repository import seats_with_expiry
from inquicker.availability.rules import ScheduleRules
from inquicker.availability.zones import DAY, format_times
from inquicker.cache import BoundedCache

# About 2,700 schedule-days of a 15-minute grid; INQUICKER_AVAILABILITY_CACHE_BYTES.
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
NEVER = 2**62
# Kept spans are weeks of UTC days: a 14-day window is 3 of them. A booking changes the
# whole schedule's version anyway, so shorter spans would only cost more objects per
# computation and more parts to splice per answer (days cost 1.6x the old per-window
# engine when nothing was kept; weeks cost what it did).
SPAN = 7 * DAY
_SPAN_OVERHEAD = 300  # the FreeSpan, its arrays' and bytes' headers, its dict slot, roughly
_SCHEDULE_OVERHEAD = 400  # the key, the cache entry, the KeptSchedule and its dict

_VERSIONS = select(SeatClaimVersion.schedule_pk, SeatClaimVersion.version).where(
    SeatClaimVersion.schedule_pk.in_(bindparam("pks", expanding=True))
)


@dataclass(frozen=True, slots=True)
class FreeSpan:
    """The offered starts of one span (SPAN seconds from a multiple of SPAN), with their
    JSON texts."""

    valid_until: int  # the earliest expiry of a live hold in the span's cells, or NEVER
    starts: array[int]  # ascending UTC epoch seconds
    texts: bytes  # '"2026-03-09T09:00:00-04:00","…"': the strings, comma-separated
    # Where the i-th string ends: at i * stride + stride - 1 when every string has the same
    # length (ISO 8601 with a ±HH:MM offset: all but zones' odd-second historical offsets);
    # else ends[i].
    stride: int
    ends: array[int] | None

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
        if self.ends is None:
            return self.texts[first * self.stride : stop * self.stride - 1]
        return self.texts[self.ends[first - 1] + 1 if first else 0 : self.ends[stop - 1]]

    @property
    def cost(self) -> int:
        return len(self.texts) + 8 * len(self.starts) + _SPAN_OVERHEAD


@dataclass(frozen=True, slots=True)
class KeptSchedule:
    """The spans kept for one schedule and appointment length, under one version of its
    rules and claims. Never changed once stored: new spans make a new one (copy on write),
    so request threads share it without a lock."""

    rules: ScheduleRules
    version: int
    spans: dict[int, FreeSpan]
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

    def spans(self) -> range:
        return range(self.low // SPAN, (self.high - 1) // SPAN + 1)

    @property
    def key(self) -> tuple[int, int]:
        return self.schedule_pk, self.needed


def _kept_cost(kept: KeptSchedule) -> int:
    return kept.cost


class KeptTimes:
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
        usable: dict[tuple[int, int], dict[int, FreeSpan]] = {}
        missing: list[tuple[Wanted, list[int]]] = []
        for w in live:
            spans = self._kept_spans(w, versions.get(w.schedule_pk, 0))
            usable[w.key] = spans
            lacking = [
                span
                for span in w.spans()
                if (found := spans.get(span)) is None or now >= found.valid_until
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
            spans, low, high = usable[w.key], w.low, w.high
            parts = [part for span in w.spans() if (part := spans[span].between(low, high))]
            out.append(b"[" + b",".join(parts) + b"]")
        return out

    def _kept_spans(self, w: Wanted, version: int) -> dict[int, FreeSpan]:
        """The spans kept for this schedule and length under these rules and claims."""
        kept = self._kept.get(w.key)
        if kept is None or kept.version != version:
            return {}
        if kept.rules is not w.rules:
            # The catalog memo reloads rules every few seconds (its TTL): equal rules keep
            # the spans, and the kept entry takes the new object for the next request.
            if kept.rules != w.rules:
                return {}
            self._kept.put(w.key, KeptSchedule(w.rules, version, kept.spans, kept.cost))
        return kept.spans

    def _compute(
        self,
        session: Session,
        missing: list[tuple[Wanted, list[int]]],
        usable: dict[tuple[int, int], dict[int, FreeSpan]],
        versions: dict[int, int],
        now: int,
    ) -> None:
        """Compute the missing spans from one read of the claims of every schedule missing
        one, and keep them with the schedule's other live spans."""
        # Nothing before yesterday is ever asked for: every request's starts are at or
        # after its own now (plus lead time), and a day's margin covers the requests in
        # flight that read the clock a moment before this one.
        first = max(min(lacking[0] for _, lacking in missing) * SPAN, (now // DAY - 1) * DAY)
        # A span's last starts need the cells after it (a longer appointment's tail).
        last = max(
            (lacking[-1] + 1) * SPAN + (w.needed - 1) * w.rules.slot_seconds
            for w, lacking in missing
        )
        taken, expiries = seats_with_expiry(
            session, sorted({w.schedule_pk for w, _ in missing}), first, last, now
        )
        current = now // SPAN
        for w, lacking in missing:
            seats = taken.get(w.schedule_pk, {})
            holds = expiries.get(w.schedule_pk, {})
            # Spans already past are never asked for again (lead time starts at now).
            spans = {span: kept for span, kept in usable[w.key].items() if span >= current}
            spans.update(_free_spans(w, lacking[0], lacking[-1], first, seats, holds))
            usable[w.key] = spans
            self._kept.put(
                w.key,
                KeptSchedule(
                    rules=w.rules,
                    version=versions.get(w.schedule_pk, 0),
                    spans=spans,
                    cost=_SCHEDULE_OVERHEAD + sum(span.cost for span in spans.values()),
                ),
            )


def _free_spans(
    w: Wanted,
    first: int,
    last: int,
    since: int,
    seats: dict[int, int],
    holds: dict[int, int],
) -> dict[int, FreeSpan]:
    """Spans ``first`` to ``last`` (every one between: the engine and the formatting run
    once over them, and what is free in a span is the union of its parts), holding the
    starts from ``since`` on."""
    low = max(first * SPAN, since)
    starts = free_starts(w.rules, w.needed, seats, low, (last + 1) * SPAN)
    strings = format_times(starts, w.rules.time_zone)
    tail = (w.needed - 1) * w.rules.slot_seconds
    out: dict[int, FreeSpan] = {}
    index = 0
    for span in range(first, last + 1):
        low, high = span * SPAN, (span + 1) * SPAN
        stop = bisect_left(starts, high, index)
        texts = strings[index:stop]
        # ASCII: each string takes its text, two quotes and a comma (none after the last).
        lengths = set(map(len, texts))
        ends = None
        if len(lengths) > 1:
            ends = array("q", accumulate([len(text) + 3 for text in texts], initial=-1))[1:]
        out[span] = FreeSpan(
            valid_until=min(
                (e for cell, e in holds.items() if low <= cell < high + tail), default=NEVER
            ),
            starts=array("q", starts[index:stop]),
            texts=orjson.dumps(texts)[1:-1],
            stride=lengths.pop() + 3 if len(lengths) == 1 else 0,
            ends=ends,
        )
        index = stop
    return out


def claim_versions(session: Session, schedule_pks: Sequence[int]) -> dict[int, int]:
    """The current seat-claims version of each schedule (0: never claimed)."""
    if not schedule_pks:
        return {}
    rows = session.connection().execute(_VERSIONS, {"pks": list(schedule_pks)}).all()
    return {pk: version for pk, version in rows}
