"""A schedule change as plain, validated data, parsed from JSON attributes (pure).

Syntax problems (a wrong type, an unreadable time or date) are 400; values that read but
cannot be (an inverted or overlapping range, a number out of bounds) are 422. Every problem
of one change comes back together, each with the JSON pointer of the offending value.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

# Bounds keep arithmetic and storage sane: a cell must fit in a day, a lead time in a year,
# a block in a year (longer absences are date exceptions).
MAX_CAPACITY = 1000
MAX_LEAD_MINUTES = 525_600
MAX_BLOCK = timedelta(days=366)
MAX_REASON = 200
MIN_YEAR, MAX_YEAR = 1900, 2200
ATTRIBUTES = (
    "weekly-hours",
    "add-exceptions",
    "remove-exceptions",
    "add-blocks",
    "remove-blocks",
    "capacity",
    "slot-minutes",
    "lead-minutes",
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a change: HTTP status, code, JSON pointer and a sentence."""

    status: int
    code: str
    pointer: str
    detail: str


class InvalidChangeError(Exception):
    """A change that cannot be applied; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the schedule change")
        self.problems = problems


@dataclass(frozen=True, order=True)
class Hours:
    weekday: int  # 0 = Monday .. 6 = Sunday
    opens: time
    closes: time


@dataclass(frozen=True)
class ExceptionSpec:
    on_date: date
    opens: time | None = None  # None and None: closed all day
    closes: time | None = None


@dataclass(frozen=True)
class BlockSpec:
    starts_at: datetime
    ends_at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class ScheduleChange:
    weekly_hours: tuple[Hours, ...] | None = None  # replaces every weekly range when given
    add_exceptions: tuple[ExceptionSpec, ...] = ()
    remove_exceptions: tuple[date, ...] = ()  # every exception of these dates
    add_blocks: tuple[BlockSpec, ...] = ()
    remove_blocks: tuple[int, ...] = ()  # block ids
    capacity: int | None = None
    slot_minutes: int | None = None
    lead_minutes: int | None = None
    problems: list[Problem] = field(default_factory=list, compare=False, repr=False)

    def changed(self) -> list[str]:
        """The attribute names this change touches (for the audit log)."""
        values = (
            self.weekly_hours,
            self.add_exceptions,
            self.remove_exceptions,
            self.add_blocks,
            self.remove_blocks,
            self.capacity,
            self.slot_minutes,
            self.lead_minutes,
        )
        return [name for name, v in zip(ATTRIBUTES, values, strict=True) if v not in (None, ())]


class _Reader:
    """Collects problems while reading values, so one answer lists them all."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.problems: list[Problem] = []

    def bad(self, pointer: str, detail: str, status: int = 400, code: str = "invalid") -> None:
        self.problems.append(Problem(status, code, self.base + pointer, detail))

    def items(self, value: Any, pointer: str) -> list[Any]:
        if not isinstance(value, list):
            self.bad(pointer, "Must be an array.")
            return []
        if len(value) > 500:
            self.bad(pointer, "At most 500 entries in one change.", 422, "too-many")
            return []
        return value

    def obj(self, value: Any, pointer: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            self.bad(pointer, "Must be an object.")
            return {}
        return value

    def integer(self, value: Any, pointer: str, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(pointer, "Must be an integer.")
            return None
        if not low <= value <= high:
            self.bad(pointer, f"Must be from {low} to {high}.", 422, "out-of-range")
            return None
        return value

    def clock(self, value: Any, pointer: str) -> time | None:
        # "24:00" closes a day: stored as the last second (the engine floors closes).
        if value == "24:00":
            return time(23, 59, 59)
        if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
            self.bad(pointer, "Must be a local time HH:MM (00:00 to 24:00).")
            return None
        try:
            return time.fromisoformat(value)
        except ValueError:
            self.bad(pointer, "Must be a local time HH:MM (00:00 to 24:00).")
            return None

    def day(self, value: Any, pointer: str) -> date | None:
        try:
            on = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
        except ValueError:
            on = None
        if on is None:
            self.bad(pointer, "Must be a date YYYY-MM-DD.")
            return None
        if not MIN_YEAR <= on.year <= MAX_YEAR:
            self.bad(pointer, f"Must be from {MIN_YEAR} to {MAX_YEAR}.", 422, "out-of-range")
            return None
        return on

    def instant(self, value: Any, pointer: str) -> datetime | None:
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.utcoffset() is None:
            self.bad(pointer, "Must be an ISO 8601 date-time with an offset or Z.")
            return None
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            self.bad(pointer, f"Must be from {MIN_YEAR} to {MAX_YEAR}.", 422, "out-of-range")
            return None
        return moment

    def span(self, opens: time | None, closes: time | None, pointer: str) -> bool:
        if opens is not None and closes is not None and closes <= opens:
            self.bad(pointer, "Must close after it opens.", 422, "inverted-range")
            return False
        return opens is not None and closes is not None


def parse(attributes: Any, base: str = "/data/attributes") -> ScheduleChange:
    """A change from its JSON attributes; raises InvalidChangeError listing every problem."""
    r = _Reader(base)
    attrs = r.obj(attributes, "")
    for name in attrs:
        if name not in ATTRIBUTES:
            r.bad(f"/{name}", f"Unknown attribute; known: {', '.join(ATTRIBUTES)}.")
    weekly = None
    if "weekly-hours" in attrs:
        weekly = tuple(_weekly(r, attrs["weekly-hours"]))
    change = ScheduleChange(
        weekly_hours=weekly,
        add_exceptions=tuple(_exceptions(r, attrs.get("add-exceptions", []))),
        remove_exceptions=tuple(
            d
            for i, v in enumerate(r.items(attrs.get("remove-exceptions", []), "/remove-exceptions"))
            if (d := r.day(v, f"/remove-exceptions/{i}")) is not None
        ),
        add_blocks=tuple(_blocks(r, attrs.get("add-blocks", []))),
        remove_blocks=tuple(
            pk
            for i, v in enumerate(r.items(attrs.get("remove-blocks", []), "/remove-blocks"))
            if (pk := _block_id(r, v, f"/remove-blocks/{i}")) is not None
        ),
        capacity=_optional(r, attrs, "capacity", 0, MAX_CAPACITY),
        slot_minutes=_optional(r, attrs, "slot-minutes", 1, 1440),
        lead_minutes=_optional(r, attrs, "lead-minutes", 0, MAX_LEAD_MINUTES),
    )
    if not r.problems and not change.changed():
        r.bad("", "The change changes nothing.", 422, "empty-change")
    if r.problems:
        raise InvalidChangeError(r.problems)
    return change


def _optional(r: _Reader, attrs: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    return r.integer(attrs[name], f"/{name}", low, high) if name in attrs else None


def _block_id(r: _Reader, value: Any, pointer: str) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    r.bad(pointer, "Must be a block id (a string of digits).")
    return None


def _weekly(r: _Reader, value: Any) -> Iterable[Hours]:
    found: list[tuple[Hours, str]] = []
    for i, item in enumerate(r.items(value, "/weekly-hours")):
        at = f"/weekly-hours/{i}"
        entry = r.obj(item, at)
        weekday = r.integer(entry.get("weekday"), at + "/weekday", 0, 6)
        opens = r.clock(entry.get("opens"), at + "/opens")
        closes = r.clock(entry.get("closes"), at + "/closes")
        if r.span(opens, closes, at) and weekday is not None:
            assert opens is not None and closes is not None
            found.append((Hours(weekday, opens, closes), at))
    found.sort(key=lambda pair: pair[0])
    for (a, _), (b, at) in itertools.pairwise(found):
        if a.weekday == b.weekday and b.opens < a.closes:
            r.bad(at, "Overlaps another range of the same weekday.", 422, "overlapping-ranges")
    return [hours for hours, _ in found]


def _exceptions(r: _Reader, value: Any) -> Iterable[ExceptionSpec]:
    found: list[tuple[ExceptionSpec, str]] = []
    for i, item in enumerate(r.items(value, "/add-exceptions")):
        at = f"/add-exceptions/{i}"
        entry = r.obj(item, at)
        on = r.day(entry.get("date"), at + "/date")
        raw_opens, raw_closes = entry.get("opens"), entry.get("closes")
        if (raw_opens is None) != (raw_closes is None):
            r.bad(at, "Give both opens and closes (other hours), or neither (closed).", 422)
            continue
        opens = r.clock(raw_opens, at + "/opens") if raw_opens is not None else None
        closes = r.clock(raw_closes, at + "/closes") if raw_closes is not None else None
        if raw_opens is not None and not r.span(opens, closes, at):
            continue
        if on is not None:
            found.append((ExceptionSpec(on, opens, closes), at))
    by_date: dict[date, list[tuple[ExceptionSpec, str]]] = {}
    for spec, at in found:
        by_date.setdefault(spec.on_date, []).append((spec, at))
    for specs in by_date.values():
        if len(specs) > 1 and any(s.opens is None for s, _ in specs):
            r.bad(specs[-1][1], "A date is either closed or has hours, not both.", 422)
        timed = sorted((s.opens, s.closes, at) for s, at in specs if s.opens is not None)
        for (_, a_closes, _), (b_opens, _, at) in itertools.pairwise(timed):
            assert a_closes is not None and b_opens is not None
            if b_opens < a_closes:
                r.bad(at, "Overlaps another range of the same date.", 422, "overlapping-ranges")
    return [spec for spec, _ in found]


def _blocks(r: _Reader, value: Any) -> Iterable[BlockSpec]:
    found: list[tuple[BlockSpec, str]] = []
    for i, item in enumerate(r.items(value, "/add-blocks")):
        at = f"/add-blocks/{i}"
        entry = r.obj(item, at)
        starts = r.instant(entry.get("starts-at"), at + "/starts-at")
        ends = r.instant(entry.get("ends-at"), at + "/ends-at")
        reason = entry.get("reason")
        if reason is not None and not isinstance(reason, str):
            r.bad(at + "/reason", "Must be a string.")
            reason = None
        elif reason is not None and len(reason) > MAX_REASON:
            r.bad(at + "/reason", f"At most {MAX_REASON} characters.", 422, "too-long")
        if starts is None or ends is None:
            continue
        if ends <= starts:
            r.bad(at, "ends-at must be after starts-at.", 422, "inverted-range")
        elif ends - starts > MAX_BLOCK:
            r.bad(at, "A block lasts at most 366 days (use date exceptions).", 422, "too-long")
        else:
            found.append((BlockSpec(starts, ends, (reason or "").strip() or None), at))
    found.sort(key=lambda pair: pair[0].starts_at)
    for (a, _), (b, at) in itertools.pairwise(found):
        if b.starts_at < a.ends_at:
            r.bad(at, "Overlaps another block of this change.", 422, "overlapping-ranges")
    return [spec for spec, _ in found]
