"""What a change does to booked visits (pure): the rules before and after, and the visits
the change would leave outside hours, in a blocked range or over capacity.

Only conflicts the change introduces are listed: a visit an earlier change kept as an
overbooking is not asked about again unless this change conflicts with it in a new way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from inquicker.availability.engine import cell_starts
from inquicker.availability.rules import BlockedRange, DateException, OpenRange, ScheduleRules
from inquicker.scheduling.changes import InvalidChangeError, Problem, ScheduleChange
from inquicker.scheduling.repository import BookedSeats, ScheduleState

OUTSIDE_HOURS = "outside-hours"
BLOCKED = "blocked"
OVER_CAPACITY = "over-capacity"


@dataclass(frozen=True)
class Conflict:
    visit: BookedSeats
    reason: str  # outside-hours | blocked | over-capacity


def rules_of(state: ScheduleState, change: ScheduleChange | None = None) -> ScheduleRules:
    """The schedule's rules as stored, or as they would be after ``change``.

    Raises InvalidChangeError for what only the stored rows can tell: unknown block ids, and new
    blocks overlapping kept ones.
    """
    weekly = [OpenRange(w, o, c) for w, o, c in state.weekly]
    exceptions = [(e.on_date, e.opens, e.closes) for e in state.exceptions]
    blocks = [(b.pk, b.starts_at, b.ends_at) for b in state.blocks]
    slot, capacity, lead = state.slot_minutes, state.capacity, state.lead_minutes
    if change is not None:
        problems = _check_against_stored(state, change)
        if problems:
            raise InvalidChangeError(problems)
        if change.weekly_hours is not None:
            weekly = [OpenRange(h.weekday, h.opens, h.closes) for h in change.weekly_hours]
        replaced = {*change.remove_exceptions, *(e.on_date for e in change.add_exceptions)}
        exceptions = [e for e in exceptions if e[0] not in replaced]
        exceptions += [(e.on_date, e.opens, e.closes) for e in change.add_exceptions]
        removed = set(change.remove_blocks)
        blocks = [b for b in blocks if b[0] not in removed]
        blocks += [(0, b.starts_at, b.ends_at) for b in change.add_blocks]
        slot = change.slot_minutes if change.slot_minutes is not None else slot
        capacity = change.capacity if change.capacity is not None else capacity
        lead = change.lead_minutes if change.lead_minutes is not None else lead
    return ScheduleRules(
        time_zone=state.time_zone,
        slot_minutes=slot,
        capacity=capacity,
        lead_minutes=lead,
        horizon_days=state.horizon_days,
        weekly=tuple(weekly),
        exceptions=_date_exceptions(exceptions),
        blocked=tuple(BlockedRange(s, e) for _, s, e in blocks),
    )


def _date_exceptions(
    rows: Sequence[tuple[date, time | None, time | None]],
) -> tuple[DateException, ...]:
    ranges: dict[date, list[tuple[time, time]]] = {}
    closed: set[date] = set()
    for on, opens, closes in rows:
        if opens is None or closes is None:
            closed.add(on)
        else:
            ranges.setdefault(on, []).append((opens, closes))
    return tuple(
        DateException(on, () if on in closed else tuple(sorted(ranges[on])))
        for on in sorted(closed | set(ranges))
    )


def _check_against_stored(state: ScheduleState, change: ScheduleChange) -> list[Problem]:
    problems: list[Problem] = []
    known = {b.pk for b in state.blocks}
    for i, pk in enumerate(change.remove_blocks):
        if pk not in known:
            detail = f"This schedule has no block with id '{pk}'."
            problems.append(
                Problem(422, "unknown-block", f"/data/attributes/remove-blocks/{i}", detail)
            )
    removed = set(change.remove_blocks)
    kept = [b for b in state.blocks if b.pk not in removed]
    for i, new in enumerate(change.add_blocks):
        for old in kept:
            if new.starts_at < old.ends_at and old.starts_at < new.ends_at:
                problems.append(
                    Problem(
                        422,
                        "overlapping-ranges",
                        f"/data/attributes/add-blocks/{i}",
                        f"Overlaps block {old.pk}; remove it or change this one.",
                    )
                )
                break
    return problems


def conflicts(
    before: ScheduleRules, after: ScheduleRules, visits: Sequence[BookedSeats]
) -> list[Conflict]:
    """The visits ``after`` conflicts with that ``before`` did not (in that way), by time."""
    old = _verdicts(before, visits)
    new = _verdicts(after, visits)
    return [Conflict(v, new[v.pk]) for v in visits if v.pk in new and old.get(v.pk) != new[v.pk]]


def _verdicts(rules: ScheduleRules, visits: Sequence[BookedSeats]) -> dict[int, str]:
    if not visits:
        return {}
    slot = rules.slot_seconds
    low = min(min(v.cells) for v in visits)
    high = max(max(v.cells) for v in visits) + slot
    cells = set(cell_starts(rules, low, high))
    open_cells = set(cell_starts(rules, low, high, honour_blocked=False))
    seats = Counter(cell for v in visits for cell in v.cells)
    out: dict[int, str] = {}
    for v in visits:
        if not cells.issuperset(v.cells):
            out[v.pk] = BLOCKED if open_cells.issuperset(v.cells) else OUTSIDE_HOURS
        elif any(seats[cell] > rules.capacity for cell in v.cells):
            out[v.pk] = OVER_CAPACITY
    return out
